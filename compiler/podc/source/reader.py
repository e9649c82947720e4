"""Loading YAML into positioned trees. The only module that imports ruamel.yaml.

Each document of a stream is first given to the fast reader (:mod:`podc.source.fastyaml`: the plain
block YAML kubectl, Helm and people write, read line by line, values typed as kustomize types
them, :mod:`podc.source.scalars`); a document it does not fully understand is read by the full loader below,
on its own exact slice of the text, so errors and positions are the same either way (the tests
compare the two on generated documents).

The full loader composes documents with ruamel's C parser (positions on every node; ruamel's
pure parser when the C one rejects YAML that is valid, such as ``[s3://x]``) and builds
:mod:`podc.tree` nodes itself, so it can:

* report duplicate keys (with the first definition), unknown tags and syntax errors at
  file:line:col, all together;
* bound what a hostile file can cost: file size, nesting depth, and the number of nodes after
  alias expansion (a "billion laughs" file is stopped early);
* read the merge directives (``!replace``, ``!delete``, ``$patch``) in one place.

Kubernetes and podc only need JSON-like data, so timestamps and binary stay strings as written
(a plain scalar spelled unlike its value keeps its text in ``ScalarNode.spelled``). What is refused
before parsing (devices, FIFOs, too-deep nesting) is in :mod:`podc.source.guards`.
"""

from __future__ import annotations

import os
from typing import Any

from podc._gcpause import gc_paused
from podc.errors import Diagnostics, PodcError, Pos
from podc.source.guards import DEFAULT_LIMITS, Limits, guard_depth, read_text
from podc.tree import MapNode, Node, Origin, ScalarNode, SeqNode, take_map_directive, take_seq_directive

__all__ = ["Limits", "load_file", "load_text", "load_single", "read_text"]


