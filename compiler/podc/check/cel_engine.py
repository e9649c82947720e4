"""CEL for policies (custom rules and admission policies), on podc's own CEL
(:mod:`podc.check.cel`): compiling with located errors, the cost limits, and running a rule.

Limits, as the API server has them:

* when a policy is loaded, an expression whose estimated cost exceeds
  :data:`~podc.check.cel.cost.STATIC_LIMIT` is rejected (see :mod:`podc.check.cel.cost`);
* each evaluation may spend :data:`~podc.check.cel.program.PER_CALL_LIMIT`; past it the
  evaluation stops with :class:`~podc.check.cel.values.CostExceeded`.
"""

from __future__ import annotations

from typing import Any

from podc.errors import Pos

__all__ = ["compile_expression", "expression_pos", "run", "STATIC_LIMIT", "PER_CALL_LIMIT", "CostExceeded",
           "TYPE_IDENTIFIERS"]

from podc.check.cel import PER_CALL_LIMIT, CelError, CelSyntaxError, CostExceeded, compile_program, line_col
from podc.check.cel.cost import ASSUMED_SIZE, STATIC_LIMIT
from podc.check.cel.functions import TYPE_NAMES

TYPE_IDENTIFIERS = frozenset(TYPE_NAMES)  # `int`, `string`… read as types, never as variables


def compile_expression(source: str, allowed: tuple[str, ...] | frozenset[str]
                       ) -> tuple[Any, str | None, int, str | None]:
    """(program, error, offset, hint). ``error`` is None when the expression is usable: it
    parses, every function exists, it reads only ``allowed`` variables and its estimated cost is
    within the limit. The hint names what to do; the code is ``cost`` for the cost limit."""
    from podc.errors import did_you_mean

    try:
        program = compile_program(source)
    except CelSyntaxError as e:
        line, col = line_col(source, e.offset)
        return None, f"at {line}:{col}: {e.message}", e.offset, None
    except Exception as e:  # a podc bug must still be a located error, never a traceback
        return None, f"cannot be compiled ({type(e).__name__}: {e})", 0, None
    unknown = sorted(program.variables - set(allowed) - TYPE_IDENTIFIERS)
    if unknown:
        offset = _first_use(program, unknown[0])
        guess = did_you_mean(unknown[0], allowed)
        hint = f"did you mean {guess!r}?" if guess else "the expression may read: " + ", ".join(sorted(allowed))
        return None, f"uses unknown variable {unknown[0]!r}", offset, hint
    if program.estimated_cost > STATIC_LIMIT:
        return (None, f"estimated cost {program.estimated_cost:,} exceeds the limit of {STATIC_LIMIT:,}", 0,
                f"nested comprehensions multiply: podc assumes a list read from an object holds up to "
                f"{ASSUMED_SIZE} items; iterate fewer or smaller lists")
    return program, None, 0, None


def _first_use(program: Any, name: str) -> int:
    from podc.check.cel.nodes import Ident, walk

    return next((n.offset for n in walk(program.tree) if type(n) is Ident and n.name == name), 0)


def expression_pos(pos: Pos, expression: str, offset: int) -> Pos:
    """The file position of character ``offset`` of an expression written in a YAML scalar at
    ``pos`` (plain, quoted or block style). Falls back to ``pos`` when the text cannot be found."""
    if not pos.file or not pos.line:
        return pos
    try:
        with open(pos.file, encoding="utf-8-sig") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeError):
        return pos
    line_no, col = line_col(expression, offset)
    wanted = expression.splitlines()[line_no - 1] if expression.splitlines() else ""
    probe = wanted.strip()[:40]
    start_line = pos.line - 1
    for i in range(start_line, min(len(lines), start_line + 1 + len(expression.splitlines()) + 2 * line_no)):
        text = lines[i]
        from_col = pos.col - 1 if i == start_line else 0
        at = text.find(probe, from_col) if probe else -1
        if at >= 0 and (line_no == 1 or i > start_line):
            lead = len(wanted) - len(wanted.lstrip())
            return Pos(pos.file, i + 1, at - lead + col)
    return pos


def run(program: Any, variables: dict, limit: int = PER_CALL_LIMIT) -> tuple[bool, str | None]:
    """(passed, evaluation error). A failed evaluation or a non-boolean result fails the rule;
    :class:`CostExceeded` propagates (the caller reports it as an error naming the rule)."""
    try:
        result, _ = program.run(variables, limit)
    except CostExceeded:
        raise
    except CelError as e:
        return False, str(e)
    if result is True:
        return True, None
    if result is False:
        return False, None
    from podc.check.cel.values import type_name

    return False, f"expression returned {type_name(result)}, expected a bool"
