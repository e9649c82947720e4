"""Evaluating one policy + binding + param on one admitted object, as the API server's validator
does (``k8s.io/apiserver/pkg/admission/plugin/policy/validating``):

1. ``matchConditions``: any false skips the policy; otherwise an error is an evaluation error;
2. ``validations`` in order, with lazily evaluated ``variables``; a false result denies with the
   messageExpression's string (trimmed, single line, at most 5 KiB), else ``message``, else
   ``failed expression: <expression>``;
3. an evaluation error denies under ``failurePolicy: Fail`` (message ``expression '…' resulted in
   error: …``) and is ignored under ``Ignore``;
4. ``auditAnnotations`` are evaluated only for their errors (which deny under Fail).

Cost: each expression may spend PerCallLimit (10^6); one (policy, binding, param) evaluation
10^7 (RuntimeCELCostBudget), lazily evaluated variables included. Out of budget is an
evaluation error.
"""

from __future__ import annotations

from typing import Any

from podc._record import record
from podc.check.admission.model import Expr, Policy
from podc.check.cel import PER_CALL_LIMIT, CelError, CostExceeded
from podc.check.cel.interpreter import Lazy

__all__ = ["Decision", "evaluate_policy", "RUNTIME_BUDGET"]

RUNTIME_BUDGET = 10_000_000   # the API server's RuntimeCELCostBudget per policy evaluation
MAX_MESSAGE = 5 * 1024        # MaxEvaluatedMessageExpressionSizeBytes
_OUT_OF_BUDGET = "validation failed due to running out of cost budget, no further validation rules will be run"


@record
class Decision:
    rule: str           # validation-N, match-conditions, audit-annotation-KEY
    message: str
    error: bool         # an evaluation error rather than a false validation
    reason: str | None = None
    index: int | None = None      # the validation's index in spec.validations
    position: int | None = None   # its position among the loaded validations


class _OutOfBudget(Exception):
    pass


class _Budget:
    __slots__ = ("remaining",)

    def __init__(self, total: int):
        self.remaining = total

    def run(self, expr: Expr, variables: dict) -> Any:
        limit = min(PER_CALL_LIMIT, self.remaining)
        try:
            value, cost = expr.program.run(variables, limit)
        except CostExceeded:
            if limit < PER_CALL_LIMIT:
                raise _OutOfBudget() from None
            raise
        self.remaining -= cost
        return value


class _Variables(dict):
    """``variables``: each computed on first use, then cached (errors too), its cost charged to
    the policy's budget."""

    def __init__(self, declared: list[tuple[str, Expr]], budget: _Budget):
        super().__init__()
        self._declared = dict(declared)
        self._budget = budget
        self._errors: dict[str, CelError] = {}
        self.activation: dict = {}

    def __contains__(self, key: object) -> bool:
        return key in self._declared

    def __missing__(self, key: str) -> Any:
        if key in self._errors:
            raise self._errors[key]
        expr = self._declared.get(key)
        if expr is None:
            raise KeyError(key)
        try:
            value = self._budget.run(expr, self.activation)
        except CostExceeded:
            raise
        except CelError as e:
            error = CelError(f'composited variable "{key}" fails to evaluate: {e}')
            self._errors[key] = error
            raise error from None
        self[key] = value
        return value

    def __len__(self) -> int:
        return len(self._declared)

    def __iter__(self):
        return iter(self._declared)


def _no_authorizer(_a: Any) -> Any:
    raise CelError("authorizer checks are not available offline: podc has no cluster to ask")


_AUTHORIZER = Lazy(_no_authorizer)


def evaluate_policy(policy: Policy, obj: dict, request: dict, params: Any, namespace_object: Any
                    ) -> list[Decision]:
    """Decisions that deny (false validations and evaluation errors), before failurePolicy."""
    budget = _Budget(RUNTIME_BUDGET)
    variables = _Variables(policy.variables, budget)
    activation = {"object": obj, "oldObject": None, "request": request, "params": params,
                  "namespaceObject": namespace_object, "variables": variables, "authorizer": _AUTHORIZER}
    variables.activation = activation
    try:
        return _evaluate(policy, activation, budget)
    except _OutOfBudget:
        return [Decision("cost-budget", _OUT_OF_BUDGET, True)]


def _evaluate(policy: Policy, activation: dict, budget: _Budget) -> list[Decision]:
    if policy.match_conditions:
        error: str | None = None
        for name, expr in policy.match_conditions:
            try:
                value = budget.run(expr, activation)
            except CelError as e:
                error = error or f"matchCondition {name!r}: expression '{expr.source.strip()}' resulted in error: {e}"
                continue
            if value is False:
                return []
            if value is not True:
                error = error or f"matchCondition {name!r}: expression must return a bool"
        if error is not None:
            return [Decision("match-conditions", error, True)]
    out: list[Decision] = []
    for position, v in enumerate(policy.validations):
        try:
            value = budget.run(v.expr, activation)
        except CelError as e:
            out.append(Decision(v.rule, f"expression '{v.expr.source.strip()}' resulted in error: {e}", True,
                                index=v.index, position=position))
            continue
        if value is True:
            continue
        out.append(Decision(v.rule, _message(v, activation, budget), False, v.reason or "Invalid", v.index,
                            position))
    for key, expr in policy.audit_annotations:
        try:
            value = budget.run(expr, activation)
        except CelError as e:
            out.append(Decision(f"audit-annotation-{key}", f"expression '{expr.source.strip()}' resulted in error: {e}",
                                True))
            continue
        if value is not None and type(value) is not str:
            out.append(Decision(f"audit-annotation-{key}", f"valueExpression '{expr.source.strip()}' resulted in "
                                "unsupported return type; it must return a string or null", True))
    return out


def _message(v: Any, activation: dict, budget: _Budget) -> str:
    if v.message_expr is not None:
        try:
            text = budget.run(v.message_expr, activation)
        except CelError:
            text = None  # the API server logs it and falls back to message
        if type(text) is str:
            text = text.strip()
            if text and len(text) <= MAX_MESSAGE and "\n" not in text:
                return text
    if v.message:
        return v.message
    return f"failed expression: {v.expr.source.strip()}"
