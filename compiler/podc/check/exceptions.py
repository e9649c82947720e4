"""Policy exceptions: a documented, reviewable way to accept one violation.

An exception lives in the project file (``policies.exceptions``), in an exception file the project
lists (``policies.exceptionFiles``), or -- only when the project opts in with
``policies.layerExceptions`` -- in a layer (``exceptions``)::

    exceptions:
      - policy: pod-security            # pod-security | best-practices | schema | <custom policy>
        rule: privileged                # a rule (check) id of that policy
        targets: [gpu-*]                # optional globs over project target names
        reason: the GPU driver installer needs host access (SEC-1234)
        expires: 2027-03-31             # optional; from the day after, it stops applying

An exception in a layer applies only to targets built from that layer. An expired exception no
longer applies and is reported as a warning at its own line, so the violation it hid reappears
together with the reason it was once accepted. The job author a policy guards must not be able to
switch it off: :class:`ExceptionRules` (the project's governance) decides which policies a layer
may except and how far ahead an exception may expire. Schema errors (the API server would reject
the object) are never suppressed. A suppressed violation is kept on its document
(``Document.suppressed``) with the exception that suppressed it, for the reports.
"""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING, Iterable

from podc._record import record
from podc.check.documents import Document, Violation
from podc.errors import Diagnostics, Pos, did_you_mean
from podc.tree import MapNode, Node, ScalarNode, SeqNode, to_plain

if TYPE_CHECKING:  # datetime is imported where a date is read: most projects have no exceptions
    import datetime as _dt

__all__ = ["PolicyException", "ExceptionRules", "Suppressed", "read_exceptions", "validate_ids",
           "apply_exceptions", "govern_expiry", "layer_may_except"]

_KEYS = ("policy", "rule", "targets", "reason", "expires")
# The project setting is `policies.pss`, so `policy: pss` is what people write (docs/format.md too).
_POLICY_ALIASES = {"pss": "pod-security"}
_SCHEMA = "schema"


@record(frozen=True)
class Suppressed:
    """A violation an exception accepted: reported as suppressed, never silently dropped."""

    violation: Violation
    exception: PolicyException


@record(frozen=True)
class ExceptionRules:
    """The project's rules for exceptions (``policies.layerExceptions`` / ``exceptionExpiry``).

    ``layers``: False (the default: layers may not declare exceptions), True (any policy), or the
    ``policy`` and ``policy/rule`` ids layers may except."""

    layers: bool | tuple[str, ...] = False
    layers_pos: Pos | None = None
    require_expiry: bool = False
    max_days: int | None = None
    expiry_pos: Pos | None = None


def canonical_policy(policy: str) -> str:
    return _POLICY_ALIASES.get(policy, policy)


def layer_may_except(rules: ExceptionRules, exc: "PolicyException") -> bool:
    if isinstance(rules.layers, bool):
        return rules.layers
    return exc.policy in rules.layers or f"{exc.policy}/{exc.rule}" in rules.layers


def govern_expiry(exceptions: Iterable["PolicyException"], rules: ExceptionRules, today: _dt.date | None,
                  diags: Diagnostics) -> None:
    """Every exception has an expiry when the project requires one, at most ``max_days`` ahead
    (``today`` by default the current date)."""
    if not rules.require_expiry and rules.max_days is None:
        return
    import datetime as _dt

    today = today or _dt.date.today()
    for exc in exceptions:
        if exc.expires is None:
            if rules.require_expiry:
                diags.add("exception.expiry-required", f"exception for {exc.policy}/{exc.rule} has no expiry date",
                          exc.pos, hint="the project requires one (policies.exceptionExpiry.required): add "
                          "`expires: YYYY-MM-DD`", related=_where(rules.expiry_pos, "required here"))
        elif rules.max_days is not None and (exc.expires - today).days > rules.max_days:
            latest = today + _dt.timedelta(days=rules.max_days)
            diags.add("exception.expiry-too-far",
                      f"exception for {exc.policy}/{exc.rule} expires on {exc.expires.isoformat()}, more than "
                      f"{rules.max_days} days ahead", exc.expires_pos or exc.pos,
                      hint=f"the project allows at most {rules.max_days} days (policies.exceptionExpiry.maxDays): "
                      f"expire on {latest.isoformat()} or earlier, and renew it then",
                      related=_where(rules.expiry_pos, "the limit is set here"))


def _where(pos: Pos | None, message: str) -> tuple:
    return ((pos, message),) if pos is not None and pos.file else ()


@record
class PolicyException:
    policy: str
    rule: str
    targets: tuple[str, ...] | None
    reason: str
    expires: _dt.date | None
    pos: Pos
    layer: str | None = None       # set for exceptions written in a layer
    used: int = 0
    expires_pos: Pos | None = None

    def covers(self, doc: Document, v: Violation) -> bool:
        if v.policy != self.policy or v.rule != self.rule:
            return False
        if v.policy == _SCHEMA and v.severity == "error":  # the API server would reject it anyway
            return False
        if self.layer is not None and self.layer not in getattr(doc, "layers", ()):
            return False
        if self.targets is not None:
            subject = doc.target if doc.target is not None else doc.name
            return any(fnmatch.fnmatchcase(subject, t) for t in self.targets)
        return True


