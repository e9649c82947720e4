"""``validate_layer`` / ``validate_project``: positioned trees in, typed specs (or diagnostics) out."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from podc.errors import Diagnostics, did_you_mean
from podc.model.layer import LayerSpec
from podc.model.locate import display_path, report_errors
from podc.model.project import ProjectSpec, is_path_like
from podc.tree import MapNode, Node, ScalarNode, SeqNode, to_plain

__all__ = ["validate_layer", "validate_project", "check_directives", "KEYED_LISTS"]

#: Lists whose items are matched by a key when layers merge, so an item may carry ``$patch: delete``.
KEYED_LISTS = frozenset({
    "tolerations", "envFrom", "imagePullSecrets", "ports", "hostAliases", "topologySpreadConstraints", "env",
    "volumeMounts", "mounts", "containers", "initContainers", "ephemeralContainers", "volumes",
    "schedulingGates", "resourceClaims", "volumeDevices",
})

_DIRECTIVE_HINT = "!replace goes on a mapping or list value; !delete (or $patch: delete) on a keyed list item or a map entry"


def _kind(node: Node, diags: Diagnostics, prefix: str, what: str) -> bool:
    if isinstance(node, MapNode):
        return True
    value = node.value if isinstance(node, ScalarNode) else []
    from podc.model.common import kind_of

    diags.add(f"{prefix}.type", f"a {what} file is a mapping of fields, got {kind_of(value)}", node.origin.pos)
    return False


def validate_layer(node: Node, diags: Diagnostics) -> LayerSpec | None:
    """Validate a layer tree; every problem goes to ``diags``. None when the layer is invalid."""
    if not _kind(node, diags, "layer", "layer"):
        return None
    if _is_kubernetes_object(node, diags):
        return None
    before = len(diags.errors)
    data = check_directives(node, diags)
    try:
        spec = LayerSpec.model_validate(data)
    except ValidationError as e:
        report_errors(e.errors(include_url=False), node, LayerSpec, diags, "layer")
        return None
    _check_raw_container(node, spec, diags)
    return spec if len(diags.errors) == before else None


def _is_kubernetes_object(node: MapNode, diags: Diagnostics) -> bool:
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


def _check_raw_container(node: MapNode, spec: LayerSpec, diags: Diagnostics) -> None:
    raw = node.items.get("raw")
    frag = raw.items.get("container") if isinstance(raw, MapNode) else None
    if not isinstance(frag, MapNode) or "name" not in frag.items:
        return
    name = frag.items["name"]
    declared = spec.container or "main"
    if not isinstance(name, ScalarNode) or name.value != declared:
        diags.add("layer.raw-container-name", "raw.container patches the main container; it cannot rename it",
                  name.origin.pos, path="raw.container.name",
                  hint=f"set `container: <name>` at the top of the layer instead (now `{declared}`)")


def check_directives(root: MapNode, diags: Diagnostics, prefix: str = "layer") -> Any:
    """Report merge directives where they mean nothing (on the layer itself, in unkeyed lists,
    on ``secrets``) and return the layer as plain data, in ONE walk of the tree.

    ``raw`` fragments are left to the strategic merge, which defines ``$patch`` there.
    """
    if root.directive:
        diags.add(f"{prefix}.directive", f"a layer cannot be marked !{root.directive}", root.origin.pos,
                  hint=_DIRECTIVE_HINT)
    bad: list[tuple[Node, Any, tuple]] = []

    def plain(node: Node, key: Any, path: tuple) -> Any:
        kind = type(node)
        if kind is ScalarNode:
            return node.value  # type: ignore[union-attr]
        if kind is MapNode:
            # `key: !delete {…}` / `{$patch: delete}` as a mapping VALUE removes the key, like null.
            return {k: None if v.directive == "delete" else plain(v, k, (path, k))
                    for k, v in node.items.items()}  # type: ignore[union-attr]
        keyed = key in KEYED_LISTS
        out = []
        for i, item in enumerate(node.items):  # type: ignore[union-attr]
            if item.directive == "delete" and (type(item) is ScalarNode or not keyed):
                bad.append((item, key, (path, i)))
            out.append(plain(item, key if type(item) is SeqNode else i, (path, i)))
        return out

    data: dict[str, Any] = {}
    for key, value in root.items.items():
        if key == "secrets" and value.directive == "replace":
            diags.add(f"{prefix}.directive", "`secrets` cannot be replaced whole: its entries become volumes, "
                      "env vars and envFrom items", value.origin.pos, path="secrets",
                      hint="delete the Secrets you no longer want with `name: null`")
        if key == "raw":
            data[key] = to_plain(value)
        else:
            data[key] = None if value.directive == "delete" else plain(value, key, ((), key))
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


def _flatten(path: tuple) -> list:
    out: list = []
    while path:
        path, seg = path
        out.append(seg)
    return out[::-1]


def validate_project(node: Node, diags: Diagnostics) -> ProjectSpec | None:
    """Validate ``podc.yaml``; also checks that names it uses (profiles, layers) exist."""
    if not _kind(node, diags, "project", "project"):
        return None
    before = len(diags.errors)
    if node.directive:
        diags.add("project.directive", f"a project file cannot be marked !{node.directive}", node.origin.pos)
    for inline in _inline_layers(node):
        check_directives(inline, diags)
    try:
        spec = ProjectSpec.model_validate(to_plain(node))
    except ValidationError as e:
        report_errors(e.errors(include_url=False), node, ProjectSpec, diags, "project")
        return None
    _check_references(node, spec, diags)
    return spec if len(diags.errors) == before else None


def _inline_layers(node: MapNode) -> list[MapNode]:
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


def _check_references(node: MapNode, spec: ProjectSpec, diags: Diagnostics) -> None:
    layer_names = list(spec.layers or {})
    profile_names = list(spec.profiles or {})

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
                    and item.value not in layer_names:
                unknown("layer", item.value, item.origin.pos, layer_names, display_path(path + [i]))

    profiles = node.items.get("profiles")
    if isinstance(profiles, MapNode):
        for pname, seq in profiles.items.items():
            check_layer_list(seq, ["profiles", pname])
    default = node.items.get("defaultProfile")
    if spec.defaultProfile is not None and spec.defaultProfile not in profile_names and default is not None:
        unknown("profile", spec.defaultProfile, default.origin.pos, profile_names, "defaultProfile")
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
