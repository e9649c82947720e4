"""Rules of the podc/v1 formats checked on the positioned tree, free of pydantic: merge directives
in the right places, ``raw.container`` keeping the container's name, names a project refers to.

Both the pydantic path (:mod:`podc.model.validate`) and the fast gate (:mod:`podc.model.gate`)
use these functions, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from podc.errors import Diagnostics, did_you_mean
from podc.model.constants import KEYED_LISTS, is_path_like
from podc.tree import MapNode, Node, ScalarNode, SeqNode, to_plain

__all__ = ["KEYED_LISTS", "check_directives", "check_raw_container",
           "check_references", "inline_layers", "display_path", "is_kubernetes_object"]

_DIRECTIVE_HINT = ("!replace goes on a mapping or list value; !delete (or $patch: delete) on a keyed list item or an "
                   "entry of env, volumes, secrets, initContainers or sidecars")


def display_path(path: list) -> str:
    out = ""
    for seg in path:
        out += f"[{seg}]" if isinstance(seg, int) else (f".{seg}" if out else str(seg))
    return out or "/"


def check_directives(root: MapNode, diags: Diagnostics, prefix: str = "layer") -> Any:
    """Report merge directives where they mean nothing (on the layer itself, in unkeyed lists,
    on ``secrets``, a ``!delete`` mapping anywhere but an entry of the friendly keyed maps) and
    return the layer as plain data, in ONE walk of the tree.

    ``raw`` fragments are left to the strategic merge, which defines ``$patch`` there.
    """
    if root.directive:
        diags.add(f"{prefix}.directive", f"a layer cannot be marked !{root.directive}", root.origin.pos,
                  hint=_DIRECTIVE_HINT)
    bad: list[tuple[Node, Any, tuple]] = []
    wrong: list[tuple[Node, tuple]] = []  # `!delete` on a whole mapping/list where it means nothing

    def plain(node: Node, key: Any, path: tuple) -> Any:
        kind = type(node)
        if kind is ScalarNode:
            return node.value  # type: ignore[union-attr]
        if kind is MapNode:
            # `name: !delete {…}` / `{$patch: delete}` removes one entry of env, volumes, secrets,
            # initContainers or sidecars (normalisation makes it a deleted list item). Elsewhere a
            # `!delete` mapping would reach the merge as a mapping and delete nothing (`key: null`,
            # or a scalar `key: !delete`, removes a key): an error, validated as null.
            out_map = {}
            for k, v in node.items.items():  # type: ignore[union-attr]
                if v.directive == "delete":
                    if type(v) is not ScalarNode and not _deletable_entry(tuple(_flatten(path))):
                        wrong.append((v, (path, k)))
                    out_map[k] = None
                else:
                    out_map[k] = plain(v, k, (path, k))
            return out_map
        keyed = key in KEYED_LISTS
        out = []
        for i, item in enumerate(node.items):  # type: ignore[union-attr]
            if item.directive == "delete" and (type(item) is ScalarNode or not keyed):
                bad.append((item, key, (path, i)))
            elif item.directive == "delete" and type(item) is MapNode:
                # A delete item needs only its key fields (the merge checks it names a key):
                # `{topologyKey: zone, $patch: delete}` must not be asked for maxSkew.
                continue
            out.append(plain(item, key if type(item) is SeqNode else i, (path, i)))
        return out

    data: dict[str, Any] = {}
    try:
        for key, value in root.items.items():
            if key == "secrets" and value.directive == "replace":
                diags.add(f"{prefix}.directive", "`secrets` cannot be replaced whole: its entries become volumes, "
                          "env vars and envFrom items", value.origin.pos, path="secrets",
                          hint="delete the Secrets you no longer want with `name: null`")
            if key == "raw":
                data[key] = to_plain(value)
            else:
                if value.directive == "delete" and type(value) is not ScalarNode:
                    wrong.append((value, ((), key)))
                data[key] = None if value.directive == "delete" else plain(value, key, ((), key))
    finally:
        del plain  # a recursive closure is a reference cycle: break it, or each layer leaves garbage
    for node, path in wrong:
        _whole_delete(node, _flatten(path), diags, prefix)
    for item, key, path in bad:
        where = display_path(_flatten(path))
        if isinstance(item, ScalarNode):
            diags.add(f"{prefix}.directive", "!delete on a list item needs the item's key", item.origin.pos,
                      path=where, hint="write the item as a mapping with its key, e.g. {name: regcred, $patch: delete}")
        else:
            diags.add(f"{prefix}.directive", f"`{key}` is replaced whole when layers merge; "
                      "its items cannot be deleted one by one", item.origin.pos, path=where,
                      hint=f"write the whole list with `{key}: !replace [...]`")
    return data


#: Friendly mappings whose ENTRIES become keyed list items (normalisation turns `name: !delete {…}`
#: into a deleted item); ``env`` also inside an init container or sidecar entry.
_DELETABLE_ENTRIES = (("env",), ("volumes",), ("secrets",), ("initContainers",), ("sidecars",))


def _deletable_entry(flat: tuple) -> bool:
    """True when the mapping at ``flat`` (its keys from the layer root) is one whose entries a
    `!delete` may remove."""
    if flat in _DELETABLE_ENTRIES:
        return True
    return len(flat) == 3 and flat[0] in ("initContainers", "sidecars") and flat[2] == "env"


def _whole_delete(node: Node, path: list, diags: Diagnostics, prefix: str) -> None:
    field = str(path[-1])
    where = display_path(path)
    if _deletable_entry(tuple(path)):
        hint = f"delete the entries earlier layers added one by one: `{field}: {{<name>: null}}`"
    else:
        hint = f"to remove `{field}` write `{field}: null`; to replace it whole use `{field}: !replace …`"
    diags.add(f"{prefix}.directive", f"`!delete` on the whole `{where}` means nothing: it removes one item of a "
              "list merged by key, or one entry of env, volumes, secrets, initContainers or sidecars",
              node.origin.pos, path=where, hint=hint)


def _flatten(path: tuple) -> list:
    out: list = []
    while path:
        path, seg = path
        out.append(seg)
    return out[::-1]


def check_raw_container(node: MapNode, container: str | None, diags: Diagnostics) -> None:
    """``raw.container`` patches the main container: it may repeat its name, not change it."""
    raw = node.items.get("raw")
    frag = raw.items.get("container") if isinstance(raw, MapNode) else None
    if not isinstance(frag, MapNode) or "name" not in frag.items:
        return
    name = frag.items["name"]
    declared = container or "main"
    if not isinstance(name, ScalarNode) or name.value != declared:
        diags.add("layer.raw-container-name", "raw.container patches the main container; it cannot rename it",
                  name.origin.pos, path="raw.container.name",
                  hint=f"set `container: <name>` at the top of the layer instead (now `{declared}`)")


def inline_layers(node: MapNode) -> list[MapNode]:
    out: list[MapNode] = []
    targets = node.items.get("targets")
    if not isinstance(targets, MapNode):
        return out
    for target in targets.items.values():
        if not isinstance(target, MapNode):
            continue
        if isinstance(target.items.get("overrides"), MapNode):
            out.append(target.items["overrides"])  # type: ignore[arg-type]
        profiles = target.items.get("profiles")
        if isinstance(profiles, MapNode):
            out.extend(v for v in profiles.items.values() if isinstance(v, MapNode))
    return out


def check_references(node: MapNode, layer_names: list[str], profile_names: list[str], default_profile: Any,
                     diags: Diagnostics) -> None:
    """Report profile and layer names the project uses but does not declare."""
    known_layers = frozenset(layer_names)  # membership per reference: a list scan is quadratic

    def unknown(kind: str, name: str, pos, choices: list[str], path: str) -> None:
        guess = did_you_mean(name, choices)
        hint = f"did you mean `{guess}`?" if guess else (
            f"known {kind}s: {', '.join(choices)}" if choices else f"declare it under `{kind}s:`")
        diags.add(f"project.unknown-{kind}", f"unknown {kind} `{name}`", pos, path=path, hint=hint)

    def check_layer_list(seq: Node | None, path: list) -> None:
        if not isinstance(seq, SeqNode):
            return
        for i, item in enumerate(seq.items):
            if isinstance(item, ScalarNode) and isinstance(item.value, str) and not is_path_like(item.value) \
                    and item.value not in known_layers:
                unknown("layer", item.value, item.origin.pos, layer_names, display_path(path + [i]))

    profiles = node.items.get("profiles")
    if isinstance(profiles, MapNode):
        for pname, seq in profiles.items.items():
            check_layer_list(seq, ["profiles", pname])
    default = node.items.get("defaultProfile")
    if default_profile is not None and default_profile not in profile_names and default is not None:
        unknown("profile", default_profile, default.origin.pos, profile_names, "defaultProfile")
    targets = node.items.get("targets")
    if not isinstance(targets, MapNode):
        return
    for tname, target in targets.items.items():
        if not isinstance(target, MapNode):
            continue
        check_layer_list(target.items.get("layers"), ["targets", tname, "layers"])
        tprofiles = target.items.get("profiles")
        if isinstance(tprofiles, MapNode):
            for pname in tprofiles.items:
                if pname not in profile_names:
                    unknown("profile", pname, tprofiles.key_pos.get(pname, tprofiles.origin.pos), profile_names,
                            display_path(["targets", tname, "profiles", pname]))


def is_kubernetes_object(node: MapNode, diags: Diagnostics) -> bool:
    """A pasted Kubernetes manifest is not a layer: say so once instead of one error per key."""
    kind = node.items.get("kind")
    api = node.items.get("apiVersion")
    if not isinstance(kind, ScalarNode) or kind.value in (None, "Layer", "Project"):
        return False
    if not (isinstance(api, ScalarNode) and isinstance(api.value, str) and api.value != "podc/v1"):
        return False
    diags.add("layer.kubernetes-object", f"this is a Kubernetes {kind.value} ({api.value}), not a podc layer",
              kind.origin.pos,
              hint="a layer can carry it under `raw:` (`raw: {job: <the Job>}`, or `raw: {podSpec: …}` for "
                   "the pod spec), so podc still adds defaults and checks it")
    return True
