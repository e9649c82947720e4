"""Render: the merged canonical tree -> the final batch/v1 Job dict plus per-value provenance.

Key order is fixed (apiVersion, kind, metadata, spec; ``name`` first in list items; the container
fields people read first come first; everything else sorted), list order is the merge's, so the
output is byte-identical for the same input. Cross-field rules the schema cannot express are
checked here and reported at the file:line:col of the value that broke them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping

from podc._record import record
from podc.errors import Diagnostics, Pos
from podc.render.compiled import DEFAULTS_LAYER, CompiledJob, ValueOrigin
from podc.tree import MapNode, Node, Origin, ScalarNode, SeqNode

__all__ = ["Provenance", "LayerFacts", "render_job", "defaults", "Defaults",
           "deleted_volume_names", "DEFAULTS_LAYER", "DEFAULTS_FILE"]

DEFAULTS_FILE = Path(__file__).resolve().parent.parent / "defaults" / "secure.yaml"


@record(frozen=True)
class Defaults:
    """The built-in defaults layer (``defaults/secure.yaml``), read once per process."""

    job: MapNode  # a partial Job, merged first
    container: MapNode  # filled into every container where a field is unset
    privileged_container: MapNode  # the same without allowPrivilegeEscalation (it contradicts privileged)
    main_container_name: ScalarNode


@lru_cache(maxsize=1)
def defaults() -> Defaults:
    from podc.source.reader import load_single

    node = load_single(DEFAULTS_FILE, layer=DEFAULTS_LAYER)
    assert isinstance(node, MapNode)
    container = node.items["container"]
    assert isinstance(container, MapNode)
    sc = container.items["securityContext"]
    assert isinstance(sc, MapNode)
    privileged = MapNode({"securityContext": MapNode({k: v for k, v in sc.items.items()
                                                      if k != "allowPrivilegeEscalation"}, sc.origin)},
                         container.origin)
    return Defaults(node.items["job"], container, privileged, node.items["mainContainerName"])  # type: ignore[arg-type]


@record(frozen=True)
class LayerFacts:
    """What render needs to know about a target's layers besides the merged tree."""

    deleted_volumes: frozenset[str] = frozenset()  # pod volumes some layer deleted ("*": `volumes: null`)
    named_containers: frozenset[Origin] = frozenset()  # origins of the layers' `container:` values
    volume_deletes: tuple[tuple[str, int], ...] = ()  # (volume or "*", rank of the last layer deleting it)
    layer_ranks: tuple[tuple[str, int], ...] = ()  # (layer name, place in the merge order)

    def mount_goes(self, mount: Node, declared: set) -> bool:
        """True when ``mount`` names a volume that a LATER layer deleted (it goes with the volume).
        A mount added after the delete, or of a volume never declared, stays (and is reported)."""
        if not isinstance(mount, MapNode) or not isinstance(mount.get("name"), ScalarNode):
            return False
        name = mount.items["name"]
        if name.value in declared:
            return False
        deletes = dict(self.volume_deletes) if self.volume_deletes else {v: 1 << 30 for v in self.deleted_volumes}
        at = max(deletes.get(name.value, -1), deletes.get("*", -1))
        if at < 0:
            return False
        return dict(self.layer_ranks).get(name.origin.layer, -1) < at


def _point_default_name(c: MapNode, facts: LayerFacts) -> MapNode:
    """A main container no layer named (`container:`) is named by the defaults: point there
    (normalisation gives the generated name the origin of the layer that created the container)."""
    default = defaults().main_container_name
    leaf = c.get("name")
    if (isinstance(leaf, ScalarNode) and leaf.value == default.value and leaf.origin.layer != DEFAULTS_LAYER
            and leaf.origin not in facts.named_containers):
        items = dict(c.items)
        items["name"] = ScalarNode(leaf.value, default.origin)  # the same name repeated is no override
        return MapNode(items, c.origin, c.key_pos, c.directive, c.overridden)
    return c


# ---------------------------------------------------------------------------------------------
# Container defaults: filled in where the merged container leaves a field unset


def _fill(node: MapNode, defaults: MapNode) -> MapNode:
    items = dict(node.items)
    changed = False
    for key, dvalue in defaults.items.items():
        have = items.get(key)
        if have is None:
            items[key] = dvalue
            changed = True
        elif isinstance(have, MapNode) and isinstance(dvalue, MapNode):
            filled = _fill(have, dvalue)
            if filled is not have:
                items[key], changed = filled, True
    return MapNode(items, node.origin, node.key_pos, None, node.overridden) if changed else node


def _without_mounts(c: MapNode, facts: LayerFacts, declared: set) -> MapNode:
    mounts = c.get("volumeMounts")
    if not isinstance(mounts, SeqNode):
        return c
    kept = [m for m in mounts.items if not facts.mount_goes(m, declared)]
    if len(kept) == len(mounts.items):
        return c
    items = dict(c.items)
    items["volumeMounts"] = SeqNode(kept, mounts.origin, None, mounts.overridden)
    return MapNode(items, c.origin, c.key_pos, c.directive, c.overridden)


