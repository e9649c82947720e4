"""Documents as PLAIN data with source positions computed on demand.

:func:`load_documents` is the fast way to read a file of many documents when only a few
positions will be needed (``podc check`` locates violations only): the fast reader
(:mod:`podc.source.fastyaml`) keeps one (line, col) pair per node in document order, and a position
becomes a :class:`~podc.errors.Pos` only when asked for. Documents the fast reader leaves to the
full loader (:mod:`podc.source`) are located through their positioned tree. Same errors as
:func:`podc.source.load_file`.
"""

from __future__ import annotations

import os
from typing import Any

import podc.source.reader as source
from podc.errors import Pos
from podc.source.reader import DEFAULT_LIMITS, Limits
from podc.tree import MapNode, Node, ScalarNode, SeqNode, to_plain

__all__ = ["SourceDocument", "load_documents"]


class SourceDocument:
    """One document as PLAIN data (``data``), with positions computed only when asked for.

    ``locate(pointer)`` is the position of the deepest existing node on a JSON pointer's path (a
    mapping entry at its key, a list item at the item); ``value_pos(pointer)`` the position of an
    existing node itself; ``item(pointer)`` the document rooted at an existing node (e.g. the
    objects of a ``kind: List``).
    """

    __slots__ = ("data", "file", "_root", "_positions", "_node", "_prefix")

    def __init__(self, data: Any, file: str, root: Any, positions: list | None, node: Node | None,
                 prefix: tuple[str, ...] = ()):
        self.data, self.file = data, file
        self._root, self._positions, self._node, self._prefix = root, positions, node, prefix

    @property
    def pos(self) -> Pos:
        return self.value_pos("")

    def locate(self, pointer: str) -> Pos:
        tokens = split_pointer(pointer)
        if self._node is not None:
            return node_locate(self._node, tokens)
        index, _ = node_index(self._root, [*self._prefix, *tokens])
        if not index and self._prefix:  # nothing below the prefix matched: the item itself
            return self.value_pos("")
        return Pos(self.file, *self._positions[index])

    def value_pos(self, pointer: str) -> Pos:
        tokens = split_pointer(pointer)
        if self._node is not None:
            node = self._node
            for t in tokens:
                node = node.items[t] if isinstance(node, MapNode) else node.items[int(t)]
            return node.origin.pos
        return Pos(self.file, *self._positions[value_index(self._root, [*self._prefix, *tokens])])

    def item(self, pointer: str) -> "SourceDocument":
        tokens = split_pointer(pointer)
        data = self.data
        for t in tokens:
            data = data[t] if isinstance(data, dict) else data[int(t)]
        if self._node is not None:
            node = self._node
            for t in tokens:
                node = node.items[t] if isinstance(node, MapNode) else node.items[int(t)]
            return SourceDocument(data, self.file, None, None, node)
        return SourceDocument(data, self.file, self._root, self._positions, None, (*self._prefix, *tokens))


def load_documents(path: str | os.PathLike, limits: Limits = DEFAULT_LIMITS) -> list[SourceDocument]:
    """All documents of a YAML/JSON file as plain data with lazy positions: the fast way to read
    many documents when only a few positions will be needed. Same errors as :func:`load_file`."""
    name = os.fspath(path)
    out = []
    for doc in source._read(source.read_text(name, limits, pipes=True), name, name, limits):
        if isinstance(doc, (MapNode, SeqNode, ScalarNode)):
            out.append(SourceDocument(to_plain(doc), name, None, None, doc))
        else:
            data, positions = doc
            out.append(SourceDocument(data, name, data, positions, None))
    return out


def split_pointer(pointer: str) -> list[str]:
    """RFC 6901 pointer -> unescaped tokens ("" -> [])."""
    if not pointer:
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.lstrip("/").split("/")]


def node_locate(root: Node, tokens: list[str]) -> Pos:
    """The position of the deepest existing node on a path of pointer tokens: a mapping entry
    at its key (the line a reader looks at), a list item at the item."""
    node: Node = root
    pos = root.origin.pos
    for token in tokens:
        if isinstance(node, MapNode):
            child = node.items.get(token)
            if child is None:
                break
            pos = node.key_pos.get(token) or child.origin.pos
            node = child
        elif isinstance(node, SeqNode) and token.isdigit() and int(token) < len(node.items):
            node = node.items[int(token)]
            pos = node.origin.pos
        else:
            break
    return pos


def node_index(data: Any, tokens: list[str]) -> tuple[int, int]:
    """(index into positions of the deepest node on the path, depth reached).

    A mapping entry found is reported at its key's index; a list item at the item's index.
    """
    idx = 0
    found = 0
    node = data
    at = 0
    for token in tokens:
        if isinstance(node, dict):
            if token not in node:
                break
            i = at + 1
            for key, value in node.items():
                if key == token:
                    found, at, node = i, i + 1, value
                    break
                i += 1 + _size(value)
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            i = at + 1
            for value in node[: int(token)]:
                i += _size(value)
            found, at, node = i, i, node[int(token)]
        else:
            break
        idx += 1
    return found, idx


def value_index(data: Any, tokens: list[str]) -> int:
    """Index of the node itself at ``tokens`` (which must exist)."""
    at = 0
    node = data
    for token in tokens:
        i = at + 1
        if isinstance(node, dict):
            for key, value in node.items():
                if key == token:
                    at, node = i + 1, value
                    break
                i += 1 + _size(value)
        else:
            for value in node[: int(token)]:
                i += _size(value)
            at, node = i, node[int(token)]
    return at


def _size(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(1 + _size(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(_size(v) for v in value)
    return 1
