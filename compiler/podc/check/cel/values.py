"""CEL values on plain Python data, and the operations every CEL type shares.

Objects are evaluated as they are (``dict``, ``list``, ``str``, ``int``, ``float``, ``bool``,
``None``): nothing is converted, which is what makes podc's CEL fast on Kubernetes objects.
The CEL types Python lacks get a small class: :class:`UInt` (``1u``), :class:`Duration`,
:class:`Timestamp`, :class:`Optional`, :class:`CelType` (the value of ``type(x)``); library types
(quantities, URLs, IPs…) subclass :class:`Opaque`.

Equality is CEL's heterogeneous equality (``1 == 1.0`` is true, ``1 == 'a'`` is false, never an
error); ordering compares numbers across int/uint/double (Kubernetes enables cross-type numeric
comparisons) and raises :class:`CelError` for other mixed types.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

__all__ = ["CelError", "CostExceeded", "UInt", "Duration", "Timestamp", "Optional", "CelType", "Opaque",
           "INT_MIN", "INT_MAX", "UINT_MAX", "type_of", "type_name", "equal", "compare", "check_int", "expect", "parses",
           "no_overload", "TYPES"]

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
UINT_MAX = 2**64 - 1


class CelError(Exception):
    """An evaluation error: the expression's own failure, never a podc bug."""


class CostExceeded(CelError):
    """The runtime cost budget was spent: evaluation stops at once."""


class UInt(int):
    """A CEL ``uint`` (Python has one integer type; this keeps ``1u`` apart from ``1``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{int(self)}u"


class CelType:
    """A CEL type as a value (``type(1) == int``). Compared by identity: one object per type."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


TYPES = {name: CelType(name) for name in (
    "int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type",
    "google.protobuf.Timestamp", "google.protobuf.Duration", "optional_type")}


class Opaque:
    """Base of library value types (Quantity, URL, IP…): equality through ``key()``."""

    __slots__ = ()
    cel_type: CelType

    def key(self) -> Any:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.key() == other.key()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.key()))


class Duration:
    """A CEL duration, in whole nanoseconds."""

    __slots__ = ("nanos",)
    MAX = 315576000000 * 10**9  # the protobuf Duration range: +-10,000 years

    def __init__(self, nanos: int):
        if not -self.MAX <= nanos <= self.MAX:
            raise CelError("duration out of range")
        self.nanos = nanos

    def __eq__(self, other: object) -> bool:
        return type(other) is Duration and other.nanos == self.nanos  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash(("duration", self.nanos))

    def __repr__(self) -> str:
        return f"duration({format_duration(self.nanos)!r})"

    def __str__(self) -> str:
        return format_duration(self.nanos)


def format_duration(nanos: int) -> str:
    """Protobuf JSON spelling: seconds with up to 9 fraction digits (``1.5s``, ``-3600s``)."""
    sign = "-" if nanos < 0 else ""
    secs, frac = divmod(abs(nanos), 10**9)
    return f"{sign}{secs}.{frac:09d}".rstrip("0").rstrip(".") + "s" if frac else f"{sign}{secs}s"


class Timestamp:
    """A CEL timestamp: an aware UTC datetime plus the nanoseconds below a microsecond."""

    __slots__ = ("dt", "nanos")
    MIN = _dt.datetime(1, 1, 1, tzinfo=_dt.timezone.utc)
    MAX = _dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=_dt.timezone.utc)

    def __init__(self, dt: _dt.datetime, nanos: int = 0):
        self.dt = dt.astimezone(_dt.timezone.utc)
        self.nanos = nanos

    def epoch_nanos(self) -> int:
        delta = self.dt - _EPOCH
        return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000 + self.nanos

    @classmethod
    def from_epoch_nanos(cls, total: int) -> "Timestamp":
        micros, nanos = divmod(total, 1000)
        try:
            return cls(_EPOCH + _dt.timedelta(microseconds=micros), nanos)
        except OverflowError:
            raise CelError("timestamp out of range") from None

    def __eq__(self, other: object) -> bool:
        return type(other) is Timestamp and other.epoch_nanos() == self.epoch_nanos()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash(("timestamp", self.epoch_nanos()))

    def __str__(self) -> str:
        frac = self.dt.microsecond * 1000 + self.nanos
        base = self.dt.strftime("%Y-%m-%dT%H:%M:%S")
        return f"{base}.{frac:09d}".rstrip("0") + "Z" if frac else base + "Z"

    __repr__ = __str__


_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


