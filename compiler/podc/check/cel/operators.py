"""CEL's operators on plain values: arithmetic with int64/uint64 overflow checks, ``in``,
comparisons, field selection and indexing (``null`` fields count as absent, as in objects the API
server decodes)."""

from __future__ import annotations

import math
from typing import Any

from podc.check.cel.values import (_MISSING, INT_MAX, INT_MIN, UINT_MAX, CelError, Duration, Optional, Timestamp,
                                   UInt, compare, equal, map_get, no_overload, type_name)

__all__ = ["add", "sub", "mul", "div", "mod", "neg", "contains", "relation", "select", "index", "has_field",
           "RELATIONS", "ARITHMETIC"]


def _int(v: int) -> int:
    if v < INT_MIN or v > INT_MAX:
        raise CelError("integer overflow")
    return v


def _uint(v: int) -> UInt:
    if v < 0 or v > UINT_MAX:
        raise CelError("unsigned integer overflow")
    return UInt(v)


def add(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is tb:
        if ta is int:
            return _int(a + b)
        if ta is str or ta is float or ta is bytes:
            return a + b
        if ta is list:
            return a + b
        if ta is UInt:
            return _uint(a + b)
        if ta is Duration:
            return Duration(a.nanos + b.nanos)
    if ta is Timestamp and tb is Duration:
        return Timestamp.from_epoch_nanos(a.epoch_nanos() + b.nanos)
    if ta is Duration and tb is Timestamp:
        return Timestamp.from_epoch_nanos(b.epoch_nanos() + a.nanos)
    raise no_overload("_+_", a, b)


def sub(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is tb:
        if ta is int:
            return _int(a - b)
        if ta is float:
            return a - b
        if ta is UInt:
            return _uint(a - b)
        if ta is Duration:
            return Duration(a.nanos - b.nanos)
        if ta is Timestamp:
            return Duration(a.epoch_nanos() - b.epoch_nanos())
    if ta is Timestamp and tb is Duration:
        return Timestamp.from_epoch_nanos(a.epoch_nanos() - b.nanos)
    raise no_overload("_-_", a, b)


def mul(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is tb:
        if ta is int:
            return _int(a * b)
        if ta is float:
            return a * b
        if ta is UInt:
            return _uint(a * b)
    raise no_overload("_*_", a, b)


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def div(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is tb:
        if ta is int or ta is UInt:
            if b == 0:
                raise CelError("division by zero")
            q = _trunc_div(a, b)
            return _int(q) if ta is int else UInt(q)
        if ta is float:
            if b == 0.0:
                if a == 0.0 or a != a:
                    return math.nan
                return math.copysign(math.inf, a) * math.copysign(1.0, b)
            return a / b
    raise no_overload("_/_", a, b)


def mod(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is tb and (ta is int or ta is UInt):
        if b == 0:
            raise CelError("modulus by zero")
        r = a - b * _trunc_div(a, b)
        return r if ta is int else UInt(r)
    raise no_overload("_%_", a, b)


def neg(a: Any) -> Any:
    if type(a) is int:
        return _int(-a)
    if type(a) is float:
        return -a
    if type(a) is Duration:
        return Duration(-a.nanos)
    raise no_overload("-_", a)


def contains(item: Any, container: Any) -> bool:
    """``item in container``."""
    if isinstance(container, list):
        return any(equal(item, x) for x in container)
    if isinstance(container, dict):
        return map_get(container, item) is not _MISSING
    raise no_overload("@in", item, container)


def _lt(a, b):
    return compare(a, b, "_<_") < 0


def _le(a, b):
    return compare(a, b, "_<=_") <= 0


def _gt(a, b):
    return compare(a, b, "_>_") > 0


def _ge(a, b):
    return compare(a, b, "_>=_") >= 0


RELATIONS = {"==": equal, "!=": lambda a, b: not equal(a, b), "<": _lt, "<=": _le, ">": _gt, ">=": _ge,
             "in": contains}
ARITHMETIC = {"+": add, "-": sub, "*": mul, "/": div, "%": mod}
relation = RELATIONS


def select(value: Any, field: str) -> Any:
    """``value.field`` for anything but a plain dict (the fast path is inlined by the interpreter)."""
    if isinstance(value, dict):
        try:
            found = value[field]  # a lazy map (VAP variables) computes the entry here
        except KeyError:
            found = None
        if found is None:
            raise CelError(f"no such key: {field}")
        return found
    if value is None:
        raise CelError(f"no such key: {field} (the value is null)")
    raise CelError(f"type '{_name(value)}' has no field '{field}'")


_ABSENT = Optional(False)


def _unwrap(value: Any) -> Any:
    """``x.?f`` and ``x[?k]`` on an optional: none stays none, a value is looked into."""
    if type(value) is Optional:
        return value.value if value.present else _ABSENT
    return value


def optional_select(value: Any, field: str) -> Optional:
    value = _unwrap(value)
    if value is _ABSENT:
        return value
    if isinstance(value, dict):
        found = value.get(field) if type(value) is dict else (value[field] if field in value else None)
        return Optional(True, found) if found is not None else Optional(False)
    raise CelError(f"type '{_name(value)}' has no field '{field}'")


def has_field(value: Any, field: str) -> bool:
    if isinstance(value, dict):
        if type(value) is dict:
            return value.get(field) is not None
        return field in value
    if value is None:
        raise CelError(f"has(): no such key: {field} (the value is null)")
    raise CelError(f"has(): type '{_name(value)}' has no fields")


def index(value: Any, key: Any) -> Any:
    if isinstance(value, list):
        tk = type(key)
        if tk is float:
            if not key.is_integer():
                raise CelError(f"invalid list index {key}")
            key = int(key)
        elif tk is not int and tk is not UInt:
            raise no_overload("_[_]", value, key)
        if not 0 <= key < len(value):
            raise CelError(f"index out of bounds: {key} (list size {len(value)})")
        return value[key]
    if isinstance(value, dict):
        found = map_get(value, key)
        if found is _MISSING or found is None:
            if type(value) is not dict and key in value:  # lazy map
                return value[key]
            raise CelError(f"no such key: {key}")
        return found
    raise no_overload("_[_]", value, key)


def optional_index(value: Any, key: Any) -> Optional:
    value = _unwrap(value)
    if value is _ABSENT:
        return value
    if isinstance(value, list):
        if type(key) is not int or not 0 <= key < len(value):
            return Optional(False)
        return Optional(True, value[key])
    if isinstance(value, dict):
        found = map_get(value, key)
        return Optional(False) if found is _MISSING or found is None else Optional(True, found)
    raise no_overload("_[?_]", value, key)


_name = type_name
