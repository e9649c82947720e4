"""Offline ValidatingAdmissionPolicy evaluation for checked documents: which policy and binding
match each admitted object (the Job, and the Pod its controller creates), which params each
binding selects, and the violations that result.

Violations use policy ``admission/<policy name>`` and rule ``validation-<index>`` (the index the
API server reports as ``expressionIndex``), ``match-conditions``, ``params``, ``cost-budget`` or
``audit-annotation-<key>``. Severity follows the binding's validationActions: Deny -> error,
Warn -> warning, Audit -> info (several actions: the highest). A binding that cannot be
configured (params not found under ``parameterNotFoundAction: Deny``) denies under
``failurePolicy: Fail`` whatever its actions, as the API server does.

Namespaces: a Namespace object among the admission inputs supplies ``namespaceObject`` and the
labels ``namespaceSelector`` matches. A namespace that is not among them is assumed to exist
with only the label the API server puts on every namespace (``kubernetes.io/metadata.name``), and
an info notice says so once per namespace.
"""

from __future__ import annotations

from typing import Any

from podc.check.admission.evaluate import Decision, evaluate_policy
from podc.check.admission.loader import AdmissionInputs
from podc.check.admission.matching import RESOURCES, Request, matches, selector_matches
from podc.check.admission.model import Binding, Expr, Policy
from podc.check.admission.objects import Admitted, admitted_objects, request_object
from podc.check.documents import Document, Violation
from podc.errors import Diagnostics

__all__ = ["AdmissionChecker"]

NAME_LABEL = "kubernetes.io/metadata.name"
_NAMESPACED_BUILTINS = frozenset(("ConfigMap", "Secret", "ServiceAccount", "Service", "LimitRange", "ResourceQuota",
                                  "Pod", "PodTemplate", "Job", "CronJob", "Deployment", "StatefulSet", "DaemonSet",
                                  "ReplicaSet", "Role", "RoleBinding", "Endpoints", "Event", "Lease"))


