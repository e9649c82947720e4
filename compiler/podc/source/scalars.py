"""What a YAML scalar means, the way kustomize (kyaml on go-yaml v3) and kubectl read it.

YAML 1.1 and 1.2 readers disagree about many plain scalars (``0400``, ``yes``, ``1_000``,
timestamps …). podc reads every one of them as kustomize does, so a file means the same thing
to podc and to the user's other tools (``tests/differential`` checks it against
``kubectl kustomize``):

* ``null``/``Null``/``NULL``/``~``/empty → null; ``true``/``True``/``TRUE`` (and false) → booleans;
  ``yes``/``no``/``on``/``off``/``y``/``n`` stay strings (YAML 1.2).
* integers as Go's ``strconv.ParseInt(s, 0, 64)`` after removing ``_``: ``0400`` and ``0o400``
  are octal (256), ``0x1F`` is 31, ``0b101`` is 5, ``+1`` is 1; ``08`` (a leading zero but not
  octal) is 8.
* other numbers (``1.5``, ``1e3``, ``.5``) are floats; ``.inf``/``.nan`` are refused (kustomize
  cannot write them either), as are integers outside int64.
* a plain timestamp (``2001-12-14``, ``2001-12-14T21:59:43Z``) is text as written; it is marked
  so the layer check can refuse it where kustomize would rewrite it.

``plain`` returns ``(value, spelled)``: ``spelled`` is True when the text is not the canonical
spelling of its value (``0400``, ``True``, ``1.10``, ``+1``, a timestamp): such a scalar means
something different to a reader that keeps the text (kustomize keeps labels and annotations as
written), so podc refuses it where a string is expected (see :mod:`podc.model.scalars`).
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["ScalarError", "plain", "tagged", "FIRST_CHARS", "is_timestamp"]

_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
FIRST_CHARS = frozenset("~nNtTfF+-.0123456789")
# Integers beyond int64 are kept (the field's range check reports them at the value); beyond
# this many digits the reader refuses them (and stays clear of Python's int-str digit limit).
_MAX_DIGITS = 100

# go-yaml v3's yamlStyleFloat, plus its special values
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_SPECIAL_FLOAT = frozenset((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
                            ".nan", ".NaN", ".NAN"))
# Go's strconv.ParseInt(s, 0, 64) syntax (underscores already removed)
_GO_INT = re.compile(r"^[-+]?(0[bB][01]+|0[oO][0-7]+|0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$")
# go-yaml v3's allowed timestamp formats: 2006-1-2T15:4:5.999999999Z07:00 (T or t), "2006-1-2 15:4:5.999999999", 2006-1-2
_TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
                        r"(?:[Tt][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]+)?(?:Z|[-+][0-9]{2}:[0-9]{2})"
                        r"| [0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]+)?)?$")
_CANONICAL_INT = re.compile(r"^(0|-?[1-9][0-9]*)$")


class ScalarError(ValueError):
    """A scalar podc refuses: ``message`` and ``hint`` for a located diagnostic."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.message, self.hint = message, hint


def is_timestamp(text: str) -> bool:
    return len(text) >= 8 and text[4:5] == "-" and _TIMESTAMP.match(text) is not None


def plain(text: str) -> tuple[Any, bool]:
    """(value, spelled) of a plain (unquoted, untagged) scalar. Raises :class:`ScalarError`."""
    if text in _NULLS:
        return None, False
    if text[0] not in FIRST_CHARS:
        return text, False
    b = _BOOLS.get(text)
    if b is not None:
        return b, text not in ("true", "false")
    if text in _SPECIAL_FLOAT:
        raise ScalarError(f"{text} is not a number Kubernetes accepts (kustomize cannot write it either)",
                          f'quote it ("{text}") if you mean the text')
    if is_timestamp(text):
        return text, True
    digits = text.replace("_", "")
    if _GO_INT.match(digits):
        return _int(digits, text), not _CANONICAL_INT.match(text)
    if _FLOAT.match(digits):
        if digits.lstrip("+-").isdigit():  # 08, 0999: a leading zero but not octal: decimal, as kustomize reads it
            sign = digits[0] if digits[0] in "+-" else ""
            return _int(sign + (digits.lstrip("+-").lstrip("0") or "0"), text), True
        value = float(digits)
        if math.isinf(value):
            raise ScalarError(f"number {_short(text)} is out of range", f'quote it ("{_short(text)}") if you mean the text')
        return value, _float_text(value) != text
    return text, False


def _int(digits: str, text: str) -> int:
    sign = -1 if digits[0] == "-" else 1
    body = digits.lstrip("+-")
    if len(body) > _MAX_DIGITS:
        raise ScalarError(f"integer {_short(text)} has more than {_MAX_DIGITS} digits",
                          f'quote it ("{_short(text)}") if you mean the text')
    if len(body) > 1 and body[0] == "0" and body[1] not in "bBoOxX":
        value = int(body, 8)  # Go: a leading 0 means octal (0400 == 256), as kustomize reads it
    else:
        value = int(body, 0)
    return value * sign


def _float_text(value: float) -> str:
    return repr(value)


def _short(text: str) -> str:
    return text if len(text) <= 24 else text[:20] + "…"


_TAG = "tag:yaml.org,2002:"


def tagged(tag: str, text: str) -> Any:
    """The value of a scalar with an explicit core tag (``!!int 0400``, ``!!str yes``)."""
    kind = tag[len(_TAG):] if tag.startswith(_TAG) else tag
    if kind in ("str", "timestamp", "binary"):
        return text
    try:
        value, _ = plain(text)
    except ScalarError:
        value = text
    expected = {"int": "an integer", "float": "a number", "bool": "true or false", "null": "null (~)"}[kind]
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "null": value is None,
    }[kind]
    if not ok or (kind != "null" and text == ""):
        shown = repr(_short(text)) if text else "an empty value"
        raise ScalarError(f"!!{kind} {shown} is not {expected}",
                          f"write {expected}, or drop the !!{kind} tag to keep the text")
    return float(value) if kind == "float" else value
