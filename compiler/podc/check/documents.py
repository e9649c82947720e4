"""What `podc check` checks: one :class:`Document` per Kubernetes object, with a way to map a
JSON pointer back to a source position.

Two kinds of input produce documents:

* plain manifests (multi-document YAML or JSON files): read as plain data by
  :func:`podc.source.documents.load_documents`; a violation's file:line:col is computed only
  when it is reported (big files stay fast);
* podc projects: each compiled target is one document, located through the compiler's
  provenance (the layer line that set a value, or the nearest ancestor a layer set).

Kinds with a pod template (Pod, Job, CronJob, Deployment, StatefulSet, DaemonSet, ReplicaSet,
ReplicationController, PodTemplate) are checked. Other built-in kinds (Service, ConfigMap, ...)
and custom resources (an apiVersion in a non-Kubernetes group) are skipped with an info notice.
A kind that is neither (``Jbo`` in ``batch/v1``) is an input error with a did-you-mean hint.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable

from podc._record import field, record
from podc.errors import Diagnostics, Pos, did_you_mean
from podc.source.documents import node_locate, split_pointer
from podc.tree import Node

if TYPE_CHECKING:
    from podc.source.documents import SourceDocument

__all__ = [
    "Document",
    "Violation",
    "POD_TEMPLATE_PATHS",
    "load_manifest_documents",
    "classify_kind",
    "pod_parts",
    "split_pointer",
]

# kind -> JSON pointer of the object holding the pod's `metadata` and `spec` ("" = the object itself).
POD_TEMPLATE_PATHS: dict[str, str] = {
    "Pod": "",
    "PodTemplate": "/template",
    "Job": "/spec/template",
    "CronJob": "/spec/jobTemplate/spec/template",
    "Deployment": "/spec/template",
    "StatefulSet": "/spec/template",
    "DaemonSet": "/spec/template",
    "ReplicaSet": "/spec/template",
    "ReplicationController": "/spec/template",
}

# Built-in kinds without a pod template: skipped (info), never an error.
_OTHER_BUILTIN_KINDS = frozenset("""
Service ConfigMap Secret Namespace ServiceAccount Role RoleBinding ClusterRole ClusterRoleBinding
PersistentVolumeClaim PersistentVolume StorageClass Ingress IngressClass NetworkPolicy
HorizontalPodAutoscaler PodDisruptionBudget LimitRange ResourceQuota PriorityClass Endpoints
EndpointSlice CustomResourceDefinition ValidatingWebhookConfiguration MutatingWebhookConfiguration
ValidatingAdmissionPolicy ValidatingAdmissionPolicyBinding APIService Lease Event Node
CSIDriver CSINode VolumeAttachment RuntimeClass ControllerRevision PodSecurityPolicy List
""".split())

_BUILTIN_GROUPS = frozenset("""
apps batch policy autoscaling networking.k8s.io rbac.authorization.k8s.io storage.k8s.io
apiextensions.k8s.io admissionregistration.k8s.io scheduling.k8s.io coordination.k8s.io
node.k8s.io discovery.k8s.io events.k8s.io apiregistration.k8s.io certificates.k8s.io
""".split())


@record(frozen=True, slots=True)
class Violation:
    """One policy finding on one document. ``path`` is a JSON pointer into the object."""

    policy: str
    rule: str
    severity: str
    message: str
    path: str
    pos: Pos
    hint: str | None = None
    related: tuple[tuple[Pos, str], ...] = ()

    def sort_key(self) -> tuple:
        return (self.pos.file or "", self.pos.line, self.pos.col, self.path, self.policy, self.rule, self.message)


@record
class Document:
    """One Kubernetes object to check."""

    file: str
    index: int
    manifest: dict
    locator: Callable[[str], tuple[Pos, tuple[tuple[Pos, str], ...]]]
    target: str | None = None
    pos: Pos = field(default_factory=Pos)
    layers: frozenset[str] = frozenset()  # project targets: the layers that built it
    violations: list[Violation] = field(default_factory=list)
    suppressed: list = field(default_factory=list)  # podc.check.exceptions.Suppressed, kept for reports

    @property
    def kind(self) -> str:
        kind = self.manifest.get("kind")
        return kind if isinstance(kind, str) else ""

    @property
    def metadata(self) -> dict:
        meta = self.manifest.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def name(self) -> str:
        name = self.metadata.get("name")
        return name if isinstance(name, str) else ""

    @property
    def namespace(self) -> str:
        ns = self.metadata.get("namespace")
        return ns if isinstance(ns, str) else ""

    @property
    def labels(self) -> dict:
        labels = self.metadata.get("labels")
        return labels if isinstance(labels, dict) else {}

    def locate(self, pointer: str) -> tuple[Pos, tuple[tuple[Pos, str], ...]]:
        """Source position for a pointer (nearest located ancestor) and related positions."""
        return self.locator(pointer)

    def violation(self, policy: str, rule: str, severity: str, message: str, path: str,
                  hint: str | None = None) -> Violation:
        pos, related = self.locate(path)
        return Violation(policy, rule, severity, message, path, pos, hint, related)


def resolve(data: Any, pointer: str) -> Any:
    """The value at ``pointer``, or None when absent."""
    for token in split_pointer(pointer):
        if isinstance(data, dict):
            data = data.get(token)
        elif isinstance(data, list) and token.isdigit() and int(token) < len(data):
            data = data[int(token)]
        else:
            return None
    return data


def pod_parts(doc: Document) -> tuple[str, dict, dict] | None:
    """(pointer prefix, pod metadata, pod spec) for a kind with a pod template, else None."""
    prefix = POD_TEMPLATE_PATHS.get(doc.kind)
    if prefix is None:
        return None
    holder = resolve(doc.manifest, prefix)
    if not isinstance(holder, dict):
        return prefix, {}, {}
    meta = holder.get("metadata")
    spec = holder.get("spec")
    return prefix, meta if isinstance(meta, dict) else {}, spec if isinstance(spec, dict) else {}


def node_locator(root: Node) -> Callable[[str], tuple[Pos, tuple]]:
    """Map a JSON pointer to the position of the deepest existing node on its path.

    A mapping entry is located at its key (the line a reader looks at); a list item at the item.
    """

    def locate(pointer: str) -> tuple[Pos, tuple]:
        return node_locate(root, split_pointer(pointer)), ()

    return locate


def classify_kind(api_version: Any, kind: Any) -> tuple[str, str | None]:
    """("check" | "skip" | "error", did-you-mean suggestion)."""
    if not isinstance(kind, str) or not kind:
        return "error", None
    if kind in POD_TEMPLATE_PATHS:
        return "check", None
    if kind in _OTHER_BUILTIN_KINDS:
        return "skip", None
    suggestion = did_you_mean(kind, list(POD_TEMPLATE_PATHS) + sorted(_OTHER_BUILTIN_KINDS))
    group = api_version.split("/", 1)[0] if isinstance(api_version, str) and "/" in api_version else ""
    builtin_group = group == "" or group in _BUILTIN_GROUPS or group.endswith(".k8s.io")
    if builtin_group:
        return "error", suggestion
    return "skip", None  # a custom resource: not ours to judge


def load_manifest_documents(paths: list[str], diags: Diagnostics) -> list[Document]:
    """Documents to check from manifest files; skipped kinds become info notices in ``diags``.

    Files are read as plain data (:func:`podc.source.load_documents`); a source position is only
    computed for what gets reported, which keeps big multi-document files fast.
    """
    from podc.errors import PodcError
    from podc.source.documents import load_documents

    docs: list[Document] = []
    for path in paths:
        try:
            sources = load_documents(path)
        except PodcError as e:
            diags.extend(e.diagnostics)
            continue
        for index, source in enumerate(sources):
            _add_manifest(path, index, source, docs, diags)
    return docs


def _add_manifest(path: str, index: int, source: SourceDocument, docs: list[Document], diags: Diagnostics) -> None:
    data = source.data
    if data is None:  # an empty document ("---" with nothing after it): kubectl skips it too
        return
    if not isinstance(data, dict):
        diags.add("check.not-an-object", "expected a Kubernetes object (a mapping with apiVersion and kind)", source.pos)
        return
    # A `kind: List` wraps items; check each of them.
    if data.get("kind") == "List" and isinstance(data.get("items"), list):
        for i in range(len(data["items"])):
            _add_manifest(path, index, source.item(f"/items/{i}"), docs, diags)
        return
    verdict, suggestion = classify_kind(data.get("apiVersion"), data.get("kind"))
    if verdict == "error":
        if "kind" not in data:
            diags.add("check.missing-kind", "object has no kind", source.pos,
                      hint="every Kubernetes object needs apiVersion and kind (e.g. apiVersion: batch/v1, kind: Job)")
        else:
            hint = f"did you mean {suggestion!r}?" if suggestion else (
                "podc checks " + ", ".join(sorted(POD_TEMPLATE_PATHS)) + "; other built-in kinds are skipped")
            diags.add("check.unknown-kind", f"unknown kind {data.get('kind')!r} in {data.get('apiVersion')!r}",
                      source.value_pos("/kind"), hint=hint)
        return
    if verdict == "skip":
        diags.add("check.skipped-kind", f"{data.get('kind')} has no pod template; not checked", source.locate("/kind"),
                  severity="info")
        return
    docs.append(Document(file=os.fspath(path), index=index, manifest=data, locator=source_locator(source),
                         pos=source.pos))


def source_locator(source: SourceDocument) -> Callable[[str], tuple[Pos, tuple]]:
    """Like :func:`node_locator`, for a document read as plain data with lazy positions."""

    def locate(pointer: str) -> tuple[Pos, tuple]:
        return source.locate(pointer), ()

    return locate
