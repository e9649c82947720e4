"""Does a policy (or binding) match a request? The API server's ``matchConstraints`` semantics
(``k8s.io/apiserver/pkg/admission/plugin/policy/matching``): namespaceSelector, objectSelector,
excludeResourceRules, resourceRules with wildcards and subresources, scope, resourceNames, and
matchPolicy.

matchPolicy ``Equivalent`` also tries the other versions the API server serves for the same
resource; for the kinds podc checks every served resource has one version (``v1``), so a rule
naming ``batch/v1beta1 jobs`` matches under neither policy, exactly as on a current cluster.
"""

from __future__ import annotations

from podc._record import record
from podc.check.admission.model import MatchResources, ResourceRule

__all__ = ["Request", "RESOURCES", "matches", "selector_matches"]

# kind -> (group, version, resource); every kind podc checks is namespaced.
RESOURCES: dict[str, tuple[str, str, str]] = {
    "Pod": ("", "v1", "pods"), "PodTemplate": ("", "v1", "podtemplates"),
    "ReplicationController": ("", "v1", "replicationcontrollers"),
    "Job": ("batch", "v1", "jobs"), "CronJob": ("batch", "v1", "cronjobs"),
    "Deployment": ("apps", "v1", "deployments"), "StatefulSet": ("apps", "v1", "statefulsets"),
    "DaemonSet": ("apps", "v1", "daemonsets"), "ReplicaSet": ("apps", "v1", "replicasets"),
}
# (group, resource) -> versions a current API server serves
SERVED = {(g, r): (v,) for g, v, r in RESOURCES.values()}


@record
class Request:
    """What the API server would see: a CREATE of ``object`` in ``namespace``."""

    kind: str
    group: str
    version: str
    resource: str
    name: str
    namespace: str
    object: dict
    namespace_labels: dict
    operation: str = "CREATE"
    subresource: str = ""


def selector_matches(selector: dict | None, labels: dict) -> bool:
    """A metav1.LabelSelector; absent or empty selects everything."""
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for req in selector.get("matchExpressions") or []:
        key, op, values = req.get("key"), req.get("operator"), req.get("values") or []
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def _any(items: list[str], value: str) -> bool:
    return "*" in items or value in items


def _rule_matches(rule: ResourceRule, req: Request, group: str, version: str) -> bool:
    if rule.scope == "Cluster" and req.namespace:
        return False
    if rule.scope == "Namespaced" and not req.namespace:
        return False
    if not _any(rule.operations, req.operation) or not _any(rule.api_groups, group) \
            or not _any(rule.api_versions, version):
        return False
    for res in rule.resources:
        name, _, sub = res.partition("/")
        if (name == "*" or name == req.resource) and (sub == "*" or sub == req.subresource):
            break
    else:
        return False
    return not rule.resource_names or req.name in rule.resource_names


def _rules_match(rules: list[ResourceRule], match_policy: str, req: Request) -> bool:
    if any(_rule_matches(r, req, req.group, req.version) for r in rules):
        return True
    if match_policy != "Equivalent":
        return False
    others = [v for v in SERVED.get((req.group, req.resource), ()) if v != req.version]
    return any(_rule_matches(r, req, req.group, v) for r in rules for v in others)


def matches(match: MatchResources | None, req: Request, is_binding: bool) -> bool:
    if match is None:
        return is_binding  # a binding without matchResources matches whatever its policy matches
    # All conditions must hold (none can fail with an error), so the cheap resource test goes first.
    if match.exclude and _rules_match(match.exclude, match.match_policy, req):
        return False
    if not (is_binding and match.rules is None) and not _rules_match(match.rules or [], match.match_policy, req):
        return False
    if req.namespace and not selector_matches(match.namespace_selector, req.namespace_labels):
        return False
    labels = (req.object.get("metadata") or {}).get("labels") or {}
    return selector_matches(match.object_selector, labels if isinstance(labels, dict) else {})
