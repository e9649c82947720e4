"""The CEL syntax tree. Macros (``has``, ``all``, ``map``…) are their own nodes, expanded by the
parser; every node keeps the character offset it starts at (for located errors)."""

from __future__ import annotations

from typing import Any, Iterator

__all__ = ["Node", "Lit", "Ident", "Select", "Has", "Index", "Call", "ListLit", "MapLit", "Unary", "Binary",
           "And", "Or", "Cond", "Comp", "OptMap", "walk", "COMPREHENSIONS"]


class Node:
    __slots__ = ("offset",)

    def children(self) -> tuple["Node", ...]:
        return ()


class Lit(Node):
    __slots__ = ("value",)

    def __init__(self, offset: int, value: Any):
        self.offset, self.value = offset, value


class Ident(Node):
    __slots__ = ("name",)

    def __init__(self, offset: int, name: str):
        self.offset, self.name = offset, name


class Select(Node):
    """``operand.field``; ``optional`` for ``operand.?field``."""

    __slots__ = ("operand", "field", "optional")

    def __init__(self, offset: int, operand: Node, field: str, optional: bool = False):
        self.offset, self.operand, self.field, self.optional = offset, operand, field, optional

    def children(self):
        return (self.operand,)


class Has(Node):
    __slots__ = ("operand", "field")

    def __init__(self, offset: int, operand: Node, field: str):
        self.offset, self.operand, self.field = offset, operand, field

    def children(self):
        return (self.operand,)


class Index(Node):
    __slots__ = ("operand", "index", "optional")

    def __init__(self, offset: int, operand: Node, index: Node, optional: bool = False):
        self.offset, self.operand, self.index, self.optional = offset, operand, index, optional

    def children(self):
        return (self.operand, self.index)


class Call(Node):
    """``name(args)`` or ``target.name(args)`` (a dotted global name like ``optional.of`` is one name)."""

    __slots__ = ("name", "target", "args")

    def __init__(self, offset: int, name: str, target: Node | None, args: list[Node]):
        self.offset, self.name, self.target, self.args = offset, name, target, args

    def children(self):
        return ((self.target,) if self.target is not None else ()) + tuple(self.args)


class ListLit(Node):
    __slots__ = ("items", "optional")

    def __init__(self, offset: int, items: list[Node], optional: list[bool]):
        self.offset, self.items, self.optional = offset, items, optional

    def children(self):
        return tuple(self.items)


class MapLit(Node):
    __slots__ = ("entries",)

    def __init__(self, offset: int, entries: list[tuple[Node, Node, bool]]):
        self.offset, self.entries = offset, entries

    def children(self):
        return tuple(n for k, v, _ in self.entries for n in (k, v))


class Unary(Node):
    __slots__ = ("op", "operand")

    def __init__(self, offset: int, op: str, operand: Node):
        self.offset, self.op, self.operand = offset, op, operand

    def children(self):
        return (self.operand,)


class Binary(Node):
    __slots__ = ("op", "left", "right")

    def __init__(self, offset: int, op: str, left: Node, right: Node):
        self.offset, self.op, self.left, self.right = offset, op, left, right

    def children(self):
        return (self.left, self.right)


class And(Node):
    """``a && b && …`` flattened (keeps long chains shallow)."""

    __slots__ = ("terms",)

    def __init__(self, offset: int, terms: list[Node]):
        self.offset, self.terms = offset, terms

    def children(self):
        return tuple(self.terms)


class Or(And):
    __slots__ = ()


class Cond(Node):
    __slots__ = ("cond", "then", "otherwise")

    def __init__(self, offset: int, cond: Node, then: Node, otherwise: Node):
        self.offset, self.cond, self.then, self.otherwise = offset, cond, then, otherwise

    def children(self):
        return (self.cond, self.then, self.otherwise)


# kind -> (allowed argument counts after the variables, number of iteration variables)
COMPREHENSIONS = {
    "all": 1, "exists": 1, "exists_one": 1, "existsOne": 1, "map": 1, "filter": 1,
    "transformList": 1, "transformMap": 1, "transformMapEntry": 1,
}


class Comp(Node):
    """A comprehension macro: ``target.kind(var[, var2], args…)``.

    ``args`` is ``[predicate]`` for all/exists/exists_one/filter, ``[expr]`` or
    ``[filter, expr]`` for map and the transform macros."""

    __slots__ = ("kind", "target", "var", "var2", "args")

    def __init__(self, offset: int, kind: str, target: Node, var: str, var2: str | None, args: list[Node]):
        self.offset, self.kind, self.target, self.var, self.var2, self.args = offset, kind, target, var, var2, args

    def children(self):
        return (self.target, *self.args)


class OptMap(Node):
    """``opt.optMap(v, expr)`` / ``opt.optFlatMap(v, expr)``."""

    __slots__ = ("kind", "target", "var", "expr")

    def __init__(self, offset: int, kind: str, target: Node, var: str, expr: Node):
        self.offset, self.kind, self.target, self.var, self.expr = offset, kind, target, var, expr

    def children(self):
        return (self.target, self.expr)


def walk(node: Node) -> Iterator[Node]:
    """Every node, parents before children (iterative: safe on deep trees)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children()))
