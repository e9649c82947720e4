"""Errors as values with source positions.

Every stage reports problems as :class:`Diagnostic` values (a stable ``code``, a message, the
primary position, an optional hint and related positions).  A stage collects them in a
:class:`Diagnostics` list and raises one :class:`PodcError` carrying all of them, so a run reports
every problem it found, not only the first one.  One renderer (:func:`format_diagnostics`) prints
them CUE-style, one ``./file:line:col`` per line so editors link them.

This module imports nothing heavy: the CLI imports it on every start.
"""

from __future__ import annotations

import os
from typing import Iterable, Iterator

from podc._record import field, record
from podc.kube.secrets import redact_text

__all__ = [
    "Pos",
    "Diagnostic",
    "Diagnostics",
    "PodcError",
    "format_diagnostics",
    "did_you_mean",
]


@record(frozen=True, slots=True, order=True)
class Pos:
    """A place in a source file. ``line`` and ``col`` are 1-based; 0 means unknown."""

    file: str | None = None
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        return self.display()

    def display(self, cwd: str | None = None) -> str:
        name = _relative(self.file, cwd) if self.file else None
        if name and self.line:
            return f"{name}:{self.line}:{self.col}" if self.col else f"{name}:{self.line}"
        if name:
            return name
        if self.line:
            return f"{self.line}:{self.col}"
        return "-"

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line, "column": self.col}


NOWHERE = Pos()

SEVERITIES = ("error", "warning", "info")


@record(frozen=True, slots=True)
class Diagnostic:
    """One problem found in the input.

    ``code`` is stable and dotted (``yaml.duplicate-key``, ``layer.unknown-field``); ``path`` is the
    keyed path into the data (``containers[name=app].env[name=FOO]``) when there is one;
    ``related`` are other positions that contributed (the first definition of a duplicate, the
    layer a value overrode).
    """

    code: str
    message: str
    pos: Pos = NOWHERE
    hint: str | None = None
    path: str | None = None
    related: tuple[tuple[Pos, str], ...] = ()
    severity: str = "error"

    def sort_key(self) -> tuple:
        p = self.pos
        return (p.file or "", p.line, p.col, self.path or "", self.code, self.message)

    def to_json(self) -> dict:
        out: dict = {
            "code": self.code,
            "severity": self.severity,
            "message": redact_text(self.message),
            "source": self.pos.to_json(),
        }
        if self.path:
            out["path"] = self.path
        if self.hint:
            out["hint"] = redact_text(self.hint)
        if self.related:
            out["related"] = [{"message": redact_text(m), "source": p.to_json()} for p, m in self.related]
        return out


@record
class Diagnostics:
    """An ordered, de-duplicated collection of diagnostics, filled by a stage as it goes."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(
        self,
        code: str,
        message: str,
        pos: Pos = NOWHERE,
        *,
        hint: str | None = None,
        path: str | None = None,
        related: Iterable[tuple[Pos, str]] = (),
        severity: str = "error",
    ) -> Diagnostic:
        d = Diagnostic(code, message, pos, hint, path, tuple(related), severity)
        self.items.append(d)
        return d

    def extend(self, other: Iterable[Diagnostic]) -> None:
        self.items.extend(other)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    def sorted(self) -> list[Diagnostic]:
        return sanitize(self.items)

    def raise_if_errors(self) -> None:
        if self.errors:
            raise PodcError(self.items)


def sanitize(items: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sort by position, path, code and message; drop exact repeats. Deterministic output."""
    seen: set = set()
    out: list[Diagnostic] = []
    for d in sorted(items, key=Diagnostic.sort_key):
        key = (d.sort_key(), d.hint, d.related, d.severity)
        if key in seen:
            continue
        seen.add(key)
        out.append(d)
    return out


class PodcError(Exception):
    """The one exception type podc raises for bad input. Carries every diagnostic found."""

    def __init__(self, diagnostics: Iterable[Diagnostic] | Diagnostic | str, *, code: str = "podc.error"):
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(code, diagnostics)]
        elif isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = sanitize(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else Diagnostic(code, "unknown error")
        more = len(self.diagnostics) - 1
        summary = f"{first.pos}: {first.message}" if first.pos != NOWHERE else first.message
        if more > 0:
            summary += f" (and {more} more error{'s' if more > 1 else ''})"
        super().__init__(summary)

    @classmethod
    def single(cls, code: str, message: str, pos: Pos = NOWHERE, *, hint: str | None = None,
               path: str | None = None) -> "PodcError":
        return cls([Diagnostic(code, message, pos, hint, path)])


def format_diagnostics(items: Iterable[Diagnostic], cwd: str | None = None, color: bool = False) -> str:
    """Render diagnostics as text, one block each::

        ./layers/base.yaml:12:5: error[yaml.duplicate-key]: duplicate key "env"
            ./layers/base.yaml:8:3: first defined here
            hint: remove one of the two keys
    """
    cwd = os.getcwd() if cwd is None else cwd
    lines: list[str] = []
    for d in sanitize(items):
        sev = d.severity
        if color:
            colour = {"error": "31", "warning": "33", "info": "36"}.get(sev, "0")
            sev = f"\x1b[1;{colour}m{sev}\x1b[0m"
        where = d.pos.display(cwd)
        where = f"{where}: " if where != "-" else ""
        at = f" (at {d.path})" if d.path else ""
        # A message may quote input values: secret-looking ones (tokens, passwords in URLs) never
        # reach the terminal (podc.kube.secrets).
        lines.append(f"{where}{sev}[{d.code}]: {redact_text(d.message)}{at}")
        for p, msg in d.related:
            lines.append(f"    {p.display(cwd)}: {redact_text(msg)}")
        if d.hint:
            lines.append(f"    hint: {redact_text(d.hint)}")
    return "\n".join(lines)


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest choice to a misspelt word, or None. Used for unknown fields and ids."""
    import difflib

    matches = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in choices}
        hit = lowered.get(word.lower())
        return hit
    return matches[0]


def _relative(path: str, cwd: str | None) -> str:
    if not cwd or not os.path.isabs(path):
        return path
    try:
        rel = os.path.relpath(path, cwd)
    except ValueError:
        return path
    if rel.startswith(".."):
        return path
    return f"./{rel}"
