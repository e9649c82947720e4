"""Where each dagster-k8s field goes in a podc layer.

Friendly podc fields where podc has one with the same Kubernetes shape (so podc's validation and
keyed merges apply: ``env`` in list form keeps its order, ``tolerations`` and ``envFrom``
accumulate), ``raw.container`` / ``raw.podSpec`` / ``raw.jobSpec`` / ``raw.job`` for the rest.
What podc does not honour is a warning naming the key; what cannot work is an error:

* ``container_config.name`` — podc's step container is ``main``; references to the old name
  (``resourceFieldRef.containerName``) are rewritten to ``main``;
* ``container_config.args`` — dagster-k8s replaces it with the step's arguments: ignored;
* ``job_config`` — dagster-k8s replaces its metadata and spec when it builds a step Job: ignored;
* ``job_spec_config.template`` — dagster-k8s drops it: ignored;
* metadata ``name``/``generate_name`` — podc names Jobs per run/step/attempt: ignored; server-set
  fields (``uid``, ``resource_version``, …): ignored; ``job_metadata.namespace``: an error (use
  ``job_namespace``).
"""

from __future__ import annotations

from typing import Mapping

from podc.errors import Diagnostics
from podc.merge.keys import list_key_fn
from podc.tree import MapNode, Node, Origin, ScalarNode, SeqNode

__all__ = ["MAIN_CONTAINER", "place_layer"]

MAIN_CONTAINER = "main"
_CODE = "dagster.k8s-config"

_CONTAINER_FRIENDLY = frozenset(("image", "imagePullPolicy", "command", "workingDir", "ports", "env",
                                 "envFrom", "resources", "securityContext", "startupProbe",
                                 "readinessProbe", "livenessProbe", "lifecycle"))
_POD_FRIENDLY = {k: k for k in ("nodeSelector", "tolerations", "affinity", "serviceAccountName",
                                "automountServiceAccountToken", "priorityClassName", "schedulerName",
                                "restartPolicy", "hostAliases", "dnsPolicy",
                                "terminationGracePeriodSeconds", "topologySpreadConstraints",
                                "imagePullSecrets")}
_POD_FRIENDLY["securityContext"] = "podSecurityContext"
_JOB_SPEC_FRIENDLY = frozenset(("backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished",
                                "podFailurePolicy", "parallelism", "completions", "completionMode",
                                "suspend", "backoffLimitPerIndex", "maxFailedIndexes",
                                "podReplacementPolicy"))
_SERVER_SET = frozenset(("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp",
                         "deletionGracePeriodSeconds", "generation", "managedFields", "selfLink"))
_META_KEPT = frozenset(("finalizers", "ownerReferences"))


class _Layer:
    def __init__(self, name: str, warnings: Diagnostics) -> None:
        self.name = name
        self.items: dict[str, Node] = {}
        self.raw: dict[str, dict[str, Node]] = {}
        self.warnings = warnings

    def warn(self, node: Node, message: str, hint: str | None = None) -> None:
        self.warnings.add(_CODE, message, node.origin.pos, hint=hint, severity="warning")

    def error(self, node: Node, message: str, hint: str | None = None) -> None:
        self.warnings.add(_CODE, message, node.origin.pos, hint=hint)

    def put(self, key: str, node: Node) -> None:
        self.items[key] = node

    def put_raw(self, fragment: str, key: str, node: Node) -> None:
        self.raw.setdefault(fragment, {})[key] = node


def _container(sec: MapNode, out: _Layer) -> None:
    for key, node in sec.items.items():
        if key == "name":
            if isinstance(node, ScalarNode) and node.value not in (None, MAIN_CONTAINER):
                out.warn(node, f"podc's step container is always `{MAIN_CONTAINER}` (not "
                         f"{node.value!r}); references to {node.value!r} in containerName fields "
                         f"are rewritten to `{MAIN_CONTAINER}`")
        elif key == "args":
            out.warn(node, "ignored: dagster-k8s replaces the step container's args with the "
                     "step's own (`dagster api execute_step`), and so does podc")
        elif key in _CONTAINER_FRIENDLY:
            out.put(key, node)
        else:
            out.put_raw("container", key, node)


def _pod(sec: MapNode, out: _Layer) -> None:
    for key, node in sec.items.items():
        if key in _POD_FRIENDLY:
            out.put(_POD_FRIENDLY[key], node)
            continue
        if key == "containers" and isinstance(node, SeqNode):
            for item in node.items:
                name = item.items.get("name") if isinstance(item, MapNode) else None
                if isinstance(name, ScalarNode) and name.value == MAIN_CONTAINER:
                    out.error(name, f"a pod_spec_config container named `{MAIN_CONTAINER}` collides "
                              "with podc's step container", hint="rename the sidecar")
        out.put_raw("podSpec", key, node)


