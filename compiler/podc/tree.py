"""Positioned data trees: the values every stage passes along, each carrying where it came from.

A layer (from YAML or from Python) becomes a tree of :class:`MapNode`, :class:`SeqNode` and
:class:`ScalarNode`. Every node has an :class:`Origin` (layer name + source position), so the
merge can record which layer set each value, and errors and policy violations can point at the
source line.

Nodes are treated as immutable once built: stages build new nodes instead of changing the ones
they are given (aliases in YAML share one node object).

Merge directives are read here, once, for YAML and Python input alike:

* ``$patch: replace`` in a mapping, the YAML tag ``!replace`` on a mapping or sequence, or a
  sequence item ``{$patch: replace}`` (strategic-merge style) -> ``directive == "replace"``;
* ``$patch: delete`` in a mapping (a keyed list item) or the tag ``!delete`` on it ->
  ``directive == "delete"``; ``!delete`` on a scalar or ``key: null`` removes a map key.
"""

from __future__ import annotations

from typing import Any, Iterator, Union

from podc._record import record
from podc.errors import Diagnostics, Pos

__all__ = [
    "Origin",
    "MapNode",
    "SeqNode",
    "ScalarNode",
    "Node",
    "from_plain",
    "to_plain",
    "iter_leaves",
    "json_pointer",
    "PATCH_KEY",
]

PATCH_KEY = "$patch"
DIRECTIVES = ("replace", "delete")


@record(frozen=True, slots=True)
class Origin:
    """Which layer set a value, and where in its source."""

    layer: str
    pos: Pos

    def __str__(self) -> str:
        return f"{self.pos} ({self.layer})"


class MapNode:
    """A mapping. ``items`` keeps source order; ``key_pos`` is where each key is written."""

    __slots__ = ("items", "origin", "key_pos", "directive", "overridden")

    def __init__(
        self,
        items: dict[str, "Node"],
        origin: Origin,
        key_pos: dict[str, Pos] | None = None,
        directive: str | None = None,
        overridden: tuple[Origin, ...] = (),
    ):
        self.items = items
        self.origin = origin
        self.key_pos = key_pos if key_pos is not None else {}
        self.directive = directive
        self.overridden = overridden

    def get(self, key: str) -> "Node | None":
        return self.items.get(key)

    def __repr__(self) -> str:
        d = f" !{self.directive}" if self.directive else ""
        return f"MapNode{d}({self.items!r})"


class SeqNode:
    """A sequence."""

    __slots__ = ("items", "origin", "directive", "overridden")

    def __init__(
        self,
        items: list["Node"],
        origin: Origin,
        directive: str | None = None,
        overridden: tuple[Origin, ...] = (),
    ):
        self.items = items
        self.origin = origin
        self.directive = directive
        self.overridden = overridden

    def __repr__(self) -> str:
        d = f" !{self.directive}" if self.directive else ""
        return f"SeqNode{d}({self.items!r})"


class ScalarNode:
    """A string, number, boolean or null. ``overridden`` lists the origins of values it replaced
    (oldest first), filled in by the merge."""

    __slots__ = ("value", "origin", "directive", "overridden", "spelled")

    def __init__(
        self,
        value: Any,
        origin: Origin,
        directive: str | None = None,
        overridden: tuple[Origin, ...] = (),
        spelled: str | None = None,
    ):
        self.value = value
        self.origin = origin
        self.directive = directive
        self.overridden = overridden
        # The YAML text when it is not the canonical spelling of ``value`` (``0400`` for 256,
        # ``True``, a plain timestamp): readers that keep text disagree about it (podc.source.scalars).
        self.spelled = spelled

    def __repr__(self) -> str:
        return f"ScalarNode({self.value!r})"


Node = Union[MapNode, SeqNode, ScalarNode]