_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_PLAIN_TAGS = {
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_AS_TEXT_TAGS = {_STR, "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"}
_DIRECTIVE_TAGS = {"!replace": "replace", "!delete": "delete"}


class _TooBig(Exception):
    def __init__(self, message: str, pos: Pos, hint: str):
        self.message, self.pos, self.hint = message, pos, hint


_yaml_instance = None


def _yaml():
    global _yaml_instance
    if _yaml_instance is None:
        from ruamel.yaml import YAML

        try:
            _yaml_instance = YAML(typ="safe", pure=False)
        except Exception:  # no C extension on this interpreter
            _yaml_instance = YAML(typ="safe", pure=True)
    return _yaml_instance


_pure_instance = None


def _pure_yaml():
    global _pure_instance
    if _pure_instance is None:
        from ruamel.yaml import YAML

        _pure_instance = YAML(typ="safe", pure=True)
    return _pure_instance


def _forget_loads() -> None:
    """The shared ruamel instance remembers every load (a DocInfo per document, each constructed
    scalar keyed by its node): a long-running process would grow without end. Forget it after each read."""
    if _yaml_instance is not None:
        del _yaml_instance.doc_infos[:]
        constructor = _yaml_instance.constructor
        constructor.constructed_objects.clear()
        getattr(constructor, "recursive_objects", {}).clear()


def load_file(path: str | os.PathLike, layer: str | None = None, limits: Limits = DEFAULT_LIMITS) -> list[Node]:
    """All documents of a YAML (or JSON) file as positioned trees."""
    name = os.fspath(path)
    return load_text(read_text(name, limits), name, layer=layer, limits=limits)


def load_single(path: str | os.PathLike, layer: str | None = None, limits: Limits = DEFAULT_LIMITS) -> Node:
    """A file that must hold exactly one document (an empty file is an empty mapping)."""
    name = os.fspath(path)
    docs = load_file(name, layer=layer, limits=limits)
    if not docs:
        return MapNode({}, Origin(layer or name, Pos(name, 1, 1)))
    if len(docs) > 1:
        second = docs[1].origin.pos
        raise PodcError.single("yaml.multiple-documents", f"expected one YAML document, found {len(docs)}",
                               second, hint="remove the '---' separator, or split the documents into files")
    return docs[0]


def load_text(text: str, filename: str = "<string>", layer: str | None = None,
              limits: Limits = DEFAULT_LIMITS) -> list[Node]:
    """All documents in ``text``. Raises :class:`PodcError` listing every problem found."""
    layer = layer or filename
    with gc_paused():
        return [doc if isinstance(doc, (MapNode, SeqNode, ScalarNode)) else _fast_nodes(doc, filename, layer)
                for doc in _read_paused(text, filename, layer, limits)]


def _read(text: str, filename: str, layer: str, limits: Limits) -> list:
    """Every document: (plain data, positions) when the fast reader could read it, else a Node
    from the full loader (which reports every problem). Raises PodcError for bad input."""
    with gc_paused():
        return _read_paused(text, filename, layer, limits)


def _read_paused(text: str, filename: str, layer: str, limits: Limits) -> list:
    """:func:`_read`, the collector already paused by the caller (once per file, not twice)."""
    if len(text) > limits.max_bytes:
        raise PodcError.single("input.too-large", f"input is {len(text)} characters; podc reads at most {limits.max_bytes}",
                               Pos(filename))
    import podc.source.fastyaml as _fastyaml

    try:
        split = _fastyaml.split_documents(text)
        if split is None:
            builder = _Builder(filename, layer, limits)
            docs: list = _load_slow(text, filename, builder)
            builder.diags.raise_if_errors()
            return docs
        resolve = _fastyaml.Resolver()
        slow: _Builder | None = None  # made for the first document the fast reader leaves
        docs = []
        nodes = 0
        for doc in split.docs:
            try:
                data, positions = _fastyaml.parse_document(split, doc, resolve, limits.max_depth)
                nodes += len(positions)
                if nodes > limits.max_nodes:
                    raise _fastyaml.NotFast("too many nodes")
                docs.append((data, positions))
                continue
            except _fastyaml.NotFast:
                pass
            first, end = doc[0], doc[1]
            if slow is None:
                slow = _Builder(filename, layer, limits)
            # "\n" * first keeps line numbers exact for the full loader.
            try:
                tail = "\n" if end < len(split.lines) else ""  # the file's last line may have no newline
                docs.extend(_load_slow("\n" * first + "\n".join(split.lines[first:end]) + tail, filename, slow))
            except PodcError as e:
                slow.diags.extend(e.diagnostics)
        if slow is not None:
            slow.diags.raise_if_errors()
        return docs
    finally:
        _forget_loads()


def _fast_nodes(doc: tuple, filename: str, layer: str) -> Node:
    """Positioned nodes from the fast reader's (data, positions)."""
    data, positions = doc
    nxt = iter(positions).__next__

    def build(value: Any) -> Node:
        line, col = nxt()
        origin = Origin(layer, Pos(filename, line, col))
        kind = type(value)  # the fast reader makes plain dicts, lists and scalars only
        if kind is dict:
            items: dict[str, Node] = {}
            key_pos: dict[str, Pos] = {}
            for k, v in value.items():
                line, col = nxt()
                key_pos[k] = Pos(filename, line, col)
                if type(v) is dict or type(v) is list:
                    items[k] = build(v)
                else:  # a scalar value, the common case: built here, without a call
                    line, col = nxt()
                    items[k] = ScalarNode(v, Origin(layer, Pos(filename, line, col)))
            return MapNode(items, origin, key_pos)
        if kind is list:
            return SeqNode([build(v) for v in value], origin)
        return ScalarNode(value, origin)

    try:
        return build(data)
    finally:
        del build  # a recursive closure is a reference cycle: break it, or each file leaves garbage


def _load_slow(text: str, filename: str, builder: "_Builder") -> list[Node]:
    """The full positioned loader: ruamel's C composer and :class:`_Builder`."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    limits = builder.limits
    builder.shared = {}  # keyed by id() of nodes of one composition only
    guard_depth(text, filename, limits)
    try:
        try:
            composed = list(_yaml().compose_all(text))
        except MarkedYAMLError as strict:
            # The C parser is stricter than YAML 1.2 (and kustomize) in places: `[s3://x]` and
            # `{image: busybox:1.36}` (a ':' not followed by a space is part of a plain scalar,
            # also in flow context). Nothing is a syntax error until the pure parser agrees;
            # then the C parser's wording is reported (the same whichever slice is read).
            try:
                composed = list(_pure_yaml().compose_all(text))
            except MarkedYAMLError as lenient:
                # Report where both parsers fail, in the C parser's wording: if the C parser
                # stopped earlier at something the pure parser accepts, ask it again about the
                # failing document alone, so the error reads the same whichever slice is read.
                if _mark(lenient) > _mark(strict):
                    strict = _strict_error_in_document(text, lenient) or lenient
                raise strict from None
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        pos = Pos(filename, mark.line + 1, mark.column + 1) if mark else Pos(filename)
        problem = e.problem or e.context or "invalid YAML"
        context = f" ({e.context})" if e.context and e.problem else ""
        lines = text.splitlines()
        line_text = lines[pos.line - 1] if 0 < pos.line <= len(lines) else ""
        hint = "YAML indentation uses spaces, not tabs" if "\t" in line_text else _syntax_hint(problem)
        raise PodcError.single("yaml.syntax", f"invalid YAML: {problem}{context}", pos, hint=hint) from None
    except RecursionError:
        raise PodcError.single("input.too-deep", "nesting is too deep to read", Pos(filename),
                               hint=f"podc reads at most {limits.max_depth} levels") from None
    except YAMLError as e:
        raise PodcError.single("yaml.syntax", f"invalid YAML: {e}", Pos(filename)) from None

    docs: list[Node] = []
    try:
        for root in composed:
            if root is None:
                continue
            docs.append(builder.build(root, 0))
    except _TooBig as e:
        builder.diags.add("input.too-large", e.message, e.pos, hint=e.hint)
    return docs


class _Builder:
    """Turns ruamel nodes into podc nodes, checking as it goes."""

    def __init__(self, filename: str, layer: str, limits: Limits):
        self.filename = filename
        self.layer = layer
        self.limits = limits
        self.diags = Diagnostics()
        self.count = 0
        self.shared: dict[int, tuple[Node, int]] = {}  # alias target -> (node, size)

    def pos(self, ynode) -> Pos:
        m = ynode.start_mark
        return Pos(self.filename, m.line + 1, m.column + 1)

    def build(self, ynode, depth: int) -> Node:
        key = id(ynode)
        hit = self.shared.get(key)
        if hit is not None:  # an alias: share the node, but count what it expands to
            self._count(hit[1], ynode)
            return hit[0]
        if depth > self.limits.max_depth:
            raise _TooBig(f"nesting deeper than {self.limits.max_depth} levels", self.pos(ynode),
                          "flatten the structure; no Kubernetes object nests this deep")
        before = self.count
        node = self._build(ynode, depth)
        self.shared[key] = (node, self.count - before)
        return node

    def _count(self, n: int, ynode) -> None:
        self.count += n
        if self.count > self.limits.max_nodes:
            raise _TooBig(f"document expands to more than {self.limits.max_nodes} values", self.pos(ynode),
                          "this looks like an alias bomb ('billion laughs'); podc stops reading it")

    def _build(self, ynode, depth: int) -> Node:
        from ruamel.yaml.nodes import MappingNode, SequenceNode

        self._count(1, ynode)
        origin = Origin(self.layer, self.pos(ynode))
        tag = ynode.tag
        directive = _DIRECTIVE_TAGS.get(tag)
        if isinstance(ynode, MappingNode):
            if directive is None and tag != "tag:yaml.org,2002:map":
                self._unknown_tag(ynode)
            return self._mapping(ynode, origin, depth, directive)
        if isinstance(ynode, SequenceNode):
            if directive == "delete" or (directive is None and tag != "tag:yaml.org,2002:seq"):
                self._unknown_tag(ynode)
                directive = None
            items = [self.build(item, depth + 1) for item in ynode.value]
            items, seq_directive = take_seq_directive(items)
            return SeqNode(items, origin, directive=directive or seq_directive)
        if directive == "delete":
            return ScalarNode(None, origin, directive="delete")
        if directive == "replace":
            self._unknown_tag(ynode, "!replace goes on a mapping or a list, not on a single value")
            return ScalarNode(ynode.value, origin)
        value, spelled = self._scalar(ynode)
        return ScalarNode(value, origin, spelled=spelled)

    def _mapping(self, ynode, origin: Origin, depth: int, directive: str | None) -> MapNode:
        items: dict[str, Node] = {}
        key_pos: dict[str, Pos] = {}
        merged: dict[str, Node] = {}
        for ykey, yvalue in ynode.value:
            kpos = self.pos(ykey)
            if ykey.tag == _MERGE:  # YAML merge key: "<<: *defaults"
                for source in _merge_sources(yvalue):
                    value = self.build(source, depth + 1)
                    if isinstance(value, MapNode):
                        for k, v in value.items.items():
                            merged.setdefault(k, v)
                    else:
                        self.diags.add("yaml.merge-key", "'<<' expects a mapping or a list of mappings", kpos)
                continue
            if not hasattr(ykey, "value") or isinstance(ykey.value, list):
                self.diags.add("yaml.key-type", "mapping keys must be plain strings", kpos,
                               hint="quote the key")
                continue
            key = str(ykey.value)
            if key in items:
                self.diags.add("yaml.duplicate-key", f"duplicate key {key!r}", kpos,
                               related=[(key_pos[key], "first defined here")],
                               hint="YAML keeps only one of them; remove or rename one")
                continue
            key_pos[key] = kpos
            items[key] = self.build(yvalue, depth + 1)
        for k, v in merged.items():
            if k not in items:
                items[k] = v
                key_pos[k] = v.origin.pos
        own_directive = take_map_directive(items, self.diags, origin.pos)
        key_pos.pop("$patch", None)
        return MapNode(items, origin, key_pos, directive=directive or own_directive)

    def _scalar(self, ynode) -> tuple[Any, str | None]:
        """(value, spelled text or None): kustomize's reading (podc.source.scalars)."""
        from podc.source.scalars import ScalarError, plain, tagged

        tag, text = ynode.tag, ynode.value
        try:
            if not ynode.style and tag == _implicit_tag(text):  # plain and untagged
                value, spelled = plain(text)
                return value, (text if spelled else None)
            if tag in _AS_TEXT_TAGS or tag in _PLAIN_TAGS:
                return tagged(tag, text), None
        except ScalarError as e:
            self.diags.add("yaml.scalar", e.message, self.pos(ynode), hint=e.hint)
            return None, None
        self._unknown_tag(ynode)
        return text, None

    def _unknown_tag(self, ynode, hint: str | None = None) -> None:
        self.diags.add("yaml.tag", f"unsupported YAML tag {ynode.tag!r}", self.pos(ynode),
                       hint=hint or "podc understands !replace and !delete (merge directives); remove other tags")


def _strict_error_in_document(text: str, lenient):
    """The C parser's error for the document holding ``lenient``'s mark, the earlier documents
    blanked (line numbers kept); None when it does not fail at that same mark."""
    from ruamel.yaml.error import MarkedYAMLError

    lines = text.split("\n")
    line = _mark(lenient)[0]
    start = next((i for i in range(min(line, len(lines) - 1), -1, -1) if lines[i].startswith("---")), 0)
    try:
        list(_yaml().compose_all("\n" * start + "\n".join(lines[start:])))
    except MarkedYAMLError as e:
        return e if _mark(e) == _mark(lenient) else None
    return None


def _mark(e) -> tuple[int, int]:
    m = e.problem_mark or e.context_mark
    return (m.line, m.column) if m else (0, 0)


def _implicit_tag(text: str) -> str:
    """The tag ruamel's resolver gives a plain scalar: equal to the node's tag when none was written."""
    from ruamel.yaml.nodes import ScalarNode as _YScalar

    return str(_yaml().resolver.resolve(_YScalar, text, (True, False)))


def _merge_sources(yvalue) -> list:
    from ruamel.yaml.nodes import SequenceNode

    return list(yvalue.value) if isinstance(yvalue, SequenceNode) else [yvalue]


def _syntax_hint(problem: str) -> str:
    p = problem.lower()
    if "tab" in p:
        return "YAML indentation uses spaces, not tabs"
    if "mapping values are not allowed" in p:
        return "a value containing ': ' must be quoted, or the indentation is off"
    if "expected ','" in p or "expected ']'" in p or "expected '}'" in p:
        return "a flow list or mapping is not closed"
    if "could not find expected ':'" in p:
        return "a key is missing its ':' or a multi-line string needs '|' or quotes"
    return "check indentation and quoting around this position"
