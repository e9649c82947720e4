"""The function registry and CEL's standard functions (size, string predicates, conversions,
timestamps and durations, optionals).

A function is registered per call style: *member* (``'a'.startsWith('b')``, the receiver is the
first argument) or *global* (``size(x)``), and per number of arguments, as CEL declares its
overloads. Calls are resolved when an expression is compiled, so an unknown function or a wrong
argument count is a load-time error (with a did-you-mean), as it is for the API server.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Callable

from podc.check.cel.values import (INT_MAX, INT_MIN, TYPES, UINT_MAX, CelError, CelType, Duration, Optional,
                                   Timestamp, UInt, no_overload, type_of)

__all__ = ["register", "lookup", "known_names", "regex_compile", "FunctionError"]

# (name, is_member, argument count without the receiver) -> implementation
_REGISTRY: dict[tuple[str, bool, int], Callable[..., Any]] = {}


class FunctionError(Exception):
    """A call that cannot resolve: unknown name, wrong style or wrong argument count."""


def register(name: str, *, member: bool, args: int | tuple[int, ...]):
    def deco(fn):
        for n in (args if isinstance(args, tuple) else (args,)):
            _REGISTRY[(name, member, n)] = fn
        return fn
    return deco


def lookup(name: str, member: bool, nargs: int) -> Callable[..., Any]:
    _load_libraries()
    fn = _REGISTRY.get((name, member, nargs))
    if fn is not None:
        return fn
    styles = {(m, n) for (k, m, n) in _REGISTRY if k == name}
    if not styles:
        raise FunctionError(f"undeclared reference to function '{name}'")
    if not any(m == member for m, _ in styles):
        how = "a method: <value>." + name + "(…)" if not member else "a function: " + name + "(…)"
        raise FunctionError(f"'{name}' is called as {how}")
    counts = sorted(n for m, n in styles if m == member)
    raise FunctionError(f"'{name}' takes {' or '.join(map(str, counts))} argument{'s' if counts != [1] else ''}, "
                        f"got {nargs}")


def known_names() -> list[str]:
    _load_libraries()
    return sorted({k for k, _, _ in _REGISTRY})


_loaded = False


def _load_libraries() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        from podc.check.cel import k8s_lib, k8s_net, strings_ext  # noqa: F401 - they register themselves


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


# ---------------------------------------------------------------- durations and timestamps

_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h)")
_UNIT_NANOS = {"ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


def parse_duration(text: str) -> Duration:
    """Go's time.ParseDuration syntax: ``1h30m``, ``-1.5s``, ``300ms``."""
    from fractions import Fraction

    s = text
    sign = 1
    if s[:1] in "+-":
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if s == "0":
        return Duration(0)
    pos, total = 0, Fraction(0)
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if m is None:
            raise CelError(f"invalid duration {text!r}")
        total += Fraction(m.group(1)) * _UNIT_NANOS[m.group(2)]
        pos = m.end()
    if not s:
        raise CelError(f"invalid duration {text!r}")
    return Duration(sign * int(total))


@register("duration", member=False, args=1)
def to_duration(v: Any) -> Duration:
    if type(v) is Duration:
        return v
    if type(v) is str:
        return parse_duration(v)
    raise no_overload("duration", v)


_RFC3339 = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:\d\d)\Z")


def parse_timestamp(text: str) -> Timestamp:
    m = _RFC3339.match(text)
    if m is None:
        raise CelError(f"invalid timestamp {text!r} (expected RFC 3339, e.g. 2024-01-31T12:00:00Z)")
    y, mo, d, h, mi, s, frac, zone = m.groups()
    nanos = int((frac or "").ljust(9, "0")) if frac else 0
    tz = _dt.timezone.utc
    if zone not in ("Z", "z"):
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        offset = _dt.timedelta(hours=hours, minutes=minutes)
        tz = _dt.timezone(offset if zone[0] == "+" else -offset)
    try:
        dt = _dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), nanos // 1000, tzinfo=tz)
    except ValueError as e:
        raise CelError(f"invalid timestamp {text!r}: {e}") from None
    return Timestamp(dt, nanos % 1000)


@register("timestamp", member=False, args=1)
def to_timestamp(v: Any) -> Timestamp:
    if type(v) is Timestamp:
        return v
    if type(v) is str:
        return parse_timestamp(v)
    if type(v) is int:
        return Timestamp.from_epoch_nanos(v * 10**9)
    raise no_overload("timestamp", v)


def _zone(tz: Any) -> _dt.tzinfo:
    if type(tz) is not str:
        raise no_overload("timezone", tz)
    m = re.fullmatch(r"([+-])?(\d\d):(\d\d)", tz)
    if m:
        offset = _dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
        return _dt.timezone(-offset if m.group(1) == "-" else offset)
    if tz.upper() == "UTC":
        return _dt.timezone.utc
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(tz)
    except Exception:
        raise CelError(f"unknown time zone {tz!r}") from None


def _timestamp_part(name: str, fn: Callable[[_dt.datetime, int], int]):
    def part(ts: Any, tz: Any = None) -> int:
        if type(ts) is not Timestamp:
            raise no_overload(name, ts)
        dt = ts.dt if tz is None else ts.dt.astimezone(_zone(tz))
        return fn(dt, ts.nanos)
    register(name, member=True, args=(0, 1))(part)


_timestamp_part("getFullYear", lambda dt, n: dt.year)
_timestamp_part("getMonth", lambda dt, n: dt.month - 1)
_timestamp_part("getDate", lambda dt, n: dt.day)
_timestamp_part("getDayOfMonth", lambda dt, n: dt.day - 1)
_timestamp_part("getDayOfWeek", lambda dt, n: (dt.weekday() + 1) % 7)
_timestamp_part("getDayOfYear", lambda dt, n: dt.timetuple().tm_yday - 1)


def _time_part(name: str, ts_fn: Callable[[_dt.datetime, int], int], nanos_div: int, modulo: int | None):
    def part(v: Any, tz: Any = None) -> int:
        if type(v) is Duration:
            if tz is not None:
                raise no_overload(name, v, tz)
            q = abs(v.nanos) // nanos_div
            return q if v.nanos >= 0 else -q
        if type(v) is Timestamp:
            dt = v.dt if tz is None else v.dt.astimezone(_zone(tz))
            return ts_fn(dt, v.nanos)
        raise no_overload(name, v)
    register(name, member=True, args=(0, 1))(part)


_time_part("getHours", lambda dt, n: dt.hour, 3600 * 10**9, 24)
_time_part("getMinutes", lambda dt, n: dt.minute, 60 * 10**9, 60)
_time_part("getSeconds", lambda dt, n: dt.second, 10**9, 60)
_time_part("getMilliseconds", lambda dt, n: dt.microsecond // 1000, 10**6, 1000)


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
    if type(v) is not Optional:
        raise no_overload(name, v)
    return v


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
