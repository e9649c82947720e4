"""Policy exceptions: a documented, reviewable way to accept one violation.

An exception lives in the project file (``policies.exceptions``) or in a layer (``exceptions``)::

    exceptions:
      - policy: pod-security            # pod-security | best-practices | schema | <custom policy>
        rule: privileged                # a rule (check) id of that policy
        targets: [gpu-*]                # optional globs over project target names
        reason: the GPU driver installer needs host access (SEC-1234)
        expires: 2027-03-31             # optional; from the day after, it stops applying

An exception in a layer applies only to targets built from that layer. An expired exception no
longer applies and is reported as a warning at its own line, so the violation it hid reappears
together with the reason it was once accepted.
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
from dataclasses import dataclass
from typing import Iterable

from podc.check.documents import Document, Violation
from podc.errors import Diagnostics, Pos, did_you_mean
from podc.tree import MapNode, Node, ScalarNode, SeqNode, to_plain

__all__ = ["PolicyException", "read_exceptions", "validate_ids", "apply_exceptions"]

_KEYS = ("policy", "rule", "targets", "reason", "expires")
# The project setting is `policies.pss`, so `policy: pss` is what people write (docs/format.md too).
_POLICY_ALIASES = {"pss": "pod-security"}


@dataclass
class PolicyException:
    policy: str
    rule: str
    targets: tuple[str, ...] | None
    reason: str
    expires: _dt.date | None
    pos: Pos
    layer: str | None = None       # set for exceptions written in a layer
    used: int = 0

    def covers(self, doc: Document, v: Violation) -> bool:
        if v.policy != self.policy or v.rule != self.rule:
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
    policy = _POLICY_ALIASES.get(data["policy"], data["policy"])
    return PolicyException(policy, data["rule"], tuple(targets) if targets is not None else None,
                           data["reason"], expires, node.origin.pos, layer)


def _date(node: Node | None, diags: Diagnostics) -> _dt.date | None:
    if node is None:
        return None
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
    """Drop excepted violations in place; returns how many were suppressed.

    Expired exceptions do not apply; each is reported once as a warning at its own position.
    """
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
        doc.violations = kept
    return suppressed
