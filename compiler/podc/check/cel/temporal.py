"""CEL durations and timestamps: ``duration()`` (Go's ParseDuration syntax), ``timestamp()``
(RFC 3339) and their getters (``getFullYear`` … ``getMilliseconds``, with an optional time zone)."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Callable

from podc.check.cel.registry import register
from podc.check.cel.values import CelError, Duration, Timestamp, no_overload

__all__ = ["parse_duration", "parse_timestamp"]


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


def _time_part(name: str, ts_fn: Callable[[_dt.datetime, int], int], nanos_div: int):
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


_time_part("getHours", lambda dt, n: dt.hour, 3600 * 10**9)
_time_part("getMinutes", lambda dt, n: dt.minute, 60 * 10**9)
_time_part("getSeconds", lambda dt, n: dt.second, 10**9)
_time_part("getMilliseconds", lambda dt, n: dt.microsecond // 1000, 10**6)
