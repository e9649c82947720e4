"""Normalisation: one friendly podc/v1 layer → ordered patches of the canonical Job tree.

``normalize_layer`` validates the layer (:mod:`podc.model.gate`), then builds

1. ONE partial batch/v1 Job tree from the friendly fields (mode ``"podc"``), then
2. one tree per ``raw`` fragment, in source order (mode ``"smp"``: strategic merge patch).

Every leaf of the output is a source node or carries a source node's origin: the generated
``name`` of an env var points at its key, a converted ``"2"`` at the ``2`` it came from. Output
order follows the source, so the same layer always gives the same trees.
"""

from __future__ import annotations

from typing import Any

from podc._record import record
from podc.errors import Diagnostics, Pos
from podc.normalize.build import ListB, MapB, freeze, is_null, leaf, origin_at, str_map
from podc.normalize.container import CONTAINER_KEYS, ContainerB
from podc.normalize.volumes import add_secrets, add_volumes
from podc.tree import MapNode, Node, Origin, ScalarNode, SeqNode, from_plain

__all__ = ["normalize_layer", "normalize_python_layer", "declared_container", "policy_exceptions",
           "deleted_volume_names", "LayerException", "DEFAULT_CONTAINER"]

DEFAULT_CONTAINER = "main"

_JOB_CONTROLS = frozenset(("backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished", "podFailurePolicy",
                           "parallelism", "completions", "completionMode", "suspend", "backoffLimitPerIndex",
                           "maxFailedIndexes", "podReplacementPolicy"))
_POD_FIELDS = frozenset(("affinity", "tolerations", "topologySpreadConstraints", "serviceAccountName",
                         "automountServiceAccountToken", "priorityClassName", "schedulerName", "restartPolicy",
                         "hostAliases", "dnsPolicy", "terminationGracePeriodSeconds"))
_MAIN_FIELDS = frozenset(k for k in CONTAINER_KEYS if k != "volumeMounts")
#: (layer field, where it goes): labels/annotations go to the Job AND the pod template.
_META = {
    "labels": (("job", "labels"), ("pod", "labels")),
    "annotations": (("job", "annotations"), ("pod", "annotations")),
    "jobLabels": (("job", "labels"),),
    "jobAnnotations": (("job", "annotations"),),
    "podLabels": (("pod", "labels"),),
    "podAnnotations": (("pod", "annotations"),),
}
_IGNORED = frozenset(("apiVersion", "kind", "extends", "exceptions", "container", "raw"))


def declared_container(node: Node) -> str | None:
    """The main container name a layer declares with ``container:`` (None when it does not)."""
    if isinstance(node, MapNode):
        value = node.items.get("container")
        if isinstance(value, ScalarNode) and isinstance(value.value, str):
            return value.value
    return None


def normalize_layer(node: Node, diags: Diagnostics, *, container: str | None = None) -> list[tuple[MapNode, str]]:
    """Validate and normalise one layer. Problems go to ``diags``; an invalid layer gives ``[]``.

    ``container`` is the main container's name when the layer does not say (``container:``);
    the project passes the name the LAST layer declaring one chose, so every layer patches the
    same container. Default ``main``.
    """
    from podc.model.gate import check_layer

    if not check_layer(node, diags):
        return []
    assert isinstance(node, MapNode)
    before = len(diags.errors)
    patches = _Normalizer(node, declared_container(node) or container or DEFAULT_CONTAINER, diags).run()
    return patches if len(diags.errors) == before else []


def normalize_python_layer(data: dict[str, Any], name: str, diags: Diagnostics | None = None, *,
                           container: str | None = None) -> list[tuple[MapNode, str]]:
    """Normalise an in-memory layer (a dict, e.g. Dagster op tags). Raises :class:`PodcError`
    when it is invalid and no ``diags`` is given."""
    own = diags is None
    diags = Diagnostics() if own else diags
    node = from_plain(data, Origin(name, Pos(f"<{name}>")), diags)
    patches = normalize_layer(node, diags, container=container) if not diags.errors else []
    if own:
        diags.raise_if_errors()
    return patches