class AdmissionChecker:
    def __init__(self, inputs: AdmissionInputs):
        self.policies: list[Policy] = sorted((p for p in inputs.policies.values() if p.bindings),
                                             key=lambda p: p.name)
        self.all_policies = inputs.policies
        self.namespaces = inputs.namespaces
        self.params = inputs.params
        self._paths: dict[int, str] = {}
        self._told: set[str] = set()

    def rule_ids(self) -> dict[str, list[str]]:
        return {p.id: p.rule_ids() for p in self.all_policies.values()}

    def describe(self, policy_id: str, rule: str) -> dict | None:
        """SARIF rule metadata: the validation's message or expression."""
        for p in self.all_policies.values():
            if p.id == policy_id:
                for v in p.validations:
                    if v.rule == rule:
                        return {"title": v.message or f"{p.name}: {v.expr.source.strip()}"}
                return {"title": f"ValidatingAdmissionPolicy {p.name}: {rule}"}
        return None

    def evaluate(self, doc: Document, notices: Diagnostics | None = None,
                 default_namespace: str = "default") -> list[Violation]:
        if doc.kind not in RESOURCES or not self.policies:
            return []
        out: list[Violation] = []
        for item in admitted_objects(doc, doc.namespace or default_namespace):
            out.extend(self._admit(doc, item, notices))
        return out

    def _admit(self, doc: Document, item: Admitted, notices: Diagnostics | None) -> list[Violation]:
        group, version, resource = RESOURCES[item.kind]
        meta = item.object.get("metadata") or {}
        namespace = meta.get("namespace") or ""
        labels, namespace_object = self._namespace(namespace, doc, notices)
        req = Request(item.kind, group, version, resource, meta.get("name", "") if not item.generated_name else "",
                      namespace, item.object, labels)
        request = None
        out: list[Violation] = []
        for policy in self.policies:
            if not matches(policy.match, req, is_binding=False):
                continue
            for binding in policy.bindings:
                if not matches(binding.match, req, is_binding=True):
                    continue
                request = request or request_object(item, group, version, resource, namespace)
                params, config_error = self._params(policy, binding, namespace)
                if config_error is not None:
                    if policy.failure_policy == "Fail":
                        out.append(self._violation(doc, item, policy, binding, None,
                                                   Decision("params", config_error, True), "error"))
                    continue
                for param in params:
                    data = param.data if param is not None else None
                    for decision in evaluate_policy(policy, item.object, request, data, namespace_object):
                        if decision.error and policy.failure_policy == "Ignore":
                            continue
                        out.append(self._violation(doc, item, policy, binding, param, decision, binding.severity))
        return out

    def _namespace(self, name: str, doc: Document, notices: Diagnostics | None) -> tuple[dict, Any]:
        if not name:
            return {}, None
        known = self.namespaces.get(name)
        if known is None:
            if notices is not None and name not in self._told:
                self._told.add(name)
                notices.add("admission.unknown-namespace", f"namespace {name!r} is not among the admission inputs; "
                            f"policies see it with only the label {NAME_LABEL}={name}", doc.pos, severity="info",
                            hint="add its Namespace manifest to an --admission path (or policies.admission) so "
                                 "namespaceSelector and namespaceObject see its real labels")
            labels = {NAME_LABEL: name}
            return labels, {"metadata": {"name": name, "labels": labels}, "spec": {}, "status": {"phase": "Active"}}
        meta = known.get("metadata") or {}
        labels = {**(meta.get("labels") or {}), NAME_LABEL: name}
        keep = ("name", "generateName", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                "deletionTimestamp", "deletionGracePeriodSeconds", "annotations", "finalizers")
        obj = {"metadata": {**{k: meta[k] for k in keep if k in meta}, "labels": labels},
               "spec": known.get("spec") or {}, "status": known.get("status") or {"phase": "Active"}}
        return labels, obj

    def _params(self, policy: Policy, binding: Binding, namespace: str) -> tuple[list, str | None]:
        ref = binding.param_ref
        if policy.param_kind is None or ref is None:
            return [None], None
        api_version, kind = policy.param_kind
        group = api_version.rpartition("/")[0]
        candidates = [p for p in self.params if p.kind == kind and p.api_version.rpartition("/")[0] == group]
        namespaced = kind in _NAMESPACED_BUILTINS or any(p.namespace for p in candidates)
        if not namespaced and ref.namespace:
            return [], "failed to configure binding: paramRef.namespace must not be provided for a cluster-scoped " \
                       "`paramKind`"
        if namespaced:
            ns = ref.namespace or namespace
            if not ns:
                return [], "failed to configure binding: cannot use namespaced paramRef in policy binding that " \
                           "matches cluster-scoped resources"
            candidates = [p for p in candidates if (p.namespace or "default") == ns]
        if ref.name is not None:
            found = [p for p in candidates if p.name == ref.name]
        else:
            found = [p for p in candidates if selector_matches(ref.selector, p.labels)]
        if not found and ref.not_found_action == "Deny":
            return [], "failed to configure binding: no params found for policy binding with `Deny` " \
                       "parameterNotFoundAction"
        return sorted(found, key=lambda p: (p.namespace, p.name)), None

    def _violation(self, doc: Document, item: Admitted, policy: Policy, binding: Binding, param: Any,
                   decision: Decision, severity: str) -> Violation:
        path = ""
        if decision.position is not None:
            path = self._object_path(policy, policy.validations[decision.position].expr)
        pointer = _join(item.prefix, path, item.kind)
        hint = f"binding {binding.name!r}"
        if param is not None:
            hint += f", params {param.kind} {(param.namespace + '/') if param.namespace else ''}{param.name}"
        if item.note:
            hint += f"; {item.note}"
        return doc.violation(policy.id, decision.rule, severity, decision.message, pointer, hint)

    def _object_path(self, policy: Policy, expr: Expr) -> str:
        key = id(expr)
        if key not in self._paths:
            self._paths[key] = object_path(expr, dict(policy.variables))
        return self._paths[key]


def _join(prefix: str, path: str, kind: str) -> str:
    """A pointer into the admitted object, as a pointer into the document it was made from (a
    Pod's /spec/containers is the template's /spec/template/spec/containers)."""
    return prefix + path


def object_path(expr: Expr, variables: dict[str, Expr], depth: int = 0) -> str:
    """The JSON pointer of the most specific ``object.a.b[…]`` an expression reads (through the
    variables it uses): where a violation of it is reported."""
    from podc.check.cel.nodes import Has, Ident, Index, Lit, Select, walk

    best: list[str] = []
    for node in walk(expr.program.tree):
        tokens: list[str] = []
        n: Any = node
        while True:
            if type(n) in (Select, Has):
                tokens.append(n.field)
                n = n.operand
            elif type(n) is Index and type(n.index) is Lit and isinstance(n.index.value, (str, int)):
                tokens.append(str(n.index.value))
                n = n.operand
            else:
                break
        if type(n) is not Ident or not tokens:
            continue
        tokens.reverse()
        if n.name == "object" and len(tokens) > len(best):
            best = tokens
        elif n.name == "variables" and depth < 8 and tokens[0] in variables:
            inner = object_path(variables[tokens[0]], variables, depth + 1)
            if inner.count("/") > len(best):
                best = [t.replace("~1", "/").replace("~0", "~") for t in inner.split("/")[1:]]
    return "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in best)


__all__ += ["object_path"]
