"""cel-go's strings extension (version 2, what Kubernetes 1.29+ enables) and sets extension.

strings: ``charAt``, ``indexOf``, ``lastIndexOf``, ``lowerAscii``, ``upperAscii``, ``replace``,
``split``, ``substring``, ``trim``, ``join``, ``format``, ``strings.quote``.
sets: ``sets.contains``, ``sets.equivalent``, ``sets.intersects``.
Indexes count Unicode code points, as in cel-go.
"""

from __future__ import annotations

from typing import Any

from podc.check.cel.functions import format_double, to_string
from podc.check.cel.registry import register
from podc.check.cel.values import CelError, Duration, Timestamp, UInt, equal, no_overload

__all__: list[str] = []


def _str(name: str, *values: Any) -> None:
    for v in values:
        if type(v) is not str:
            raise no_overload(name, *values)


def _int(name: str, *values: Any) -> None:
    for v in values:
        if type(v) is not int:
            raise no_overload(name, *values)


@register("charAt", member=True, args=1)
def char_at(s: Any, i: Any) -> str:
    _str("charAt", s)
    _int("charAt", i)
    if i < 0 or i > len(s):
        raise CelError(f"index out of range: {i}")
    return s[i:i + 1]


@register("indexOf", member=True, args=(1, 2))
def index_of(s: Any, sub: Any, start: Any = 0) -> int:
    if isinstance(s, list):  # Kubernetes' lists library: list.indexOf(value)
        if start != 0:
            raise no_overload("indexOf", s, sub, start)
        return next((i for i, x in enumerate(s) if equal(x, sub)), -1)
    _str("indexOf", s, sub)
    _int("indexOf", start)
    if start < 0 or start > len(s):
        raise CelError(f"index out of range: {start}")
    return s.find(sub, start)


@register("lastIndexOf", member=True, args=(1, 2))
def last_index_of(s: Any, sub: Any, end: Any = None) -> int:
    if isinstance(s, list):
        if end is not None:
            raise no_overload("lastIndexOf", s, sub, end)
        return next((i for i in range(len(s) - 1, -1, -1) if equal(s[i], sub)), -1)
    _str("lastIndexOf", s, sub)
    if end is None:
        return s.rfind(sub)
    _int("lastIndexOf", end)
    if end < 0 or end > len(s):
        raise CelError(f"index out of range: {end}")
    return s.rfind(sub, 0, end + len(sub))


@register("lowerAscii", member=True, args=0)
def lower_ascii(s: Any) -> str:
    _str("lowerAscii", s)
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in s)


@register("upperAscii", member=True, args=0)
def upper_ascii(s: Any) -> str:
    _str("upperAscii", s)
    return "".join(c.upper() if "a" <= c <= "z" else c for c in s)


@register("replace", member=True, args=(2, 3))
def replace(s: Any, old: Any, new: Any, n: Any = -1) -> str:
    _str("replace", s, old, new)
    _int("replace", n)
    return s.replace(old, new, n if n >= 0 else -1)


@register("split", member=True, args=(1, 2))
def split(s: Any, sep: Any, n: Any = -1) -> list:
    _str("split", s, sep)
    _int("split", n)
    if n == 0:
        return []
    if sep == "":
        chars = list(s)
        return chars if n < 0 or n >= len(chars) else chars[:n - 1] + ["".join(chars[n - 1:])]
    return s.split(sep, n - 1 if n > 0 else -1)


@register("substring", member=True, args=(1, 2))
def substring(s: Any, start: Any, end: Any = None) -> str:
    _str("substring", s)
    end = len(s) if end is None else end
    _int("substring", start, end)
    if start < 0 or start > len(s) or end < start or end > len(s):
        raise CelError(f"substring: index out of range [{start}:{end}] for a string of length {len(s)}")
    return s[start:end]


_SPACE = " \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
         "\u2028\u2029\u202f\u205f\u3000"


@register("trim", member=True, args=0)
def trim(s: Any) -> str:
    _str("trim", s)
    return s.strip(_SPACE)


@register("join", member=True, args=(0, 1))
def join(items: Any, sep: Any = "") -> str:
    if not isinstance(items, list) or type(sep) is not str or any(type(x) is not str for x in items):
        raise no_overload("join", items, sep)
    return sep.join(items)


@register("strings.quote", member=False, args=1)
def quote(s: Any) -> str:
    _str("strings.quote", s)
    escapes = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
               "\\": "\\\\", '"': '\\"'}
    return '"' + "".join(escapes.get(c, c) for c in s) + '"'


@register("format", member=True, args=1)
def format_(template: Any, args: Any) -> str:
    """``"%s is %d".format([name, n])``: verbs %s %d %f (%.Nf) %e %x %X %o %b and %%."""
    if type(template) is not str or not isinstance(args, list):
        raise no_overload("format", template, args)
    out: list[str] = []
    i, arg = 0, 0
    while i < len(template):
        c = template[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        j = i + 1
        precision = None
        if j < len(template) and template[j] == ".":
            k = j + 1
            while k < len(template) and template[k].isdigit():
                k += 1
            precision = int(template[j + 1:k] or "0")
            j = k
        if j >= len(template):
            raise CelError("format: a '%' at the end of the string")
        verb = template[j]
        if verb == "%":
            out.append("%")
        else:
            if arg >= len(args):
                raise CelError(f"format: index {arg} out of range for {len(args)} arguments")
            out.append(_verb(verb, args[arg], precision))
            arg += 1
        i = j + 1
    return "".join(out)


def _verb(verb: str, value: Any, precision: int | None) -> str:
    t = type(value)
    if verb == "s":
        if t is list:
            return "[" + ", ".join(_verb("s", x, None) for x in value) + "]"
        if t is dict:
            items = sorted(value.items(), key=lambda kv: str(kv[0]))
            return "{" + ", ".join(f"{_verb('s', k, None)}: {_verb('s', v, None)}" for k, v in items) + "}"
        if value is None:
            return "null"
        if t in (Duration, Timestamp):
            return str(value)
        return to_string(value)
    if verb == "d":
        if t in (int, UInt):
            return str(int(value))
        if t is float and not value.is_integer():
            raise CelError("format: %d needs an integer")
        if t is float:
            return format_double(value)
        raise CelError(f"format: %d needs an integer, got {t.__name__}")
    if verb in "fe":
        if t not in (int, UInt, float):
            raise CelError(f"format: %{verb} needs a number")
        return f"{float(value):.{6 if precision is None else precision}{verb}}"
    if verb in "xXob":
        if t in (int, UInt):
            return format(int(value), verb)
        if t is str and verb in "xX":
            return value.encode().hex() if verb == "x" else value.encode().hex().upper()
        if t is bytes and verb in "xX":
            return value.hex() if verb == "x" else value.hex().upper()
        raise CelError(f"format: %{verb} needs an integer")
    raise CelError(f"format: unknown verb %{verb}")


def _lists(name: str, a: Any, b: Any) -> None:
    if not isinstance(a, list) or not isinstance(b, list):
        raise no_overload(name, a, b)


@register("sets.contains", member=False, args=2)
def sets_contains(a: Any, b: Any) -> bool:
    _lists("sets.contains", a, b)
    return all(any(equal(x, y) for y in a) for x in b)


@register("sets.equivalent", member=False, args=2)
def sets_equivalent(a: Any, b: Any) -> bool:
    return sets_contains(a, b) and sets_contains(b, a)


@register("sets.intersects", member=False, args=2)
def sets_intersects(a: Any, b: Any) -> bool:
    _lists("sets.intersects", a, b)
    return any(any(equal(x, y) for y in a) for x in b)
