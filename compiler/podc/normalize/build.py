"""Small builders for the canonical Job tree: mutable while one layer is normalised, then frozen.

Every leaf placed in a builder is either a SOURCE node (reused as is: nodes are immutable) or a
new node carrying a source node's origin, so provenance always points at real text.
"""

from __future__ import annotations

from typing import Union

from podc.errors import Pos
from podc.tree import MapNode, Node, Origin, ScalarNode, SeqNode

__all__ = ["MapB", "ListB", "Built", "freeze", "leaf", "str_leaf", "str_seq", "str_map", "origin_at", "is_null"]


class MapB:
    """A mapping under construction; keys keep insertion order."""

    __slots__ = ("items", "origin", "directive")

    def __init__(self, origin: Origin, directive: str | None = None):
        self.items: dict[str, Built] = {}
        self.origin = origin
        self.directive = directive

    def map(self, key: str, origin: Origin) -> "MapB":
        """The child mapping ``key``, created (with ``origin``) when missing."""
        child = self.items.get(key)
        if not isinstance(child, MapB):
            child = MapB(origin)
            self.items[key] = child
        return child

    def list(self, key: str, origin: Origin) -> "ListB":
        child = self.items.get(key)
        if not isinstance(child, ListB):
            child = ListB(origin)
            self.items[key] = child
        return child

    def set(self, key: str, value: "Built") -> None:
        self.items[key] = value


class ListB:
    """A list under construction."""

    __slots__ = ("items", "origin", "directive")

    def __init__(self, origin: Origin, directive: str | None = None):
        self.items: list[Built] = []
        self.origin = origin
        self.directive = directive


Built = Union[MapB, ListB, MapNode, SeqNode, ScalarNode]


def freeze(value: Built) -> Node:
    """Turn builders into immutable nodes (source nodes are returned unchanged)."""
    kind = type(value)
    # Most children are source nodes already: only builders are recursed into (a call per leaf
    # was most of the cost).
    if kind is MapB:
        return MapNode({k: freeze(v) if type(v) is MapB or type(v) is ListB else v
                        for k, v in value.items.items()}, value.origin, {}, value.directive)  # type: ignore[union-attr]
    if kind is ListB:
        return SeqNode([freeze(v) if type(v) is MapB or type(v) is ListB else v
                        for v in value.items], value.origin, value.directive)  # type: ignore[union-attr]
    return value  # type: ignore[return-value]


def origin_at(node: Node, pos: Pos | None) -> Origin:
    """An origin in ``node``'s layer at ``pos`` (e.g. a key position), falling back to the node's."""
    if pos is None:
        return node.origin
    return Origin(node.origin.layer, pos)


def leaf(value: object, origin: Origin) -> ScalarNode:
    return ScalarNode(value, origin)


def is_null(node: Node | None) -> bool:
    return isinstance(node, ScalarNode) and node.value is None


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return repr(value)  # keep "1.0": the user wrote a decimal point
    return str(value)


def str_leaf(node: ScalarNode) -> ScalarNode:
    """The scalar as Kubernetes wants it (a string), with the same origin. Null stays null."""
    if node.value is None or isinstance(node.value, str):
        return node
    return ScalarNode(_as_text(node.value), node.origin, node.directive, node.overridden)


def str_seq(node: Node) -> Node:
    """A list of scalars with every item a string (``args: [--n, 5]`` → ``["--n", "5"]``)."""
    if not isinstance(node, SeqNode):
        return node
    items = [str_leaf(i) if isinstance(i, ScalarNode) else i for i in node.items]
    if all(a is b for a, b in zip(items, node.items)):
        return node
    return SeqNode(items, node.origin, node.directive, node.overridden)


def str_map(node: Node) -> Node:
    """A string map (labels, nodeSelector) with numbers and booleans turned into strings."""
    if not isinstance(node, MapNode):
        return node
    items = {k: str_leaf(v) if isinstance(v, ScalarNode) and v.directive is None else v
             for k, v in node.items.items()}
    if all(items[k] is node.items[k] for k in items):
        return node
    return MapNode(items, node.origin, node.key_pos, node.directive, node.overridden)
