"""CEL for custom policies, on the ``common-expression-language`` package (import name ``cel``;
a Rust core). Imported only when a policy uses CEL, so podc runs without it otherwise.

Why this package and not ``cel-python``: see docs/check.md (measured per-object cost).
"""

from __future__ import annotations

from typing import Any

__all__ = ["compile_expression", "make_context", "run"]


def _cel():
    try:
        import cel  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - depends on the install
        from podc.errors import PodcError

        raise PodcError.single("policy.cel-missing", "a policy uses CEL but the CEL package is not installed",
                               hint="pip install 'podc[cel]' (installs common-expression-language)") from None
    return cel


def compile_expression(source: str) -> tuple[Any, str | None]:
    """(program, None) or (None, one-line error)."""
    try:
        return _cel().compile(source), None
    except (ValueError, TypeError, RuntimeError) as e:
        text = str(e)
        # The library prefixes the whole source and draws a caret; keep the parser's message.
        if "ERROR: <input>:" in text:
            text = text.split("ERROR: <input>:", 1)[1].split("\n", 1)[0]
            text = "at " + text.strip()
        return None, text.splitlines()[0] if text else "syntax error"


def make_context(variables: dict) -> Any:
    """A reusable context: the library converts the variables once for every rule run with it."""
    return _cel().Context(variables=variables)


def run(program: Any, variables: Any) -> tuple[bool, str | None]:
    """(passed, evaluation error). A missing field or a non-boolean result fails the rule."""
    try:
        result = program.execute(variables)
    except KeyError as e:
        return False, f"no such field {e.args[0]!r} (guard it with has())"
    except (ValueError, TypeError, RuntimeError, ArithmeticError, LookupError, AttributeError) as e:
        # The expression's own failure (1/0, int overflow, list index out of range…): the rule fails
        # with the reason; a user's expression must never crash the run.
        lines = str(e).splitlines()
        return False, lines[0] if lines else type(e).__name__
    if result is True:
        return True, None
    if result is False:
        return False, None
    return False, f"expression returned {type(result).__name__}, expected a boolean"