def _with_container_defaults(tree: MapNode, facts: LayerFacts) -> MapNode:
    d = defaults()
    pod = _walk(tree, "spec", "template", "spec")
    if pod is None:
        return tree
    volumes = pod.get("volumes")
    declared = {v.items["name"].value for v in (volumes.items if isinstance(volumes, SeqNode) else [])
                if isinstance(v, MapNode) and isinstance(v.get("name"), ScalarNode)}
    # Mounts of volumes a later layer deleted go with them (typos, and mounts added after the
    # delete, still fail the mount check: job.unknown-volume).
    gone = bool(facts.deleted_volumes - declared)
    new_pod = dict(pod.items)
    for list_name in ("initContainers", "containers", "ephemeralContainers"):
        seq = pod.get(list_name)
        if not isinstance(seq, SeqNode):
            continue
        items = []
        for c in seq.items:
            if isinstance(c, MapNode):
                sc = c.get("securityContext")
                privileged = isinstance(sc, MapNode) and isinstance(sc.get("privileged"), ScalarNode) \
                    and sc.items["privileged"].value is True  # policy checks report it; no contradiction added
                c = _fill(c, d.privileged_container if privileged else d.container)
                if gone:
                    c = _without_mounts(c, facts, declared)
                if list_name == "containers":
                    c = _point_default_name(c, facts)
            items.append(c)
        new_pod[list_name] = SeqNode(items, seq.origin, None, seq.overridden)
    return _replace_path(tree, ("spec", "template", "spec"), MapNode(new_pod, pod.origin, pod.key_pos, None, pod.overridden))


def _walk(node: Node | None, *keys: str) -> MapNode | None:
    for k in keys:
        if not isinstance(node, MapNode):
            return None
        node = node.get(k)
    return node if isinstance(node, MapNode) else None


def _replace_path(node: MapNode, keys: tuple[str, ...], value: MapNode) -> MapNode:
    if not keys:
        return value
    child = node.items[keys[0]]
    assert isinstance(child, MapNode)
    items = dict(node.items)
    items[keys[0]] = _replace_path(child, keys[1:], value)
    return MapNode(items, node.origin, node.key_pos, None, node.overridden)


# ---------------------------------------------------------------------------------------------
# Tree -> plain dict with a fixed key order

_TOP = ("apiVersion", "kind", "metadata", "spec", "status")
_META = ("name", "generateName", "namespace", "labels", "annotations")
_JOB_SPEC = ("parallelism", "completions", "completionMode", "backoffLimit", "backoffLimitPerIndex",
             "maxFailedIndexes", "activeDeadlineSeconds", "ttlSecondsAfterFinished", "suspend")
_TEMPLATE = ("metadata", "spec")
_POD_SPEC = ("serviceAccountName", "restartPolicy", "priorityClassName", "nodeSelector", "affinity",
             "tolerations", "securityContext", "imagePullSecrets", "initContainers", "containers")
_CONTAINER = ("name", "image", "imagePullPolicy", "command", "args", "workingDir", "ports", "env", "envFrom",
              "resources", "volumeMounts", "securityContext", "restartPolicy")
_ENV = ("name", "value", "valueFrom")
_TOLERATION = ("key", "operator", "value", "effect", "tolerationSeconds")
_RESOURCES = ("limits", "requests", "claims")
_ITEM = ("name",)
_CONTAINER_LISTS = frozenset({"containers", "initContainers", "ephemeralContainers"})
_LAST = {"job-spec": "template", "pod-spec": "volumes"}


def _ordered(keys, preferred: tuple[str, ...], last: str | None = None) -> list[str]:
    first = [k for k in preferred if k in keys]
    rest = sorted(k for k in keys if k not in preferred and k != last)
    if last is not None and last in keys:
        rest.append(last)
    return first + rest


def _child_ctx(ctx: str, key: str) -> str:
    if key == "metadata":
        return "meta"
    if ctx == "top" and key == "spec":
        return "job-spec"
    if ctx == "job-spec" and key == "template":
        return "template"
    if ctx == "template" and key == "spec":
        return "pod-spec"
    if ctx == "container" and key == "resources":
        return "resources"
    return "map"


def _item_ctx(list_key: str) -> str:
    if list_key in _CONTAINER_LISTS:
        return "container"
    if list_key == "env":
        return "env"
    if list_key == "tolerations":
        return "toleration"
    return "item"


_PREFERRED = {"top": _TOP, "meta": _META, "job-spec": _JOB_SPEC, "template": _TEMPLATE, "pod-spec": _POD_SPEC,
              "container": _CONTAINER, "env": _ENV, "toleration": _TOLERATION, "resources": _RESOURCES,
              "item": _ITEM, "map": ()}


