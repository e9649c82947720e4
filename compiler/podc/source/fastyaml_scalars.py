"""One-line pieces of the fast YAML reader (:mod:`podc.source.fastyaml`): quoted scalars, ``key:``
splitting and one-line flow collections, plus :class:`NotFast` and the character classes both
modules share. Module-level functions (not methods) so the hot path pays one call per scalar.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable


class NotFast(Exception):
    """The text is outside the fast subset; read it with the full loader."""


_JSON_ESCAPES = re.compile(r'\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})')
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # JSON pairs them up; YAML does not
_PLAIN_START_BAD = frozenset("[]{},#&*!|>'\"%@`?:")
_KEY_START_SLOW = _PLAIN_START_BAD | {"-"}
_SPECIAL_KEYS = frozenset(("<<", "$patch"))  # merge key, merge directive: the full loader's job
# Inside a one-line flow collection a plain scalar ends at a flow indicator; the characters after
# which YAML 1.1/1.2 and ruamel's scanner could disagree (``:``, ``#``, ``?``) send it the slow way.
_FLOW_PLAIN_END = re.compile(r"[,\[\]{}:#?]")


def _flow(s: str, i: int, ln: int, col: int, depth: int, max_depth: int,
          push: Callable[[tuple[int, int]], None], resolve: Callable[[str], Any]) -> tuple[Any, int]:
    """The one-line flow collection opening at ``s[i]`` (``s`` starts at 0-based ``col``), its
    own position already pushed: (value, index after its closing bracket). ``push`` appends
    to the reader's positions; ``resolve`` types plain scalars."""
    if depth > max_depth:
        raise NotFast("deep")
    is_map = s[i] == "{"
    close = "}" if is_map else "]"
    out: Any = {} if is_map else []
    n = len(s)
    i += 1
    while i < n and s[i] == " ":
        i += 1
    if s[i:i + 1] == close:
        return out, i + 1
    while True:
        if i >= n:
            raise NotFast("multi-line flow collection")
        if is_map:
            push((ln + 1, col + i + 1))
            c = s[i]
            if c == '"' or c == "'":
                key, after = _quoted(s[i:])
                i += after
            else:
                if c in _KEY_START_SLOW:
                    raise NotFast("flow key")
                m = _FLOW_PLAIN_END.search(s, i)
                if m is None:
                    raise NotFast("flow key")
                key = s[i:m.start()]
                i = m.start()
                if key[-1] == " ":
                    raise NotFast("flow key")
            if s[i:i + 2] != ": ":
                raise NotFast("flow key without ': '")
            if key in out or key in _SPECIAL_KEYS:
                raise NotFast("duplicate, merge or $patch key")
            i = _next_item(s, i + 2, n, "empty flow value")
        push((ln + 1, col + i + 1))
        c = s[i]
        if c == "[" or c == "{":
            value, i = _flow(s, i, ln, col, depth + 1, max_depth, push, resolve)
        elif c == '"' or c == "'":
            value, after = _quoted(s[i:])
            i += after
        else:
            if c in _PLAIN_START_BAD or (c == "-" and s[i + 1:i + 2] in ("", " ", ",", "]", "}", "[", "{")):
                raise NotFast("indicator in flow")
            m = _FLOW_PLAIN_END.search(s, i)
            if m is None or s[m.start()] not in ",]}":
                raise NotFast("flow plain scalar")
            text = s[i:m.start()].rstrip(" ")
            i = m.start()
            value = resolve(text)
        if is_map:
            out[key] = value
        else:
            out.append(value)
        while i < n and s[i] == " ":
            i += 1
        if i >= n:
            raise NotFast("multi-line flow collection")
        c = s[i]
        if c == close:
            return out, i + 1
        if c != ",":
            raise NotFast("flow separator")
        i = _next_item(s, i + 1, n, "empty flow entry or trailing comma")


def _split_key(content: str) -> tuple[str, int] | None:
    """(key, index of its ':') when the line is a ``key: value`` entry, else None."""
    c0 = content[0]
    if c0 == '"' or c0 == "'":
        try:
            key, after = _quoted(content)
        except NotFast:
            return None
        if content[after:after + 1] == ":" and (len(content) == after + 1 or content[after + 1] == " "):
            return key, after
        return None
    if c0 in _PLAIN_START_BAD or (c0 == "-" and (len(content) == 1 or content[1] == " ")):
        return None
    i = content.find(": ")
    if i < 0:
        if content[-1] != ":":
            return None
        i = len(content) - 1
    key = content[:i]
    if " #" in key or key[-1] == " ":
        raise NotFast("odd key")
    return key, i


def _quoted(s: str) -> tuple[str, int]:
    """(value, index after the closing quote) of a one-line quoted scalar at the start of ``s``."""
    if s[0] == "'":
        i = 1
        while True:
            j = s.find("'", i)
            if j < 0:
                raise NotFast("multi-line quoted")
            if s[j + 1:j + 2] == "'":
                i = j + 2
                continue
            return s[1:j].replace("''", "'"), j + 1
    i = 1
    while True:
        j = s.find('"', i)
        if j < 0:
            raise NotFast("multi-line quoted")
        slashes = 0
        while s[j - 1 - slashes] == "\\":
            slashes += 1
        if slashes % 2:
            i = j + 1
            continue
        inner = s[1:j]
        if "\\" in inner:
            if "\\" in _JSON_ESCAPES.sub("", inner) or _SURROGATE_ESCAPE.search(inner):
                raise NotFast("escape")
            return json.loads('"' + inner + '"'), j + 1
        return inner, j + 1


def _next_item(s: str, i: int, n: int, empty: str) -> int:
    """The index of the next value after spaces; NotFast(``empty``) when there is none."""
    while i < n and s[i] == " ":
        i += 1
    if i >= n or s[i] in ",]}":
        raise NotFast(empty)
    return i
