"""Static cost estimate of a CEL expression: an upper bound computed when a policy is loaded.

Like the API server's estimator, it multiplies comprehension bodies by the size of the list they
iterate. The API server bounds list sizes from the schema (``maxItems``, or the request size);
podc's estimate is simpler and documented instead: a list literal counts its items, and any
list, map or string read from an object, a parameter or a variable is assumed to hold at most
:data:`ASSUMED_SIZE` elements. Costs are in the same units as the runtime meter (about one per
node evaluated), so an expression whose estimate passes :data:`STATIC_LIMIT` is rejected before
it ever runs: eight nested ``all()`` over 10-item lists estimate at ~10^9.
"""

from __future__ import annotations

from podc.check.cel.nodes import (And, Binary, Call, Comp, Cond, Has, Ident, Index, ListLit, Lit, MapLit, Node,
                                  OptMap, Select, Unary)

__all__ = ["estimate", "ASSUMED_SIZE", "STATIC_LIMIT"]

ASSUMED_SIZE = 100          # items in a list/map (or characters/10 in a string) of unknown size
STATIC_LIMIT = 10_000_000   # the API server's StaticEstimatedCostLimit for CRD validation rules
_CAP = 10**30               # keep the arithmetic small; anything this big is rejected anyway


def estimate(node: Node) -> int:
    return min(_cost(node)[0], _CAP)


def _cost(node: Node) -> tuple[int, int]:
    """(cost, size bound of the value)."""
    t = type(node)
    if t is Lit:
        v = node.value
        return 0, len(v) if isinstance(v, (str, bytes)) else 1
    if t is Ident:
        return 1, ASSUMED_SIZE
    if t in (Select, Has, Index, Unary):
        costs = [_cost(c) for c in node.children()]
        return 1 + sum(c for c, _ in costs), ASSUMED_SIZE
    if t is ListLit:
        costs = [_cost(c) for c in node.items]
        return 1 + sum(c for c, _ in costs), max(1, len(node.items))
    if t is MapLit:
        costs = [_cost(c) for c in node.children()]
        return 1 + sum(c for c, _ in costs), max(1, len(node.entries))
    if t is Binary:
        (lc, ls), (rc, rs) = _cost(node.left), _cost(node.right)
        if node.op == "+":
            return _cap(1 + lc + rc + (ls + rs) // 10), min(ls + rs, _CAP)
        if node.op == "in":
            return _cap(1 + lc + rc + rs), 1
        return 1 + lc + rc, 1
    if t in (And, Cond) or isinstance(node, And):
        return _cap(1 + sum(_cost(c)[0] for c in node.children())), ASSUMED_SIZE
    if t is Call:
        costs = [_cost(c) for c in node.children()]
        biggest = max((s for _, s in costs), default=1)
        # string and list functions walk their arguments once
        return _cap(1 + sum(c for c, _ in costs) + biggest // 10), biggest
    if t is Comp:
        range_cost, n = _cost(node.target)
        body = sum(_cost(a)[0] for a in node.args)
        return _cap(range_cost + n * (1 + body)), n
    if t is OptMap:
        return _cap(1 + _cost(node.target)[0] + _cost(node.expr)[0]), ASSUMED_SIZE
    return 1, ASSUMED_SIZE  # pragma: no cover - every node type is listed above


def _cap(n: int) -> int:
    return n if n < _CAP else _CAP