def _job_spec(sec: MapNode, out: _Layer) -> None:
    for key, node in sec.items.items():
        if key == "template":
            out.warn(node, "ignored: dagster-k8s replaces the Job's pod template; use "
                     "pod_spec_config and pod_template_spec_metadata")
        elif key in _JOB_SPEC_FRIENDLY:
            out.put(key, node)
        else:
            out.put_raw("jobSpec", key, node)


def _metadata(sec: MapNode, out: _Layer, *, job: bool) -> None:
    kept: dict[str, Node] = {}
    for key, node in sec.items.items():
        if key in ("labels", "annotations"):
            out.put(("job" if job else "pod") + key.capitalize(), node)
        elif key in _META_KEPT:
            kept[key] = node
        elif key == "namespace" and job:
            out.error(node, "job_metadata.namespace is not honoured: the Job's namespace is the "
                      "executor's", hint="set job_namespace (executor) or namespace "
                      "(container_context.k8s) instead")
        elif key in ("name", "generateName", "namespace"):
            out.warn(node, "ignored: podc names each step's Job and Pods from the run id, step key "
                     "and attempt (dagster-k8s overrides the name too)")
        elif key in _SERVER_SET:
            out.warn(node, "ignored: set by the Kubernetes API server")
        else:  # ObjectMeta has no other field today; a newer client might
            out.warn(node, "ignored: not a field podc sets on step Jobs")
    if kept:
        meta = MapNode(kept, sec.origin, {k: sec.key_pos.get(k, v.origin.pos) for k, v in kept.items()})
        if job:
            out.put_raw("job", "metadata", meta)
        else:
            template = MapNode({"metadata": meta}, sec.origin)
            out.put_raw("job", "spec", MapNode({"template": template}, sec.origin))


def _rewrite(node: Node, field: str, renamed: str, main: str) -> Node:
    """Keyed lists de-duplicated (the last item wins, at the first's place) and containerName
    references to dagster-k8s's container name pointed at podc's. Items of keyed lists replace
    an earlier layer's item of the same key whole (a redefinition, as the later duplicate wins
    in dagster-k8s's Job), instead of being merged into it."""
    if isinstance(node, ScalarNode):
        if field == "containerName" and node.value == renamed and node.value != main:
            return ScalarNode(main, node.origin, node.directive, node.overridden)
        return node
    if isinstance(node, MapNode):
        return MapNode({k: _rewrite(v, k, renamed, main) for k, v in node.items.items()},
                       node.origin, node.key_pos, node.directive, node.overridden)
    items = [_rewrite(v, field, renamed, main) for v in node.items]
    key_fn = list_key_fn(field, "podc")
    if key_fn is not None:
        at: dict[tuple, int] = {}
        kept: list[Node] = []
        for item in items:
            key = key_fn(item)
            if key is None or key not in at:
                if key is not None:
                    at[key] = len(kept)
                kept.append(item)
            else:
                kept[at[key]] = item
        items = [MapNode(i.items, i.origin, i.key_pos, "replace", i.overridden)
                 if isinstance(i, MapNode) and i.directive is None else i for i in kept]
    return SeqNode(items, node.origin, node.directive, node.overridden)


def place_layer(sections: Mapping[str, MapNode], name: str, warnings: Diagnostics, *,
                renamed: str = "dagster", main_container: str = MAIN_CONTAINER) -> MapNode:
    """The podc layer for one level's contribution (section → camelCase tree)."""
    out = _Layer(name, warnings)
    for section, sec in sections.items():
        if section == "container_config":
            _container(sec, out)
        elif section == "pod_spec_config":
            _pod(sec, out)
        elif section == "job_spec_config":
            _job_spec(sec, out)
        elif section == "job_metadata":
            _metadata(sec, out, job=True)
        elif section == "pod_template_spec_metadata":
            _metadata(sec, out, job=False)
        elif section == "job_config":
            out.warn(sec, "ignored: dagster-k8s replaces job_config's metadata and spec when it "
                     "builds a step Job, so it has no effect there; podc ignores it too",
                     hint="move its fields to job_metadata, job_spec_config, pod_spec_config")
    origin = Origin(name, next(iter(sections.values())).origin.pos) if sections else Origin(name, _nowhere(name))
    items: dict[str, Node] = dict(out.items)
    if out.raw:
        raw = {frag: MapNode(fields, origin, {k: v.origin.pos for k, v in fields.items()})
               for frag, fields in out.raw.items()}
        items["raw"] = MapNode(raw, origin)
    tree = _rewrite(MapNode(items, origin, {k: v.origin.pos for k, v in items.items()}), "",
                    renamed, main_container)
    assert isinstance(tree, MapNode)
    return tree


def _nowhere(name: str):
    from podc.errors import Pos

    return Pos(name)
