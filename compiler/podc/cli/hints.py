"""Hints the CLI adds to diagnostics by looking at the source line, where the stage that found
the problem could not know better.

A key dedented by mistake (``scratch:`` with nothing after it, then ``emptyDir: {}`` at the same
column) makes the key look like a sibling: an unknown field, an invalid name, a missing
mapping. The real fix is the indentation; say so.
"""

from __future__ import annotations

import re
from typing import Iterable

from podc._record import replace

__all__ = ["with_source_hints"]

_KEY = re.compile(r"(\s*)(?:-\s+)?([^\s#:'\"][^:#]*?|'[^']*'|\"[^\"]*\"):(\s|$)")
_EMPTY_KEY = re.compile(r"(\s*)([^\s#:'\"-][^:#]*?|'[^']*'|\"[^\"]*\"):\s*(#.*)?\Z")


def with_source_hints(diagnostics: Iterable) -> list:
    cache: dict[str, list[str] | None] = {}
    return [_indentation(d, cache) for d in diagnostics]


def _lines(file: str, cache: dict) -> list[str] | None:
    if file not in cache:
        try:
            with open(file, encoding="utf-8-sig") as f:
                cache[file] = f.read().splitlines()
        except (OSError, UnicodeDecodeError, ValueError):
            cache[file] = None
    return cache[file]


def _indentation(d, cache: dict):
    pos = d.pos
    if d.severity != "error" or not pos.file or not pos.line or pos.file.startswith(("<", "--")):
        return d
    lines = _lines(pos.file, cache)
    if not lines or pos.line > len(lines):
        return d
    here = _KEY.match(lines[pos.line - 1])
    if here is None or "-" in lines[pos.line - 1][:len(here.group(1)) + 2].strip():
        return d
    j = pos.line - 2
    while j >= 0 and (not lines[j].strip() or lines[j].lstrip().startswith("#")):
        j -= 1
    above = _EMPTY_KEY.match(lines[j]) if j >= 0 else None
    if above is None or len(above.group(1)) != len(here.group(1)):
        return d
    key, parent = here.group(2), above.group(2)
    hint = (f"this looks like an indentation problem: `{key}` is at the same level as `{parent}:` on the line "
            f"above, which has no value; if `{key}` belongs to `{parent}`, indent it two more spaces")
    return replace(d, hint=hint)