class _Normalizer:
    def __init__(self, root: MapNode, container: str, diags: Diagnostics):
        self.root = root
        self.container = container
        self.job = MapB(root.origin)
        self.inits: dict[str, ContainerB] = {}
        self.main_b: ContainerB | None = None
        self.pod_b: MapB | None = None
        self.init_list: ListB | None = None
        self.diags = diags

    # -- places in the Job tree, created on first use with the origin of what caused them ----------
    def pod_spec(self, origin: Origin) -> MapB:
        if self.pod_b is None:
            self.pod_b = self.job.map("spec", origin).map("template", origin).map("spec", origin)
        return self.pod_b

    def meta(self, where: str, origin: Origin) -> MapB:
        if where == "job":
            return self.job.map("metadata", origin)
        return self.job.map("spec", origin).map("template", origin).map("metadata", origin)

    def main(self, origin: Origin | None = None) -> ContainerB:
        if self.main_b is None:
            origin = origin or self.root.origin
            declared = self.root.items.get("container")
            name_leaf = declared if isinstance(declared, ScalarNode) else leaf(self.container, origin)
            item = MapB(origin)
            item.set("name", name_leaf)
            self.pod_spec(origin).list("containers", origin).items.append(item)
            self.main_b = ContainerB(item)
        return self.main_b

    def volumes(self, origin: Origin) -> ListB:
        return self.pod_spec(origin).list("volumes", origin)

    # -- the walk ------------------------------------------------------------------------------------
    def run(self) -> list[tuple[MapNode, str]]:
        root = self.root
        init_nodes = [(k, root.items[k]) for k in ("initContainers", "sidecars") if k in root.items]
        self._declare_inits(init_nodes)
        key_pos = root.key_pos
        layer = root.origin.layer
        for key, value in root.items.items():
            if key in _IGNORED:
                continue
            # Generated structure points at the field's key (where it is written).
            kpos = key_pos.get(key)
            near = Origin(layer, kpos) if kpos is not None else value.origin
            if key in _MAIN_FIELDS:
                self.main(near).set_field(key, value)
            elif key in _JOB_CONTROLS:
                self.job.map("spec", near).set(key, value)
            elif key in _POD_FIELDS:
                self.pod_spec(near).set(key, value)
            elif key == "nodeSelector":
                self.pod_spec(near).set(key, str_map(value))
            elif key == "podSecurityContext":
                self.pod_spec(near).set("securityContext", value)
            elif key == "imagePullSecrets":
                self.pod_spec(near).set(key, _pull_secrets(value))
            elif key in ("name", "namespace"):
                self.job.map("metadata", near).set(key, value)
            elif key in _META:
                for where, field in _META[key]:
                    self._meta(where, field, value, near)
            elif key == "volumes":
                if is_null(value):
                    self.pod_spec(near).set("volumes", value)
                elif isinstance(value, MapNode):
                    add_volumes(value, self.volumes(value.origin), self._resolve)
            elif key == "secrets" and isinstance(value, MapNode):
                add_secrets(value, self.volumes(value.origin), lambda o=value.origin: self.main(o))
            elif key in ("initContainers", "sidecars"):
                if is_null(value):
                    self.pod_spec(near).set("initContainers", value)
        if self.init_list is not None:
            self.pod_spec(self.init_list.origin).set("initContainers", self.init_list)
        patches: list[tuple[MapNode, str]] = [(freeze(self.job), "podc")]  # type: ignore[list-item]
        patches.extend(self._raw())
        return patches

    def _meta(self, where: str, field: str, value: Node, near: Origin) -> None:
        meta = self.meta(where, near)
        if is_null(value) or not isinstance(value, MapNode):
            meta.set(field, value)
            return
        current = meta.items.get(field)
        if not isinstance(current, MapB):
            current = MapB(value.origin)
            meta.set(field, current)
        current.directive = current.directive or value.directive
        current.items.update(str_map(value).items)  # type: ignore[union-attr]

    def _declare_inits(self, init_nodes: list[tuple[str, Node]]) -> None:
        """Create init containers first (plain ones, then sidecars) so volumes can mount into them."""
        for kind, node in init_nodes:
            if not isinstance(node, MapNode):
                continue
            if self.init_list is None:
                self.init_list = ListB(node.origin)
            self.init_list.directive = self.init_list.directive or node.directive
            for name, entry in node.items.items():
                name_leaf = leaf(name, origin_at(node, node.key_pos.get(name)))
                if is_null(entry) or entry.directive == "delete":
                    self.init_list.items.append(MapNode({"name": name_leaf}, name_leaf.origin, directive="delete"))
                    continue
                assert isinstance(entry, MapNode)
                item = MapB(entry.origin, "replace" if entry.directive == "replace" else None)
                item.set("name", name_leaf)
                if kind == "sidecars":
                    item.set("restartPolicy", leaf("Always", name_leaf.origin))
                cb = ContainerB(item)
                for key, value in entry.items.items():
                    cb.set_field(key, value)
                self.inits[name] = cb
                self.init_list.items.append(item)

    def _resolve(self, container: ScalarNode | None) -> ContainerB | None:
        if container is None or container.value == self.container:
            return self.main(container.origin if container is not None else None)
        found = self.inits.get(container.value)
        if found is None:
            from podc.errors import did_you_mean

            choices = [self.container, *self.inits]
            guess = did_you_mean(str(container.value), choices)
            self.diags.add("layer.unknown-container", f"no container `{container.value}` in this layer",
                              container.origin.pos,
                              hint=(f"did you mean `{guess}`? " if guess else "")
                              + "a mount goes to the main container or an init container/sidecar of the same layer")
        return found

    def _raw(self) -> list[tuple[MapNode, str]]:
        raw = self.root.items.get("raw")
        if not isinstance(raw, MapNode):
            return []
        out: list[tuple[MapNode, str]] = []
        for key, frag in raw.items.items():
            if not isinstance(frag, MapNode):
                continue
            if key == "job":
                frag = _text_metadata(frag)
            o = frag.origin
            if key == "job":
                out.append((frag, "smp"))
            elif key == "jobSpec":
                out.append((MapNode({"spec": frag}, o), "smp"))
            elif key == "podSpec":
                out.append((MapNode({"spec": MapNode({"template": MapNode({"spec": frag}, o)}, o)}, o), "smp"))
            elif key == "container":
                items = dict(frag.items)
                name = self.root.items.get("container")
                items = {"name": name if isinstance(name, ScalarNode) else leaf(self.container, o), **items}
                container = MapNode(items, o, frag.key_pos, frag.directive)
                pod = MapNode({"containers": SeqNode([container], o)}, o)
                out.append((MapNode({"spec": MapNode({"template": MapNode({"spec": pod}, o)}, o)}, o), "smp"))
        return out


