"""The finding type shared by the schema validator and the API-server rules (kept apart so the
two need not import each other)."""

from __future__ import annotations

from podc._record import record
from podc.errors import NOWHERE, Diagnostic, Pos

__all__ = ["SchemaIssue"]


@record(frozen=True, slots=True)
class SchemaIssue:
    """One schema or API-rule violation. ``path`` is a JSON pointer into the document."""

    code: str
    message: str
    path: str
    hint: str | None = None
    severity: str = "error"

    def to_diagnostic(self, pos: Pos = NOWHERE) -> Diagnostic:
        return Diagnostic(self.code, self.message, pos, self.hint, self.path or None, (), self.severity)
