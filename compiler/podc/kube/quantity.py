"""Kubernetes resource quantities (``500m``, ``2``, ``512Mi``, ``1.5Gi``, ``1e3``).

Mirrors ``k8s.io/apimachinery/pkg/api/resource.ParseQuantity``: an optional sign, a decimal
number (``1``, ``1.5``, ``.5``, ``1.``), then one suffix -- a binary SI suffix (``Ki`` .. ``Ei``),
a decimal SI suffix (``n u m k M G T P E`` or none) or a decimal exponent (``e3``, ``E-2``,
``e+6``).  Values are exact :class:`decimal.Decimal` numbers, so ``"0.1"`` stays ``0.1``.

One deliberate difference: Go accepts a mantissa with no digit at all (``"-"``, ``"."`` parse as
0); podc rejects them, since nobody writes that on purpose.
"""

from __future__ import annotations

import re
from decimal import Context, Decimal, InvalidOperation

__all__ = ["QUANTITY_EXPECTED", "parse_quantity", "is_quantity", "format_quantity", "compare_quantities"]

QUANTITY_EXPECTED = 'expected a quantity like "500m", "2", "512Mi", "1.5Gi"'

_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}

# sign, integer digits, optional "." + fraction digits, suffix (validated separately).
_QUANTITY = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(.*)\Z", re.S)
_EXPONENT = re.compile(r"[eE][+-]?[0-9]+\Z")

# Enough precision for any realistic quantity (Exbibytes with nano fractions) to stay exact.
_CTX = Context(prec=80)


def _exponent_suffix(suffix: str) -> int | None:
    if _EXPONENT.match(suffix):
        exp = int(suffix[1:])
        # Go parses the exponent as an int32-ish value; beyond that the number is nonsense.
        if -1000 <= exp <= 1000:
            return exp
    return None


def parse_quantity(value: str | int | float) -> Decimal:
    """The exact numeric value of a Kubernetes quantity; ``ValueError`` when it is not one.

    ``parse_quantity("500m") == Decimal("0.5")``; ``parse_quantity("1Ki") == 1024``.
    Integers and floats (a bare YAML number) are accepted as they are.
    """
    if isinstance(value, bool):
        raise ValueError(f"{QUANTITY_EXPECTED}, got a boolean ({str(value).lower()})")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"{QUANTITY_EXPECTED}, got {value!r}")
        return Decimal(repr(value))
    if not isinstance(value, str):
        raise ValueError(f"{QUANTITY_EXPECTED}, got a {type(value).__name__}")
    m = _QUANTITY.match(value)
    assert m is not None  # the pattern matches every string
    sign, whole, frac, suffix = m.group(1), m.group(2), m.group(3), m.group(4)
    if not whole and not frac:
        raise ValueError(_explain(value, "it does not start with a number"))
    number = Decimal(f"{sign}{whole or '0'}.{frac or '0'}")
    if suffix in _BINARY:
        return _CTX.multiply(number, Decimal(1024) ** _BINARY[suffix])
    if suffix in _DECIMAL:
        return _CTX.multiply(number, Decimal(1).scaleb(_DECIMAL[suffix]))
    exp = _exponent_suffix(suffix)
    if exp is None:
        raise ValueError(_explain(value, f"unknown suffix {suffix!r}"))
    return _CTX.multiply(number, Decimal(1).scaleb(exp))


def _explain(value: str, why: str) -> str:
    if value != value.strip():
        why = "it has leading or trailing spaces"
    return (
        f"{QUANTITY_EXPECTED}, got {value!r} ({why}; suffixes: Ki Mi Gi Ti Pi Ei, "
        "n u m k M G T P E, or an exponent like e3)"
    )


def is_quantity(value: object) -> bool:
    """True when ``value`` is a valid quantity string or number."""
    try:
        parse_quantity(value)  # type: ignore[arg-type]
    except (ValueError, InvalidOperation):
        return False
    return True


def compare_quantities(a: str | int | float, b: str | int | float) -> int:
    """-1, 0 or 1 as ``a`` is less than, equal to or greater than ``b`` (``"1Gi" > "1G"``)."""
    x, y = parse_quantity(a), parse_quantity(b)
    return (x > y) - (x < y)


def format_quantity(value: Decimal | int, binary: bool = False) -> str:
    """A canonical short spelling of ``value``: ``Decimal("0.5")`` -> ``"500m"``.

    With ``binary=True`` whole multiples of 1024 use ``Ki``..``Ei`` (``1073741824`` -> ``"1Gi"``).
    Otherwise the largest decimal suffix that keeps the number an integer is used; values finer
    than nano are rounded up to the next nano, as Kubernetes does.
    """
    value = Decimal(value)
    if value == 0:
        return "0"
    if binary and value == value.to_integral_value():
        n = int(value)
        for suffix, power in sorted(_BINARY.items(), key=lambda kv: -kv[1]):
            unit = 1024**power
            if n % unit == 0:
                return f"{n // unit}{suffix}"
        return str(n)
    nanos = _CTX.multiply(value, Decimal(10) ** 9)
    nanos_int = int(nanos.to_integral_value(rounding="ROUND_CEILING"))
    for suffix, power in sorted(_DECIMAL.items(), key=lambda kv: -kv[1]):
        unit = 10 ** (power + 9)
        if nanos_int % unit == 0:
            return f"{nanos_int // unit}{suffix}"
    return f"{nanos_int}n"  # unreachable: "n" always divides
