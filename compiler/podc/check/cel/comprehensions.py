"""The comprehension macros: ``all``, ``exists``, ``exists_one``/``existsOne``, ``map``,
``filter`` and the two-variable forms (``all(i, v, p)``, ``transformList``, ``transformMap``,
``transformMapEntry``).

Lists iterate their items (two-variable forms: index and item), maps their keys (two-variable
forms: key and value). Each iteration charges the body's size to the cost meter, so nested
comprehensions over big lists stop at the budget instead of running for minutes.
"""

from __future__ import annotations

from typing import Any, Callable

from podc.check.cel.nodes import Comp
from podc.check.cel.values import CelError, CostExceeded, no_overload

__all__ = ["build"]


def _pairs(kind: str, target: Any, two: bool):
    """(first variable, second variable) per iteration."""
    if isinstance(target, list):
        return enumerate(target) if two else ((x, None) for x in target)
    if isinstance(target, dict):
        return iter(list(target.items())) if two else ((k, None) for k in list(target))
    raise no_overload(kind, target)


def build(node: Comp, compile_tree: Callable, node_count: Callable, restore: Callable, unset: object):
    target = compile_tree(node.target)
    args = [compile_tree(x) for x in node.args]
    weight = 1 + sum(node_count(x) for x in node.args)
    var, var2, kind = node.var, node.var2, node.kind
    two = var2 is not None

    def loop(a, body: Callable[[Any, Any], bool], source: Any = None) -> None:
        """Bind the variables for each element and call body(first, second) until it returns False."""
        items = _pairs(kind, target(a) if source is None else source, two)
        saved1 = a.vars.get(var, unset)
        saved2 = a.vars.get(var2, unset) if two else unset
        variables = a.vars
        try:
            for first, second in items:
                a.used += weight
                if a.used > a.limit:
                    a.charge(0)
                variables[var] = first
                if two:
                    variables[var2] = second
                if body(first, second) is False:
                    return
        finally:
            restore(a, var, saved1)
            if two:
                restore(a, var2, saved2)

    if kind in ("all", "exists"):
        (pred,) = args
        decisive = kind == "exists"

        def quantifier(a) -> bool:
            state: list = [not decisive, None]

            def body(_f, _s):
                try:
                    v = pred(a)
                except CostExceeded:
                    raise
                except CelError as e:
                    state[1] = state[1] or e
                    return True
                if v is decisive:
                    state[0] = decisive
                    return False
                if type(v) is not bool:
                    state[1] = state[1] or no_overload(kind, v)
                return True
            loop(a, body)
            if state[0] is decisive:
                return decisive
            if state[1] is not None:
                raise state[1]
            return not decisive
        return quantifier

    if kind in ("exists_one", "existsOne"):
        (pred,) = args

        def exists_one(a) -> bool:
            count = [0]

            def body(_f, _s):
                v = pred(a)
                if type(v) is not bool:
                    raise no_overload(kind, v)
                count[0] += v
                return True
            loop(a, body)
            return count[0] == 1
        return exists_one

    if kind == "filter":
        (pred,) = args

        def filter_(a) -> list:
            out: list = []

            def body(f, _s):
                v = pred(a)
                if type(v) is not bool:
                    raise no_overload("filter", v)
                if v:
                    out.append(f)
                return True
            loop(a, body)
            return out
        return filter_

    keep, expr = (args[0], args[1]) if len(args) == 2 else (None, args[0])

    def keeps(a) -> bool:
        if keep is None:
            return True
        v = keep(a)
        if type(v) is not bool:
            raise no_overload(kind, v)
        return v

    if kind in ("map", "transformList"):
        def transform_list(a) -> list:
            out: list = []

            def body(_f, _s):
                if keeps(a):
                    out.append(expr(a))
                return True
            loop(a, body)
            return out
        return transform_list

    def transform_map(a) -> dict:
        source = target(a)
        if not isinstance(source, dict):
            raise no_overload(kind, source)
        out: dict = {}

        def body(k, _v):
            if not keeps(a):
                return True
            value = expr(a)
            if kind == "transformMap":
                out[k] = value
                return True
            if not isinstance(value, dict):
                raise no_overload("transformMapEntry", value)
            for ek, ev in value.items():
                if ek in out:
                    raise CelError(f"transformMapEntry: repeated key {ek!r}")
                out[ek] = ev
            return True
        loop(a, body, source)
        return out
    return transform_map