def _text_metadata(job: MapNode) -> MapNode:
    """Labels and annotations of a ``raw.job`` fragment (the Job's and the pod template's) as
    strings, as kustomize writes them: ``version: 3`` is the label "3". (Spellings that differ
    from their value, such as ``0400``, were refused by the layer check.)"""

    def meta(node: Node | None) -> Node | None:
        if not isinstance(node, MapNode):
            return node
        items = dict(node.items)
        for field in ("labels", "annotations"):
            if field in items:
                items[field] = str_map(items[field])
        return MapNode(items, node.origin, node.key_pos, node.directive, node.overridden)

    items = dict(job.items)
    if "metadata" in items:
        items["metadata"] = meta(items["metadata"])
    spec = items.get("spec")
    template = spec.items.get("template") if isinstance(spec, MapNode) else None
    if isinstance(template, MapNode) and "metadata" in template.items:
        t_items = dict(template.items)
        t_items["metadata"] = meta(t_items["metadata"])
        s_items = dict(spec.items)  # type: ignore[union-attr]
        s_items["template"] = MapNode(t_items, template.origin, template.key_pos, template.directive,
                                      template.overridden)
        items["spec"] = MapNode(s_items, spec.origin, spec.key_pos, spec.directive, spec.overridden)  # type: ignore[union-attr]
    return MapNode(items, job.origin, job.key_pos, job.directive, job.overridden)


def deleted_volume_names(patch: MapNode) -> set[str]:
    """Names of the pod volumes a patch deletes (``volumes: {x: null}``, ``secrets: {s: null}``).

    The mounts an earlier layer generated for such a volume are not deleted by the patch (it
    cannot know their paths); the renderer drops volumeMounts naming one of these volumes when
    the merged Job no longer has it.
    """
    node: Node | None = patch
    for key in ("spec", "template", "spec", "volumes"):
        node = node.items.get(key) if isinstance(node, MapNode) else None
    if not isinstance(node, SeqNode):
        return set()
    names: set[str] = set()
    for item in node.items:
        if isinstance(item, MapNode) and item.directive == "delete":
            name = item.items.get("name")
            if isinstance(name, ScalarNode) and isinstance(name.value, str):
                names.add(name.value)
    return names


def _pull_secrets(value: Node) -> Node:
    """``imagePullSecrets: [regcred]`` → ``[{name: regcred}]`` (mapping items are kept)."""
    if not isinstance(value, SeqNode):
        return value
    items = [MapNode({"name": i}, i.origin) if isinstance(i, ScalarNode) else i for i in value.items]
    return SeqNode(items, value.origin, value.directive)


@record(frozen=True)
class LayerException:
    """A policy exception a layer declares, with where it is written (for ``podc check``)."""

    policy: str
    rule: str
    reason: str
    targets: tuple[str, ...]
    expires: str | None
    layer: str
    pos: Pos


def policy_exceptions(node: Node) -> list[LayerException]:
    """The ``exceptions:`` of a VALID layer (or of a project's ``policies``), in source order."""
    seq = node.items.get("exceptions") if isinstance(node, MapNode) else None
    out: list[LayerException] = []
    if not isinstance(seq, SeqNode):
        return out
    for item in seq.items:
        if not isinstance(item, MapNode):
            continue

        def text(key: str) -> Any:
            value = item.items.get(key)
            return value.value if isinstance(value, ScalarNode) else None

        targets = item.items.get("targets")
        names = tuple(t.value for t in targets.items if isinstance(t, ScalarNode)) if isinstance(targets, SeqNode) else ()
        out.append(LayerException(text("policy"), text("rule"), text("reason"), names, text("expires"),
                                  item.origin.layer, item.origin.pos))
    return out
