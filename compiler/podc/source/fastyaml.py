"""A fast reader for the plain block YAML that kubectl, Helm and people write for Kubernetes.

ruamel.yaml (even with its C parser) spends most of its time in Python per node, so reading a
2,000-document manifest costs seconds. This reader handles the common subset line by line and
produces PLAIN data plus a flat list of source positions (one per node and per mapping key, in
document order), so a position is only turned into a :class:`~podc.errors.Pos` when someone asks.

It never guesses: anything outside the subset (anchors, aliases, tags, flow collections that
span lines or hold anything but simple scalars, multi-line plain or quoted scalars, folded or indented block scalars, duplicate or
merge keys, ``$patch``, tabs, unusual characters, bad indentation, ...) raises :class:`NotFast` and
the caller reads that document with the full positioned loader, which reports errors exactly.
Scalars are typed by :func:`podc.source.scalars.plain`, kustomize's reading (cached per distinct text),
so values are identical to the full loader's.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from podc.source.fastyaml_scalars import (_KEY_START_SLOW, _PLAIN_START_BAD, _SPECIAL_KEYS, NotFast, _flow, _quoted,
                                    _split_key)

__all__ = ["NotFast", "Split", "split_documents", "parse_document", "Resolver"]


# Characters the fast path accepts anywhere: printable, no tab, no CR (CRLF is normalised
# before), no BOM, no NEL/LS/PS (YAML 1.1 line breaks).
# Written as the (short) list of unusual characters, not as the complement of the accepted ones:
# compiling the negated class of large Unicode ranges cost ~6 ms at every start-up.
_UNUSUAL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")


class _Any:
    def __contains__(self, item: object) -> bool:
        return True


_ANY = _Any()


class Split:
    """A stream cut into documents: its lines, the significant (non-blank, non-comment) lines as
    (line index, indent, text), and per document (first line, end line, first/end significant
    line, whether its ``---`` line carries content)."""

    __slots__ = ("lines", "sig", "docs")

    def __init__(self, lines: list[str], sig: list[tuple[int, int, str]], docs: list[tuple[int, int, int, int, bool]]):
        self.lines, self.sig, self.docs = lines, sig, docs


def split_documents(text: str) -> Split | None:
    """The stream cut into documents, or None for an unusual stream (read it all the full way).

    A document starts at its ``---`` line (if any). A ``---`` at column 0 always starts a
    document in YAML, whatever came before, so the split is exact. Directives (``%``), end
    markers (``...``) and unusual characters send the whole stream to the full loader.
    """
    if "\r" in text:
        if "\r" in text.replace("\r\n", ""):
            return None
        text = text.replace("\r\n", "\n")
    if _UNUSUAL.search(text):
        return None
    lines = text.split("\n")
    sig: list[tuple[int, int, str]] = []
    append = sig.append
    starts: list[tuple[int, int, bool]] = []
    for i, line in enumerate(lines):
        content = line.lstrip(" ")
        if not content or content[0] == "#":
            continue
        indent = len(line) - len(content)
        if not indent:
            c0 = content[0]
            if c0 == "-" and content.startswith("---") and (len(content) == 3 or content[3] == " "):
                rest = content[3:].lstrip(" ")
                starts.append((i, len(sig), bool(rest) and rest[0] != "#"))
                continue
            if c0 == "%" or (c0 == "." and content.startswith("...")):
                return None
            if not starts:
                starts.append((0, 0, False))
        append((i, indent, content.rstrip(" ") if content[-1] == " " else content))
    last = len(lines) - 1 if lines[-1] == "" else len(lines)
    docs = []
    for j, (first, lo, marked) in enumerate(starts):
        end, hi = (starts[j + 1][0], starts[j + 1][1]) if j + 1 < len(starts) else (last, len(sig))
        docs.append((first, end, lo, hi, marked))
    return Split(lines, sig, docs)


class Resolver:
    """Plain scalar text -> value, as :func:`podc.source.scalars.plain` types it (kustomize's
    reading). A scalar spelled in a non-canonical way (``0400``, ``True``, a timestamp) or refused
    raises NotFast: the full loader keeps its text or reports it, at its position."""

    def __init__(self, *_unused: Any) -> None:  # (older callers passed ruamel's resolver)
        from podc.source.scalars import FIRST_CHARS

        self.first = FIRST_CHARS
        self.cache: dict[str, Any] = {}

    def __call__(self, text: str) -> Any:
        if text[0] not in self.first:
            return text
        cache = self.cache
        if text in cache:
            value = cache[text]
        else:
            from podc.source.scalars import ScalarError, plain

            try:
                value, spelled = plain(text)
            except ScalarError:
                spelled = True
            if spelled:
                value = _SLOW
            cache[text] = value
        if value is _SLOW:
            raise NotFast("spelled scalar")
        return value


_SLOW = object()


def parse_document(split: Split, doc: tuple[int, int, int, int, bool], resolve: Callable[[str], Any],
                   max_depth: int) -> tuple[Any, list[tuple[int, int]]]:
    """(plain data, positions) of one document of ``split``; raises NotFast.

    ``positions`` holds 1-based (line, col) in pre-order: a node's own position, and for every
    mapping entry the key's position followed by its value's positions.
    """
    first, end, lo, hi, marked = doc
    if marked or lo == hi:
        raise NotFast("content after ---, or an empty document")
    reader = _Reader(split.lines, split.sig, lo, hi, end, resolve, max_depth)
    value = reader.node(lo, -1, 0)
    if reader.k != hi:
        raise NotFast("trailing content")
    return value, reader.positions


def _is_dash(content: str) -> bool:
    return content[0] == "-" and (len(content) == 1 or content[1] == " ")


class _Reader:
    def __init__(self, lines: list[str], sig: list[tuple[int, int, str]], lo: int, hi: int, end: int,
                 resolve: Callable[[str], Any], max_depth: int):
        self.lines, self.sig, self.end, self.nsig = lines, sig, end, hi
        self.resolve, self.max_depth = resolve, max_depth
        self.positions: list[tuple[int, int]] = []
        self.k = lo
        # First characters of plain scalars that may not be strings (digits, t/f/n, ...).
        self.first_chars = getattr(resolve, "first", None) or _ANY

    def node(self, k: int, parent: int, depth: int) -> Any:
        """The block node starting at sig[k] (indented deeper than ``parent``); sets self.k."""
        if depth > self.max_depth:
            raise NotFast("deep")
        ln, indent, content = self.sig[k]
        if _is_dash(content):
            return self.seq(k, indent, depth)
        if (content[0] not in _KEY_START_SLOW and (": " in content or content[-1] == ":")) \
                or _split_key(content) is not None:
            return self.map(k, indent, depth, None)
        value = self.inline(content, ln, indent, k + 1, parent, depth)
        if self.k < self.nsig and self.sig[self.k][1] > parent:
            raise NotFast("multi-line scalar")
        return value

    def map(self, k: int, n: int, depth: int, first: tuple[int, str] | None) -> dict:
        sig, nsig = self.sig, self.nsig
        push = self.positions.append
        resolve, first_chars = self.resolve, self.first_chars
        out: dict[str, Any] = {}
        if first is not None:
            push((first[0] + 1, n + 1))
        else:
            push((sig[k][0] + 1, n + 1))
        while True:
            if first is not None:
                ln, content = first
                first = None
            else:
                if k >= nsig:
                    break
                ln, indent, content = sig[k]
                if indent != n:
                    if indent > n:
                        raise NotFast("indentation")
                    break
                k += 1
            # The common case inline: a plain key, then a plain value or nothing.
            if content[0] in _KEY_START_SLOW:
                split = _split_key(content)
                if split is None:
                    raise NotFast("not a key")
                key, colon = split
            else:
                colon = content.find(": ")
                if colon < 0:
                    if content[-1] != ":":
                        raise NotFast("not a key")
                    colon = len(content) - 1
                key = content[:colon]
                if key[-1] == " " or " #" in key:
                    raise NotFast("odd key")
            if key in out or key in _SPECIAL_KEYS:
                raise NotFast("duplicate, merge or $patch key")
            push((ln + 1, n + 1))
            rest = content[colon + 1:].lstrip(" ")
            if not rest or rest[0] == "#":
                if k < nsig and sig[k][1] > n:
                    out[key] = self.node(k, n, depth + 1)
                    k = self.k
                elif k < nsig and sig[k][1] == n and _is_dash(sig[k][2]):
                    out[key] = self.seq(k, n, depth + 1)
                    k = self.k
                else:
                    push((ln + 1, n + colon + 2))
                    out[key] = None
                continue
            c0 = rest[0]
            if c0 in _PLAIN_START_BAD or (c0 == "-" and (len(rest) == 1 or rest[1] == " ")):
                out[key] = self.inline(rest, ln, n + len(content) - len(rest), k, n, depth + 1)
                k = self.k
            else:
                push((ln + 1, n + len(content) - len(rest) + 1))
                cut = rest.find(" #")
                if cut >= 0:
                    rest = rest[:cut].rstrip(" ")
                if ": " in rest or rest[-1] == ":":
                    raise NotFast("colon in plain scalar")
                out[key] = rest if c0 not in first_chars else resolve(rest)
            if k < nsig and sig[k][1] > n:
                raise NotFast("multi-line value")
        self.k = k
        return out

    def seq(self, k: int, n: int, depth: int) -> list:
        sig, positions, nsig = self.sig, self.positions, self.nsig
        out: list[Any] = []
        positions.append((sig[k][0] + 1, n + 1))
        while k < nsig:
            ln, indent, content = sig[k]
            if indent != n or not _is_dash(content):
                if indent > n:
                    raise NotFast("indentation")
                break
            k += 1
            rest = content[1:].lstrip(" ")
            col = n + len(content) - len(rest)
            if not rest or rest[0] == "#":
                if k < nsig and sig[k][1] > n:
                    out.append(self.node(k, n, depth + 1))
                    k = self.k
                else:
                    positions.append((ln + 1, n + 2))
                    out.append(None)
                continue
            if _is_dash(rest):
                raise NotFast("nested compact sequence")
            if _split_key(rest) is not None:
                out.append(self.map(k, col, depth + 1, (ln, rest)))
                k = self.k
            else:
                out.append(self.inline(rest, ln, col, k, n, depth + 1))
                k = self.k
                if k < nsig and sig[k][1] > n:
                    raise NotFast("multi-line item")
        self.k = k
        return out

    def inline(self, s: str, ln: int, col: int, k: int, parent: int, depth: int) -> Any:
        """A value written on the rest of a line at 0-based ``col``; sets self.k past it."""
        self.k = k
        self.positions.append((ln + 1, col + 1))
        c0 = s[0]
        if c0 == '"' or c0 == "'":
            value, after = _quoted(s)
            tail = s[after:]
            if tail and not (tail[0] == " " and (not tail.strip(" ") or tail.lstrip(" ")[0] == "#")):
                raise NotFast("text after quoted scalar")
            return value
        if c0 in _PLAIN_START_BAD:
            if c0 == "[" or c0 == "{":
                value, after = _flow(s, 0, ln, col, depth, self.max_depth, self.positions.append, self.resolve)
                tail = s[after:]
                if tail and not (tail[0] == " " and tail.lstrip(" ")[:1] == "#"):
                    raise NotFast("text after flow collection")
                return value
            if c0 == "|":
                return self.literal(s, ln, parent)
            raise NotFast("indicator")
        if c0 == "-" and (len(s) == 1 or s[1] == " "):
            raise NotFast("dash")
        cut = s.find(" #")
        if cut >= 0:
            s = s[:cut].rstrip(" ")
        if ": " in s or s[-1] == ":":
            raise NotFast("colon in plain scalar")
        return self.resolve(s)

    def literal(self, header: str, ln: int, parent: int) -> str:
        cut = header.find(" #")
        chomp = (header[:cut] if cut >= 0 else header)[1:].rstrip(" ")
        if chomp not in ("", "-", "+"):
            raise NotFast("block scalar header")
        lines, end = self.lines, self.end
        body: list[str] = []
        indent = -1
        j = ln + 1
        while j < end:
            line = lines[j]
            content = line.lstrip(" ")
            if not content:
                if indent >= 0 and len(line) > indent:
                    raise NotFast("spaces in blank line")
                body.append("")
            else:
                here = len(line) - len(content)
                if indent < 0:
                    if here <= parent or any(len(lines[x]) > here for x in range(ln + 1, j)):
                        raise NotFast("block scalar indentation")
                    indent = here
                elif here < indent:
                    break
                body.append(line[indent:])
            j += 1
        if indent < 0 or (j == len(lines) and lines[-1] != ""):
            raise NotFast("empty block scalar, or one at the end of a file without a final newline")
        trailing = 0
        while body and body[-1] == "":
            body.pop()
            trailing += 1
        text = "\n".join(body)
        text += "" if chomp == "-" else "\n" * (1 + trailing if chomp == "+" else 1)
        sig, k = self.sig, self.k
        while k < self.nsig and sig[k][0] < j:
            k += 1
        self.k = k
        return text

