"""Label selectors (``a=b,c!=d,e in (f,g),!h``) and field selectors (``status.phase=Running``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from podc._record import record
from podc.testing._util import dig
from podc.testing.api_errors import ApiError, bad_request

__all__ = ["LabelSelector", "FieldSelector", "parse_label_selector", "parse_field_selector", "match_label_selector_obj"]


@record(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        if self.op == "exists":
            return self.key in labels
        if self.op == "!exists":
            return self.key not in labels
        if self.op in ("=", "in"):
            return self.key in labels and labels[self.key] in self.values
        if self.op in ("!=", "notin"):
            return self.key not in labels or labels[self.key] not in self.values
        raise AssertionError(self.op)


@record(frozen=True)
class LabelSelector:
    requirements: tuple[Requirement, ...]

    def matches(self, labels: dict[str, str] | None) -> bool:
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)


_SET_RE = re.compile(r"\s*([A-Za-z0-9_./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*\Z")
_EQ_RE = re.compile(r"\s*([A-Za-z0-9_./-]+)\s*(==|!=|=)\s*([A-Za-z0-9_.-]*)\s*\Z")
_EXISTS_RE = re.compile(r"\s*(!?)\s*([A-Za-z0-9_./-]+)\s*\Z")


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p for p in parts if p.strip()]


def parse_label_selector(text: str | None) -> LabelSelector:
    if not text:
        return LabelSelector(())
    reqs: list[Requirement] = []
    for part in _split_top_level(text):
        if m := _SET_RE.match(part):
            values = tuple(v.strip() for v in m.group(3).split(",") if v.strip())
            reqs.append(Requirement(m.group(1), m.group(2), values))
        elif m := _EQ_RE.match(part):
            op = "!=" if m.group(2) == "!=" else "="
            reqs.append(Requirement(m.group(1), op, (m.group(3),)))
        elif m := _EXISTS_RE.match(part):
            reqs.append(Requirement(m.group(2), "!exists" if m.group(1) else "exists"))
        else:
            raise bad_request(f'unable to parse requirement: found \'{part.strip()}\', invalid label selector "{text}"')
    return LabelSelector(tuple(reqs))


def match_label_selector_obj(selector: dict[str, Any] | None, labels: dict[str, str] | None) -> bool:
    """Match a structured ``metav1.LabelSelector`` (matchLabels + matchExpressions)."""
    if not selector:
        return True
    labels = labels or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}
    for expr in selector.get("matchExpressions") or []:
        req = Requirement(expr["key"], ops[expr["operator"]], tuple(expr.get("values") or ()))
        if not req.matches(labels):
            return False
    return True


# Field selectors: which fields each resource supports (as the real API server does).
_COMMON_FIELDS = ("metadata.name", "metadata.namespace")
SUPPORTED_FIELDS: dict[str, tuple[str, ...]] = {
    "pods": _COMMON_FIELDS + ("status.phase", "spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                              "spec.serviceAccountName", "status.podIP", "status.nominatedNodeName"),
    "events": _COMMON_FIELDS + ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                                "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
                                "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"),
    "secrets": _COMMON_FIELDS + ("type",),
    "jobs": _COMMON_FIELDS + ("status.successful",),
    "namespaces": _COMMON_FIELDS + ("status.phase",),
    "nodes": _COMMON_FIELDS + ("spec.unschedulable",),
}


def _field_value(obj: dict[str, Any], field: str) -> str:
    if field == "source":
        return str(dig(obj, "source", "component", default=""))
    if field == "status.successful":
        return str(dig(obj, "status", "succeeded", default=0))
    value = dig(obj, *field.split("."), default="")
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


@record(frozen=True)
class FieldSelector:
    terms: tuple[tuple[str, str, str], ...]  # (field, op, value) with op "=" or "!="

    def matches(self, obj: dict[str, Any]) -> bool:
        for field, op, value in self.terms:
            actual = _field_value(obj, field)
            if (actual == value) != (op == "="):
                return False
        return True


def parse_field_selector(text: str | None, resource: str) -> FieldSelector:
    if not text:
        return FieldSelector(())
    terms = []
    allowed = SUPPORTED_FIELDS.get(resource, _COMMON_FIELDS)
    for part in _split_top_level(text):
        m = re.match(r"\s*([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*?)\s*\Z", part)
        if not m:
            raise bad_request(f'invalid selector: \'{text}\'; can\'t understand \'{part}\'')
        field = m.group(1)
        if field not in allowed:
            raise ApiError(
                400, "BadRequest",
                f'field label not supported: {field}',
            )
        terms.append((field, "!=" if m.group(2) == "!=" else "=", m.group(3)))
    return FieldSelector(tuple(terms))


def selector_predicate(label: str | None, field: str | None, resource: str) -> Callable[[dict[str, Any]], bool]:
    ls = parse_label_selector(label)
    fs = parse_field_selector(field, resource)

    def pred(obj: dict[str, Any]) -> bool:
        return ls.matches(dig(obj, "metadata", "labels")) and fs.matches(obj)

    return pred