def to_plain(node: Node) -> Any:
    """The node as plain Python data (dicts, lists, scalars); directives are dropped."""
    if isinstance(node, ScalarNode):
        return node.value
    if isinstance(node, MapNode):
        return {k: to_plain(v) for k, v in node.items.items()}
    return [to_plain(v) for v in node.items]


def from_plain(data: Any, origin: Origin, diagnostics: Diagnostics | None = None) -> Node:
    """Build a tree from Python data (an in-memory layer). Every node gets ``origin``.

    Reads ``$patch`` directives like the YAML loader does. Keys must be strings; anything that is
    not JSON-like data is reported to ``diagnostics`` (or raised when none is given).
    """
    own = diagnostics is None
    diags = Diagnostics() if own else diagnostics
    node = _from_plain(data, origin, diags, "")
    if own:
        diags.raise_if_errors()
    return node


def _from_plain(data: Any, origin: Origin, diags: Diagnostics, path: str) -> Node:
    if isinstance(data, dict):
        items: dict[str, Node] = {}
        for key, value in data.items():
            if not isinstance(key, str):
                diags.add("layer.key-type", f"mapping keys must be strings, got {type(key).__name__} {key!r}",
                          origin.pos, path=path or "/")
                continue
            items[key] = _from_plain(value, origin, diags, f"{path}/{_escape(key)}")
        directive = take_map_directive(items, diags, origin.pos)
        return MapNode(items, origin, directive=directive)
    if isinstance(data, (list, tuple)):
        seq_items = [_from_plain(v, origin, diags, f"{path}/{i}") for i, v in enumerate(data)]
        seq_items, directive = take_seq_directive(seq_items)
        return SeqNode(seq_items, origin, directive=directive)
    if hasattr(data, "model_dump") and callable(data.model_dump):
        # A pydantic model passed as a layer: use its aliased, non-default form.
        return _from_plain(data.model_dump(by_alias=True, exclude_unset=True), origin, diags, path)
    if data is None or isinstance(data, (str, bool, int, float)):
        return ScalarNode(data, origin)
    diags.add("layer.value-type", f"unsupported value of type {type(data).__name__}",
              origin.pos, path=path or "/", hint="layers hold strings, numbers, booleans, null, lists and mappings")
    return ScalarNode(None, origin)


def take_map_directive(items: dict[str, Node], diags: Diagnostics, pos: Pos) -> str | None:
    """Remove a ``$patch`` key from ``items`` and return the directive it names."""
    patch = items.pop(PATCH_KEY, None)
    if patch is None:
        return None
    value = patch.value if isinstance(patch, ScalarNode) else None
    if value not in DIRECTIVES:
        where = patch.origin.pos if patch.origin.pos.line else pos
        diags.add("layer.directive", f"unknown merge directive {PATCH_KEY}: {value!r}", where,
                  hint='use "$patch: replace" (replace the whole mapping) or "$patch: delete" (remove this list item)')
        return None
    return value


def take_seq_directive(items: list[Node]) -> tuple[list[Node], str | None]:
    """Strategic-merge style: a list item ``{$patch: replace}`` marks the whole list as replacing."""
    kept = [n for n in items if not (isinstance(n, MapNode) and not n.items and n.directive == "replace")]
    if len(kept) != len(items):
        return kept, "replace"
    return items, None


def iter_leaves(node: Node, path: tuple = ()) -> Iterator[tuple[tuple, ScalarNode]]:
    """Every scalar in the tree with its path (keys and list indexes), in document order."""
    if isinstance(node, ScalarNode):
        yield path, node
    elif isinstance(node, MapNode):
        for k, v in node.items.items():
            yield from iter_leaves(v, path + (k,))
    else:
        for i, v in enumerate(node.items):
            yield from iter_leaves(v, path + (i,))


def json_pointer(path: tuple | list) -> str:
    """RFC 6901 pointer for a path of keys and indexes: ("spec", "template", 0) -> /spec/template/0."""
    return "".join("/" + _escape(str(p)) for p in path)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