def read_exceptions(node: Node | None, diags: Diagnostics, layer: str | None = None) -> list[PolicyException]:
    """Parse an ``exceptions`` list (positioned) with located errors."""
    if node is None:
        return []
    if not isinstance(node, SeqNode):
        diags.add("exception.shape", "exceptions must be a list", node.origin.pos)
        return []
    out: list[PolicyException] = []
    for item in node.items:
        exc = _read_one(item, diags, layer)
        if exc is not None:
            out.append(exc)
    return out


def _read_one(node: Node, diags: Diagnostics, layer: str | None) -> PolicyException | None:
    if not isinstance(node, MapNode):
        diags.add("exception.shape", "an exception is a mapping with policy, rule and reason", node.origin.pos)
        return None
    before = len(diags.errors)
    for key in node.items:
        if key not in _KEYS:
            guess = did_you_mean(key, _KEYS)
            diags.add("exception.unknown-key", f"unknown key {key!r} in an exception", node.key_pos.get(key, node.origin.pos),
                      hint=f"did you mean {guess!r}?" if guess else "keys: " + ", ".join(_KEYS))
    data = to_plain(node)
    for key in ("policy", "rule", "reason"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            diags.add("exception.missing", f"an exception needs a non-empty {key!r}", node.origin.pos,
                      hint="a reason says why the violation is accepted (a ticket, a person)" if key == "reason" else None)
    targets = data.get("targets")
    if isinstance(targets, str):
        targets = [targets]
    if targets is not None and not (isinstance(targets, list) and all(isinstance(t, str) for t in targets)):
        diags.add("exception.targets", "targets must be a list of target names or globs", node.items["targets"].origin.pos)
    expires = _date(node.items.get("expires"), diags)
    if len(diags.errors) > before:
        return None
    policy = canonical_policy(data["policy"])
    expires_node = node.items.get("expires")
    return PolicyException(policy, data["rule"], tuple(targets) if targets is not None else None,
                           data["reason"], expires, node.origin.pos, layer,
                           expires_pos=expires_node.origin.pos if expires_node is not None else None)


def _date(node: Node | None, diags: Diagnostics) -> _dt.date | None:
    if node is None:
        return None
    import datetime as _dt

    value = node.value if isinstance(node, ScalarNode) else None
    try:
        return _dt.date.fromisoformat(str(value)) if value is not None else None
    except ValueError:
        diags.add("exception.expires", f"expires must be a date YYYY-MM-DD, got {value!r}", node.origin.pos)
        return None


def validate_ids(exceptions: Iterable[PolicyException], known: dict[str, list[str]], diags: Diagnostics) -> None:
    """Unknown policy or rule ids are located errors with a did-you-mean hint."""
    for exc in exceptions:
        if exc.policy not in known:
            guess = did_you_mean(exc.policy, known)
            diags.add("exception.unknown-policy", f"unknown policy {exc.policy!r} in an exception", exc.pos,
                      hint=f"did you mean {guess!r}?" if guess else "policies: " + ", ".join(sorted(known)))
        elif known[exc.policy] and exc.rule not in known[exc.policy]:
            guess = did_you_mean(exc.rule, known[exc.policy])
            diags.add("exception.unknown-rule", f"policy {exc.policy!r} has no rule {exc.rule!r}", exc.pos,
                      hint=f"did you mean {guess!r}?" if guess else None)


def apply_exceptions(documents: list[Document], exceptions: list[PolicyException], diags: Diagnostics,
                     today: _dt.date | None = None) -> int:
    """Move excepted violations to ``doc.suppressed`` (with their exception); returns how many.

    Expired exceptions do not apply; each is reported once as a warning at its own position.
    """
    if not exceptions:
        return 0
    import datetime as _dt

    today = today or _dt.date.today()
    active: list[PolicyException] = []
    for exc in exceptions:
        if exc.expires is not None and exc.expires < today:
            diags.add("exception.expired",
                      f"exception for {exc.policy}/{exc.rule} expired on {exc.expires.isoformat()}; it no longer applies",
                      exc.pos, severity="warning", hint=f"it was granted because: {exc.reason}. Fix the violation, "
                      "or renew the exception with a new expiry date")
        else:
            active.append(exc)
    suppressed = 0
    for doc in documents:
        kept: list[Violation] = []
        for v in doc.violations:
            hit = next((e for e in active if e.covers(doc, v)), None)
            if hit is None:
                kept.append(v)
            else:
                hit.used += 1
                suppressed += 1
                doc.suppressed.append(Suppressed(v, hit))
        doc.violations = kept
    return suppressed