class Optional:
    """``optional.of(x)`` / ``optional.none()``; ``value`` is meaningful only when ``present``."""

    __slots__ = ("present", "value")

    def __init__(self, present: bool, value: Any = None):
        self.present, self.value = present, value

    def __eq__(self, other: object) -> bool:
        if type(other) is not Optional:
            return False
        return self.present == other.present and (not self.present or equal(self.value, other.value))  # type: ignore[union-attr]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"optional.of({self.value!r})" if self.present else "optional.none()"


NONE = Optional(False)

_NUMBERS = (int, float, UInt)
_SIMPLE = frozenset((str, int, float, bool, bytes, type(None), UInt))


def type_of(value: Any) -> CelType:
    t = type(value)
    name = _PY_TO_CEL.get(t)
    if name is not None:
        return TYPES[name]
    if isinstance(value, Opaque):
        return value.cel_type
    if isinstance(value, dict):
        return TYPES["map"]
    if isinstance(value, list):
        return TYPES["list"]
    raise CelError(f"unsupported value of Python type {t.__name__}")


_PY_TO_CEL = {bool: "bool", int: "int", UInt: "uint", float: "double", str: "string", bytes: "bytes",
              list: "list", tuple: "list", dict: "map", type(None): "null_type", CelType: "type",
              Timestamp: "google.protobuf.Timestamp", Duration: "google.protobuf.Duration",
              Optional: "optional_type"}


def type_name(value: Any) -> str:
    try:
        return type_of(value).name
    except CelError:
        return type(value).__name__


def no_overload(op: str, *args: Any) -> CelError:
    return CelError(f"no such overload: {op}({', '.join(type_name(a) for a in args)})")


def expect(name: str, value: Any, cls: type) -> Any:
    """``value`` when it is exactly a ``cls``, else CEL's no-such-overload error for ``name``."""
    if type(value) is not cls:
        raise no_overload(name, value)
    return value


def parses(name: str, parse, value: Any) -> bool:
    """The ``isX(string)`` predicates: True when ``parse(value)`` succeeds."""
    expect(name, value, str)
    try:
        parse(value)
    except CelError:
        return False
    return True


def check_int(value: int) -> int:
    if value < INT_MIN or value > INT_MAX:
        raise CelError("integer overflow")
    return value


def equal(a: Any, b: Any) -> bool:
    """CEL heterogeneous equality (numbers compare by value across int, uint and double)."""
    ta, tb = type(a), type(b)
    if ta is tb and ta in _SIMPLE:
        return a == b
    if ta in _NUM_TYPES and tb in _NUM_TYPES:
        if ta is float or tb is float:
            return float(a) == float(b) if not (math.isnan(a) or math.isnan(b)) else False
        return int(a) == int(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        if len(a) != len(b):
            return False
        for k, v in a.items():
            other = map_get(b, k)
            if other is _MISSING or not equal(v, other):
                return False
        return True
    if ta is tb:
        return bool(a == b)
    return False


_NUM_TYPES = frozenset((int, float, UInt))
_MISSING = object()


def map_get(m: dict, key: Any) -> Any:
    """``m[key]`` with CEL's numeric key equality (``m[1u]`` finds key ``1``); ``_MISSING`` if absent."""
    tk = type(key)
    if tk is str:
        return m.get(key, _MISSING)
    if tk is bool:
        for k, v in m.items():
            if type(k) is bool and k == key:
                return v
        return _MISSING
    if tk in _NUM_TYPES:
        if tk is float and not key.is_integer():
            return _MISSING
        for k, v in m.items():
            if type(k) in _NUM_TYPES and k == key:
                return v
        return _MISSING
    return m.get(key, _MISSING) if key is None or isinstance(key, (bytes,)) else _MISSING


def compare(a: Any, b: Any, op: str = "<") -> int:
    """-1, 0 or 1; numbers compare across types; other mixed types raise :class:`CelError`."""
    ta, tb = type(a), type(b)
    if ta in _NUM_TYPES and tb in _NUM_TYPES:
        if ta is float or tb is float:
            x, y = float(a), float(b)
            if math.isnan(x) or math.isnan(y):
                raise CelError("NaN values cannot be ordered")
        else:
            x, y = int(a), int(b)
        return (x > y) - (x < y)
    if ta is tb:
        if ta in (str, bytes, bool):
            return (a > b) - (a < b)
        if ta is Duration:
            return (a.nanos > b.nanos) - (a.nanos < b.nanos)
        if ta is Timestamp:
            x, y = a.epoch_nanos(), b.epoch_nanos()
            return (x > y) - (x < y)
        if hasattr(a, "compare"):
            return a.compare(b)
    raise no_overload(op, a, b)
