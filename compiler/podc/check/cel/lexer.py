"""CEL tokens: literals (with the spec's escapes), identifiers and operators, each with its offset."""

from __future__ import annotations

import re
from typing import Any

from podc._record import record
from podc.check.cel.values import UInt

__all__ = ["Token", "CelSyntaxError", "tokenize", "line_col", "RESERVED"]


class CelSyntaxError(Exception):
    """A parse or check error at ``offset`` (a character index into the expression)."""

    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.message, self.offset = message, offset


@record(frozen=True, slots=True)
class Token:
    kind: str      # "int" "uint" "double" "string" "bytes" "ident" "op" "eof"
    value: Any
    start: int
    end: int


RESERVED = frozenset("as break const continue else for function if import let loop package namespace "
                     "return var void while".split())

_TOKEN = re.compile(r"""
    (?P<ws>[ \t\r\n\f]+|//[^\n]*)
  | (?P<str>(?:[rRbB]|[rR][bB]|[bB][rR])?(?:'''|\"\"\"|'|"))
  | (?P<num>0[xX][0-9a-fA-F]+[uU]?|(?:[0-9]+\.[0-9]+|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+|[0-9]+[uU]?)
  | (?P<ident>[_a-zA-Z][_a-zA-Z0-9]*)
  | (?P<quoted>`[^`\n]*`)
  | (?P<op>\|\||&&|==|!=|<=|>=|[<>!+\-*/%?:.,()\[\]{}])
""", re.X)

_SIMPLE_ESCAPES = {"\\": "\\", "?": "?", '"': '"', "'": "'", "`": "`", "a": "\a", "b": "\b", "f": "\f",
                   "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def line_col(source: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset; columns count characters, not bytes."""
    offset = max(0, min(offset, len(source)))
    line = source.count("\n", 0, offset) + 1
    return line, offset - (source.rfind("\n", 0, offset) + 1) + 1


def tokenize(source: str) -> list[Token]:
    out: list[Token] = []
    pos, n = 0, len(source)
    while pos < n:
        m = _TOKEN.match(source, pos)
        if m is None:
            raise CelSyntaxError(f"unexpected character {source[pos]!r}", pos)
        kind = m.lastgroup
        if kind == "ws":
            pos = m.end()
        elif kind == "str":
            tok = _string(source, pos, m.group())
            out.append(tok)
            pos = tok.end
        elif kind == "num":
            out.append(_number(m.group(), pos, m.end()))
            pos = m.end()
        elif kind == "quoted":
            out.append(Token("quoted", m.group()[1:-1], pos, m.end()))
            pos = m.end()
        else:
            out.append(Token(kind, m.group(), pos, m.end()))  # type: ignore[arg-type]
            pos = m.end()
    out.append(Token("eof", None, n, n))
    return out


def _number(text: str, start: int, end: int) -> Token:
    unsigned = text[-1] in "uU"
    body = text[:-1] if unsigned else text
    if body[:2] in ("0x", "0X"):
        value = int(body, 16)
    elif any(c in body for c in ".eE"):
        return Token("double", float(body), start, end)
    else:
        value = int(body)
    if unsigned:
        if value > 2**64 - 1:
            raise CelSyntaxError(f"uint literal {text} is out of range", start)
        return Token("uint", UInt(value), start, end)
    if value > 2**63:  # 2**63 itself is allowed only as the operand of a unary minus
        raise CelSyntaxError(f"int literal {text} is out of range", start)
    return Token("int", value, start, end)


def _string(source: str, start: int, opener: str) -> Token:
    prefix = opener.rstrip("'\"").lower()
    quote = opener[len(prefix):]
    raw, is_bytes = "r" in prefix, "b" in prefix
    i = start + len(opener)
    chars: list[str] = []
    n = len(source)
    while True:
        if i >= n:
            raise CelSyntaxError("string literal is not terminated", start)
        if source.startswith(quote, i):
            i += len(quote)
            break
        c = source[i]
        if c == "\n" and len(quote) == 1:
            raise CelSyntaxError("string literal is not terminated before the end of the line", start)
        if c == "\\" and not raw:
            text, i = _escape(source, i, is_bytes)
            chars.append(text)
            continue
        if c == "\\" and raw and i + 1 < n and source[i + 1] in "'\"":
            chars.append(source[i:i + 2])  # a raw string may still escape its quote
            i += 2
            continue
        chars.append(c)
        i += 1
    text = "".join(chars)
    if is_bytes:
        return Token("bytes", _to_bytes(text), start, i)
    return Token("string", text, start, i)


def _escape(source: str, i: int, is_bytes: bool) -> tuple[str, int]:
    if i + 1 >= len(source):
        raise CelSyntaxError("a string ends with a lone backslash", i)
    c = source[i + 1]
    if c in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[c], i + 2
    width = {"x": 2, "X": 2, "u": 4, "U": 8}.get(c)
    if width is not None:
        if is_bytes and c in "uU":
            raise CelSyntaxError(f"\\{c} escapes are not allowed in bytes literals", i)
        digits = source[i + 2:i + 2 + width]
        if len(digits) != width or not all(d in "0123456789abcdefABCDEF" for d in digits):
            raise CelSyntaxError(f"\\{c} needs {width} hexadecimal digits", i)
        code = int(digits, 16)
        if is_bytes:
            return "\x00" + chr(code), i + 2 + width  # marked as a raw byte for _to_bytes
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise CelSyntaxError(f"\\{c}{digits} is not a valid code point", i)
        return chr(code), i + 2 + width
    if c in "0123":
        digits = source[i + 1:i + 4]
        if len(digits) == 3 and all(d in "01234567" for d in digits):
            code = int(digits, 8)
            return ("\x00" + chr(code)) if is_bytes else chr(code), i + 4
    raise CelSyntaxError(f"invalid escape sequence \\{c}", i)


def _to_bytes(text: str) -> bytes:
    out = bytearray()
    i = 0
    while i < len(text):
        if text[i] == "\x00" and i + 1 < len(text):
            out.append(ord(text[i + 1]))
            i += 2
        else:
            out.extend(text[i].encode("utf-8"))
            i += 1
    return bytes(out)
