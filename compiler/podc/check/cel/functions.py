"""CEL's standard functions: size, string predicates, ``matches`` (RE2), conversions and
optionals. Durations and timestamps are in :mod:`podc.check.cel.temporal`."""

from __future__ import annotations

from typing import Any

from podc.check.cel.registry import register
from podc.check.cel.values import (INT_MAX, INT_MIN, TYPES, UINT_MAX, CelError, CelType, Duration, Optional,
                                   Timestamp, UInt, expect, no_overload, type_of)

__all__ = ["regex_compile", "format_double", "to_string", "TYPE_NAMES"]

# ---------------------------------------------------------------- size and strings


@register("size", member=False, args=1)
@register("size", member=True, args=0)
def size(v: Any) -> int:
    if isinstance(v, (str, bytes, list, dict)):
        return len(v)
    raise no_overload("size", v)


def _strings(op: str, s: Any, t: Any) -> None:
    if type(s) is not str or type(t) is not str:
        raise no_overload(op, s, t)


@register("contains", member=True, args=1)
def contains(s: Any, t: Any) -> bool:
    _strings("contains", s, t)
    return t in s


@register("startsWith", member=True, args=1)
def starts_with(s: Any, t: Any) -> bool:
    _strings("startsWith", s, t)
    return s.startswith(t)


@register("endsWith", member=True, args=1)
def ends_with(s: Any, t: Any) -> bool:
    _strings("endsWith", s, t)
    return s.endswith(t)


_RE2_OPTIONS = None


def regex_compile(pattern: str):
    """An RE2 pattern (the syntax Kubernetes' Go regexp accepts), compiled once per pattern.

    RE2 runs in linear time, so no pattern can hang podc on a hostile string."""
    cached = _REGEX_CACHE.get(pattern)
    if cached is not None:
        return cached
    global _RE2_OPTIONS
    try:
        import re2  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - a declared dependency
        raise CelError("regular expressions need the google-re2 package (pip install google-re2)") from None
    if _RE2_OPTIONS is None:
        _RE2_OPTIONS = re2.Options()
        _RE2_OPTIONS.log_errors = False  # RE2 would print every bad pattern to stderr
    try:
        compiled = re2.compile(pattern, _RE2_OPTIONS)
    except Exception as e:  # re2.error: the pattern is not valid RE2 syntax
        text = e.args[0].decode() if e.args and isinstance(e.args[0], bytes) else str(e)
        raise CelError(f"invalid regular expression {pattern!r}: {text}") from None
    if len(_REGEX_CACHE) > 512:
        _REGEX_CACHE.clear()
    _REGEX_CACHE[pattern] = compiled
    return compiled


_REGEX_CACHE: dict[str, Any] = {}


@register("matches", member=True, args=1)
@register("matches", member=False, args=2)
def matches(s: Any, pattern: Any) -> bool:
    _strings("matches", s, pattern)
    return regex_compile(pattern).search(s) is not None


# ---------------------------------------------------------------- conversions


@register("int", member=False, args=1)
def to_int(v: Any) -> int:
    t = type(v)
    if t is int:
        return v
    if t is UInt:
        if v > INT_MAX:
            raise CelError("integer overflow")
        return int(v)
    if t is float:
        if v != v or not (-9.223372036854775808e18 <= v < 9.223372036854775807e18):
            raise CelError("integer overflow")
        return int(v)
    if t is str:
        try:
            out = int(v, 10)
        except ValueError:
            raise CelError(f"cannot convert string {v!r} to int") from None
        if out < INT_MIN or out > INT_MAX:
            raise CelError("integer overflow")
        return out
    if t is Timestamp:
        return v.epoch_nanos() // 10**9
    if t is Duration:
        return v.nanos
    raise no_overload("int", v)


@register("uint", member=False, args=1)
def to_uint(v: Any) -> UInt:
    t = type(v)
    if t in (int, UInt):
        if v < 0 or v > UINT_MAX:
            raise CelError("unsigned integer overflow")
        return UInt(v)
    if t is float:
        if v != v or not (0 <= v < 1.8446744073709552e19):
            raise CelError("unsigned integer overflow")
        return UInt(int(v))
    if t is str:
        try:
            return to_uint(int(v, 10))
        except ValueError:
            raise CelError(f"cannot convert string {v!r} to uint") from None
    raise no_overload("uint", v)