class Provenance(Mapping[str, ValueOrigin]):
    """JSON pointer -> :class:`ValueOrigin`, built on first access from the merged nodes (most
    compiles never look at most of it; building them all up front was a fifth of render time)."""

    __slots__ = ("_nodes", "_memo")

    def __init__(self, nodes: dict[str, Node], memo: dict[int, tuple[Node, ValueOrigin]]):
        self._nodes = nodes
        self._memo = memo  # shared by a run: nodes of shared layers appear in many Jobs

    def __getitem__(self, pointer: str) -> ValueOrigin:
        node = self._nodes[pointer]
        hit = self._memo.get(id(node))
        if hit is None:
            o = node.origin
            hit = (node, ValueOrigin(o.layer, o.pos, tuple((h.layer, h.pos) for h in node.overridden)))
            self._memo[id(node)] = hit  # keeps ``node`` alive, so its id is not reused
        return hit[1]

    def __iter__(self) -> Iterator[str]:
        return iter(self._nodes)

    def layers(self) -> frozenset[str]:
        """The layers that set some value (without building every :class:`ValueOrigin`)."""
        return frozenset(node.origin.layer for node in self._nodes.values())

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, pointer: object) -> bool:
        return pointer in self._nodes

    def __repr__(self) -> str:
        return f"Provenance({len(self._nodes)} values)"


class _Renderer:
    def __init__(self, memo: dict[int, tuple[Node, ValueOrigin]] | None = None) -> None:
        self.nodes: dict[str, Node] = {}
        self.key_pos: dict[str, Pos] = {}
        self.provenance = Provenance(self.nodes, memo if memo is not None else {})

    def node(self, node: Node, pointer: str, ctx: str, key: str) -> Any:
        self.nodes[pointer] = node
        if isinstance(node, ScalarNode):
            return node.value
        if isinstance(node, MapNode):
            out = {}
            items = node.items
            order_key = (ctx, tuple(items))
            keys = _ORDER_CACHE.get(order_key)
            if keys is None:
                keys = _ORDER_CACHE[order_key] = _ordered(items, _PREFERRED[ctx], _LAST.get(ctx))
            # where map keys are written matters for label/annotation key errors only
            keyed = key in _KEYS_LOCATED
            nodes = self.nodes
            for k in keys:
                child_node = items[k]
                kind = type(child_node)
                if kind is SeqNode and not child_node.items:  # type: ignore[union-attr]
                    continue  # an empty list means the same as none in a Job; keep the output lean
                token = _TOKENS.get(k)
                if token is None:
                    token = _TOKENS[k] = "/" + k.replace("~", "~0").replace("/", "~1")
                child = pointer + token
                if keyed:
                    kp = node.key_pos.get(k)
                    if kp is not None:
                        self.key_pos[child] = kp
                if kind is ScalarNode:  # most values: what node() does for a scalar, without the call
                    nodes[child] = child_node
                    out[k] = child_node.value  # type: ignore[union-attr]
                else:
                    out[k] = self.node(child_node, child, _child_ctx(ctx, k), k)
            return out
        item_ctx = _item_ctx(key)
        return [self.node(v, f"{pointer}/{i}", item_ctx if isinstance(v, MapNode) else "map", key)
                for i, v in enumerate(node.items)]


_ORDER_CACHE: dict[tuple, list[str]] = {}
_TOKENS: dict[str, str] = {}
_KEYS_LOCATED = frozenset({"labels", "annotations", "nodeSelector"})


def render_job(tree: MapNode, target: str, diags: Diagnostics, *, sources: tuple[str, ...] = (),
               kubernetes_version: str | None = None, memo: dict | None = None,
               facts: LayerFacts = LayerFacts()) -> CompiledJob:
    """The final Job for ``target``. Problems go to ``diags`` (all of them), never raised."""
    from podc.render.checks import check_job

    tree = _with_container_defaults(tree, facts)
    r = _Renderer(memo)
    manifest = r.node(tree, "", "top", "")
    job = CompiledJob(target, manifest, r.provenance, sources, r.key_pos)
    check_job(job, diags, kubernetes_version=kubernetes_version)
    return job


def deleted_volume_names(patch: MapNode) -> frozenset[str]:
    """Names of the pod volumes a patch deletes (``volumes: {data: null}`` or a ``$patch: delete`` item)."""
    volumes = _walk(patch, "spec", "template", "spec")
    seq = volumes.get("volumes") if volumes is not None else None
    if isinstance(seq, ScalarNode) and (seq.value is None or seq.directive == "delete"):
        return frozenset(("*",))  # `volumes: null`: every volume so far, and the mounts podc made for them
    if not isinstance(seq, SeqNode):
        return frozenset()
    return frozenset(v.items["name"].value for v in seq.items if isinstance(v, MapNode) and v.directive == "delete"
                     and isinstance(v.get("name"), ScalarNode))
