"""Compiling and running one CEL expression.

:func:`compile_program` parses, resolves every function call, validates literal regexes,
durations and timestamps, and estimates the cost; every problem is a :class:`CelSyntaxError`
at an offset into the source. :meth:`Program.run` evaluates against plain variables under a cost
limit and returns ``(value, cost)``; it raises :class:`CelError` (the expression's own failure)
or :class:`CostExceeded`, never anything else.
"""

from __future__ import annotations

from typing import Any

from podc.check.cel.cost import estimate
from podc.check.cel.functions import regex_compile
from podc.check.cel.interpreter import Activation, compile_tree, node_count
from podc.check.cel.lexer import CelSyntaxError
from podc.check.cel.nodes import Call, Comp, Ident, Lit, Node, OptMap, walk
from podc.check.cel.parser import parse
from podc.check.cel.temporal import parse_duration, parse_timestamp
from podc.check.cel.values import CelError, CostExceeded

__all__ = ["Program", "compile_program", "PER_CALL_LIMIT", "free_variables"]

PER_CALL_LIMIT = 1_000_000  # the API server's PerCallLimit: ~0.1 s of cel-go work per expression

# Calls whose literal argument can be checked when the expression is compiled (cel-go's
# ValidateRegexLiterals, ValidateDurationLiterals, ValidateTimestampLiterals).
_LITERAL_CHECKS = {"matches": regex_compile, "find": regex_compile, "findAll": regex_compile,
                   "duration": parse_duration, "timestamp": parse_timestamp}


class Program:
    __slots__ = ("source", "tree", "closure", "variables", "estimated_cost", "base_cost")

    def __init__(self, source: str, tree: Node):
        self.source, self.tree = source, tree
        self.closure = compile_tree(tree)
        self.variables = free_variables(tree)
        self.estimated_cost = estimate(tree)
        self.base_cost = node_count(tree)

    def run(self, variables: dict, limit: int = PER_CALL_LIMIT) -> tuple[Any, int]:
        """(result, cost spent). Raises CelError / CostExceeded."""
        a = Activation(dict(variables), limit)
        a.charge(self.base_cost)
        try:
            result = self.closure(a)
        except CelError:
            raise
        except RecursionError:
            raise CelError("expression recursed too deeply") from None
        except (TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError, ZeroDivisionError,
                ArithmeticError, UnicodeError) as e:
            # A value of a type the expression does not expect reached a function: CEL calls
            # that "no such overload"; never let it escape as a Python error.
            raise CelError(f"evaluation error: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                           ) from None
        return result, a.used


def compile_program(source: str) -> Program:
    """Raises :class:`CelSyntaxError` (with an offset) for anything that cannot run."""
    tree = parse(source)
    for node in walk(tree):
        if type(node) is Call and node.name in _LITERAL_CHECKS:
            pattern = node.args[-1] if node.name == "matches" and node.args else (node.args[0] if node.args else None)
            if isinstance(pattern, Lit) and isinstance(pattern.value, str):
                try:
                    _LITERAL_CHECKS[node.name](pattern.value)
                except CelError as e:
                    raise CelSyntaxError(str(e), pattern.offset) from None
    try:
        return Program(source, tree)
    except RecursionError:
        raise CelSyntaxError("expression nests too deeply", 0) from None


def free_variables(tree: Node) -> frozenset[str]:
    """Top-level names the expression reads (comprehension variables excluded)."""
    found: set[str] = set()
    stack: list[tuple[Node, frozenset[str]]] = [(tree, frozenset())]
    while stack:
        node, bound = stack.pop()
        if type(node) is Ident:
            if node.name not in bound:
                found.add(node.name)
            continue
        if type(node) is Comp:
            stack.append((node.target, bound))
            inner = bound | {node.var} | ({node.var2} if node.var2 else set())
            stack.extend((arg, inner) for arg in node.args)
            continue
        if type(node) is OptMap:
            stack.append((node.target, bound))
            stack.append((node.expr, bound | {node.var}))
            continue
        stack.extend((child, bound) for child in node.children())
    return frozenset(found)


__all__ += ["CelError", "CostExceeded", "CelSyntaxError"]