@register("double", member=False, args=1)
def to_double(v: Any) -> float:
    t = type(v)
    if t is float:
        return v
    if t in (int, UInt):
        return float(v)
    if t is str:
        try:
            return float(v)
        except ValueError:
            raise CelError(f"cannot convert string {v!r} to double") from None
    raise no_overload("double", v)


def format_double(v: float) -> str:
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "+Inf" if v > 0 else "-Inf"
    if v.is_integer() and abs(v) < 1e21:
        return str(int(v))
    return repr(v)


@register("string", member=False, args=1)
def to_string(v: Any) -> str:
    t = type(v)
    if t is str:
        return v
    if t is bool:
        return "true" if v else "false"
    if t is int or t is UInt:
        return str(int(v))
    if t is float:
        return format_double(v)
    if t is bytes:
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            raise CelError("bytes are not valid UTF-8") from None
    if t in (Timestamp, Duration):
        return str(v)
    to_text = getattr(v, "to_string", None)
    if to_text is not None:
        return to_text()
    raise no_overload("string", v)


@register("bytes", member=False, args=1)
def to_bytes(v: Any) -> bytes:
    if type(v) is bytes:
        return v
    if type(v) is str:
        return v.encode("utf-8")
    raise no_overload("bytes", v)


_BOOL_TEXT = {"1": True, "t": True, "true": True, "TRUE": True, "True": True,
              "0": False, "f": False, "false": False, "FALSE": False, "False": False}


@register("bool", member=False, args=1)
def to_bool(v: Any) -> bool:
    if type(v) is bool:
        return v
    if type(v) is str and v in _BOOL_TEXT:
        return _BOOL_TEXT[v]
    raise CelError(f"cannot convert {v!r} to bool") if type(v) is str else no_overload("bool", v)


@register("type", member=False, args=1)
def type_fn(v: Any) -> CelType:
    return type_of(v)


@register("dyn", member=False, args=1)
def dyn(v: Any) -> Any:
    return v


# ---------------------------------------------------------------- optionals


@register("optional.of", member=False, args=1)
def optional_of(v: Any) -> Optional:
    return Optional(True, v)


@register("optional.none", member=False, args=0)
def optional_none() -> Optional:
    return Optional(False)


@register("optional.ofNonZeroValue", member=False, args=1)
def optional_of_non_zero(v: Any) -> Optional:
    zero = v is None or v is False or (type(v) in (int, float, UInt) and v == 0) or \
        (isinstance(v, (str, bytes, list, dict)) and len(v) == 0) or (type(v) is Duration and v.nanos == 0)
    return Optional(False) if zero else Optional(True, v)


def _opt(name: str, v: Any) -> Optional:
    return expect(name, v, Optional)


@register("hasValue", member=True, args=0)
def has_value(v: Any) -> bool:
    return _opt("hasValue", v).present


@register("value", member=True, args=0)
def value(v: Any) -> Any:
    o = _opt("value", v)
    if not o.present:
        raise CelError("optional.none() dereference")
    return o.value


@register("orValue", member=True, args=1)
def or_value(v: Any, default: Any) -> Any:
    o = _opt("orValue", v)
    return o.value if o.present else default


@register("or", member=True, args=1)
def or_(v: Any, other: Any) -> Optional:
    o = _opt("or", v)
    return o if o.present else _opt("or", other)


TYPE_NAMES = {"int": TYPES["int"], "uint": TYPES["uint"], "double": TYPES["double"], "bool": TYPES["bool"],
              "string": TYPES["string"], "bytes": TYPES["bytes"], "list": TYPES["list"], "map": TYPES["map"],
              "null_type": TYPES["null_type"], "type": TYPES["type"],
              "google.protobuf.Timestamp": TYPES["google.protobuf.Timestamp"],
              "google.protobuf.Duration": TYPES["google.protobuf.Duration"]}
