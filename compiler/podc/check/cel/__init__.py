"""podc's CEL: the Common Expression Language as the Kubernetes API server runs it, evaluated
directly on plain Python data.

Why not a CEL package: ``common-expression-language`` (Rust) cannot parse optional syntax
(``x.?y``), has no cost accounting and no way to interrupt an evaluation (eight nested ``all()``
ran past 20 s), converts every object before evaluating (~430 µs per Job) and panics past column
65,535; ``cel-python`` has no optionals and no cost limit either, and pulls five dependencies.
See docs/check.md for the supported language and libraries.

Use :func:`compile_program` (raises :class:`CelSyntaxError` with an offset) and
:meth:`Program.run` (raises :class:`CelError` / :class:`CostExceeded`).
"""

from podc.check.cel.lexer import CelSyntaxError, line_col
from podc.check.cel.program import PER_CALL_LIMIT, Program, compile_program
from podc.check.cel.values import CelError, CostExceeded

__all__ = ["compile_program", "Program", "CelError", "CostExceeded", "CelSyntaxError", "line_col",
           "PER_CALL_LIMIT"]
