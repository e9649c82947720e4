"""API-server rules for scheduling and security fields of a pod spec: tolerations, affinity,
topology spread constraints, security contexts (from ``pkg/apis/core/validation``)."""

from __future__ import annotations

from podc.check.apirules_common import (
    Collector,
    as_dict,
    as_list,
    check_label_selector,
    check_operator_values,
    names,
)

__all__ = ["check_tolerations", "check_affinity", "check_spread", "check_security_context"]

TOLERATION_OPERATORS = ("Exists", "Equal")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
NODE_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
WHEN_UNSATISFIABLE = ("DoNotSchedule", "ScheduleAnyway")
SECCOMP_TYPES = ("RuntimeDefault", "Unconfined", "Localhost")
_ID_BOUNDS = (("runAsUser", 0), ("runAsGroup", 0), ("fsGroup", 0))


def check_tolerations(out: Collector, tolerations: object, path: tuple) -> None:
    for i, tol in enumerate(as_list(tolerations)):
        tol = as_dict(tol)
        at = path + (i,)
        op = tol.get("operator")
        out.enum(op, TOLERATION_OPERATORS, "toleration operator", at + ("operator",))
        effect = tol.get("effect")
        if effect != "":
            out.enum(effect, TAINT_EFFECTS, "toleration effect", at + ("effect",))
        key = tol.get("key")
        if isinstance(key, str) and key:
            out.name("api.label-key", names.qualified_name(key), key, "toleration key", at + ("key",))
        elif op != "Exists":
            out.add("api.toleration", "a toleration without a key must use operator: Exists", at + ("operator",))
        value = tol.get("value")
        if op == "Exists" and value not in (None, ""):
            out.add("api.toleration", "operator Exists takes no value", at + ("value",))
        elif isinstance(value, str) and value:
            out.name("api.label-value", names.label_value(value), value, "toleration value", at + ("value",))
        if tol.get("tolerationSeconds") is not None and effect != "NoExecute":
            out.add("api.toleration", "tolerationSeconds only applies to effect NoExecute", at + ("tolerationSeconds",))


def check_affinity(out: Collector, affinity: object, path: tuple) -> None:
    if not affinity or not isinstance(affinity, dict):
        return
    node = as_dict(as_dict(affinity).get("nodeAffinity"))
    required = as_dict(node.get("requiredDuringSchedulingIgnoredDuringExecution"))
    req_path = path + ("nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
    terms = [(req_path + (i,), t) for i, t in enumerate(as_list(required.get("nodeSelectorTerms")))]
    pref_path = path + ("nodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution")
    terms += [(pref_path + (i, "preference"), as_dict(p).get("preference"))
              for i, p in enumerate(as_list(node.get("preferredDuringSchedulingIgnoredDuringExecution")))]
    for where, term in terms:
        for field in ("matchExpressions", "matchFields"):
            for j, expr in enumerate(as_list(as_dict(term).get(field))):
                expr = as_dict(expr)
                at = where + (field, j)
                out.enum(expr.get("operator"), NODE_SELECTOR_OPERATORS, "node selector operator", at + ("operator",))
                check_operator_values(out, expr.get("operator"), expr.get("values"), at)
    for kind in ("podAffinity", "podAntiAffinity"):
        block = as_dict(as_dict(affinity).get(kind))
        base = path + (kind,)
        for i, term in enumerate(as_list(block.get("requiredDuringSchedulingIgnoredDuringExecution"))):
            _pod_affinity_term(out, term, base + ("requiredDuringSchedulingIgnoredDuringExecution", i))
        for i, weighted in enumerate(as_list(block.get("preferredDuringSchedulingIgnoredDuringExecution"))):
            weighted = as_dict(weighted)
            at = base + ("preferredDuringSchedulingIgnoredDuringExecution", i)
            weight = weighted.get("weight")
            if isinstance(weight, int) and not isinstance(weight, bool) and not 1 <= weight <= 100:
                out.add("api.range", f"weight must be between 1 and 100, got {weight}", at + ("weight",))
            _pod_affinity_term(out, weighted.get("podAffinityTerm"), at + ("podAffinityTerm",))


def _pod_affinity_term(out: Collector, term: object, path: tuple) -> None:
    term = as_dict(term)
    check_label_selector(out, term.get("labelSelector"), path + ("labelSelector",))
    check_label_selector(out, term.get("namespaceSelector"), path + ("namespaceSelector",))
    key = term.get("topologyKey")
    if isinstance(key, str):
        if not key:
            out.add("api.affinity", "topologyKey must not be empty", path + ("topologyKey",))
        else:
            out.name("api.label-key", names.qualified_name(key), key, "topologyKey", path + ("topologyKey",))


def check_spread(out: Collector, constraints: object, path: tuple) -> None:
    seen: set[tuple] = set()
    for i, c in enumerate(as_list(constraints)):
        c = as_dict(c)
        at = path + (i,)
        skew = c.get("maxSkew")
        if isinstance(skew, int) and not isinstance(skew, bool) and skew < 1:
            out.add("api.range", f"maxSkew must be at least 1, got {skew}", at + ("maxSkew",))
        out.enum(c.get("whenUnsatisfiable"), WHEN_UNSATISFIABLE, "whenUnsatisfiable", at + ("whenUnsatisfiable",))
        key = (c.get("topologyKey"), c.get("whenUnsatisfiable"))
        if all(isinstance(k, str) for k in key):
            if key in seen:
                out.add("api.duplicate", f"duplicate topology spread constraint {key[0]!r}/{key[1]!r}", at)
            seen.add(key)
        check_label_selector(out, c.get("labelSelector"), at + ("labelSelector",))


def check_security_context(out: Collector, ctx: object, path: tuple) -> None:
    if not ctx or not isinstance(ctx, dict):
        return
    profile = ctx.get("seccompProfile")
    if isinstance(profile, dict):
        kind = profile.get("type")
        if kind is not None:
            out.enum(kind, SECCOMP_TYPES, "seccompProfile.type", path + ("seccompProfile", "type"))
        if kind == "Localhost" and not profile.get("localhostProfile"):
            out.add("api.seccomp", "seccompProfile type Localhost needs localhostProfile",
                    path + ("seccompProfile", "localhostProfile"))
        elif kind in ("RuntimeDefault", "Unconfined") and profile.get("localhostProfile"):
            out.add("api.seccomp", f"localhostProfile is only allowed with type Localhost, not {kind}",
                    path + ("seccompProfile", "localhostProfile"))
    out.min_ints(ctx, _ID_BOUNDS, path)
