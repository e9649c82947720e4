"""ValidatingAdmissionPolicy and binding, as loaded: plain data with compiled expressions and the
source position of every part an error may point at."""

from __future__ import annotations

from typing import Any

from podc._record import field, record
from podc.errors import Pos

__all__ = ["Expr", "Validation", "ResourceRule", "MatchResources", "ParamRef", "Policy", "Binding", "ParamObject",
           "policy_id", "ACTIONS_SEVERITY"]

# A binding's validationActions -> the severity of the violation (several actions: the highest).
ACTIONS_SEVERITY = {"Deny": "error", "Warn": "warning", "Audit": "info"}


def policy_id(name: str) -> str:
    """The policy id reports and exceptions use for a ValidatingAdmissionPolicy."""
    return f"admission/{name}"


@record
class Expr:
    source: str
    program: Any
    pos: Pos          # the YAML scalar holding the expression


@record
class Validation:
    index: int
    expr: Expr
    message: str | None
    message_expr: Expr | None
    reason: str | None
    pos: Pos

    @property
    def rule(self) -> str:
        return f"validation-{self.index}"


@record
class ResourceRule:
    operations: list[str]
    api_groups: list[str]
    api_versions: list[str]
    resources: list[str]
    scope: str
    resource_names: list[str]


@record
class MatchResources:
    namespace_selector: dict | None
    object_selector: dict | None
    rules: list[ResourceRule] | None     # None: unset (a binding then matches what the policy does)
    exclude: list[ResourceRule]
    match_policy: str


@record
class ParamRef:
    name: str | None
    namespace: str | None
    selector: dict | None
    not_found_action: str


@record
class Policy:
    name: str
    file: str
    pos: Pos
    failure_policy: str
    param_kind: tuple[str, str] | None     # (apiVersion, kind)
    match: MatchResources
    match_conditions: list[tuple[str, Expr]]
    variables: list[tuple[str, Expr]]
    validations: list[Validation]
    audit_annotations: list[tuple[str, Expr]]
    bindings: list["Binding"] = field(default_factory=list)

    @property
    def id(self) -> str:
        return policy_id(self.name)

    def rule_ids(self) -> list[str]:
        return [v.rule for v in self.validations] + ["match-conditions", "params", "cost-budget"] + \
            [f"audit-annotation-{k}" for k, _ in self.audit_annotations]


@record
class Binding:
    name: str
    file: str
    pos: Pos
    policy_name: str
    actions: list[str]
    param_ref: ParamRef | None
    match: MatchResources | None

    @property
    def severity(self) -> str:
        ranked = sorted((ACTIONS_SEVERITY[a] for a in self.actions), key=("error", "warning", "info").index)
        return ranked[0] if ranked else "error"


@record
class ParamObject:
    api_version: str
    kind: str
    name: str
    namespace: str
    labels: dict
    data: dict
    pos: Pos
