"""Kubernetes' CEL libraries (``k8s.io/apiserver/pkg/cel/library``): lists, regex, URLs and
quantities. ``indexOf``/``lastIndexOf`` on lists live with the string versions in
:mod:`podc.check.cel.strings_ext` (one name, both receivers).

* lists: ``isSorted()``, ``sum()``, ``min()``, ``max()``;
* regex: ``find(re)``, ``findAll(re[, limit])`` (RE2 syntax, like ``matches``);
* URLs: ``url()``, ``isURL()``, ``getScheme/getHost/getHostname/getPort/getEscapedPath/getQuery``;
* quantities: ``quantity()``, ``isQuantity()``, ``sign``, ``isInteger``, ``asInteger``,
  ``asApproximateFloat``, ``add``, ``sub``, ``isGreaterThan``, ``isLessThan``, ``compareTo``
  (exact decimal arithmetic via :mod:`podc.kube.quantity`).
"""

from __future__ import annotations

import re
import urllib.parse
from decimal import Decimal, InvalidOperation
from typing import Any

from podc.check.cel.functions import regex_compile
from podc.check.cel.registry import register
from podc.check.cel.values import (INT_MAX, INT_MIN, TYPES, CelError, CelType, Duration, Opaque, UInt, compare,
                                   expect, no_overload, parses)
from podc.kube.quantity import format_quantity, parse_quantity

__all__ = ["Quantity", "URL"]


# ---------------------------------------------------------------- lists

_COMPARABLE = (int, UInt, float, bool, str, bytes, Duration)


def _list(name: str, v: Any) -> list:
    if not isinstance(v, list):
        raise no_overload(name, v)
    return v


@register("isSorted", member=True, args=0)
def is_sorted(v: Any) -> bool:
    items = _list("isSorted", v)
    return all(compare(items[i], items[i + 1]) <= 0 for i in range(len(items) - 1))


@register("sum", member=True, args=0)
def sum_(v: Any) -> Any:
    items = _list("sum", v)
    if not items:
        return 0
    kinds = {type(x) for x in items}
    if kinds == {Duration}:
        return Duration(sum(x.nanos for x in items))
    if len(kinds) != 1 or kinds.pop() not in (int, UInt, float):
        raise no_overload("sum", v)
    total = sum(items)
    if type(items[0]) is int and not INT_MIN <= total <= INT_MAX:
        raise CelError("integer overflow")
    return type(items[0])(total) if type(items[0]) is UInt else total


def _extreme(name: str, v: Any, sign: int) -> Any:
    items = _list(name, v)
    if not items:
        raise CelError(f"{name} called on empty list")
    best = items[0]
    for x in items[1:]:
        if compare(x, best) * sign > 0:
            best = x
    return best


@register("min", member=True, args=0)
def min_(v: Any) -> Any:
    return _extreme("min", v, -1)


@register("max", member=True, args=0)
def max_(v: Any) -> Any:
    return _extreme("max", v, 1)


# ---------------------------------------------------------------- regex


@register("find", member=True, args=1)
def find(s: Any, pattern: Any) -> str:
    if type(s) is not str or type(pattern) is not str:
        raise no_overload("find", s, pattern)
    m = regex_compile(pattern).search(s)
    return m.group(0) if m else ""


@register("findAll", member=True, args=(1, 2))
def find_all(s: Any, pattern: Any, limit: Any = -1) -> list:
    if type(s) is not str or type(pattern) is not str or type(limit) is not int:
        raise no_overload("findAll", s, pattern, limit)
    if limit == 0:
        return []
    out = []
    for m in regex_compile(pattern).finditer(s):
        out.append(m.group(0))
        if 0 < limit <= len(out):
            break
    return out


# ---------------------------------------------------------------- URLs

_URL_TYPE = CelType("kubernetes.URL")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*\Z")


class URL(Opaque):
    __slots__ = ("parts", "text")
    cel_type = _URL_TYPE

    def __init__(self, text: str):
        self.text = text
        self.parts = urllib.parse.urlsplit(text)

    def key(self) -> str:
        return self.text

    def to_string(self) -> str:
        return self.text


def _parse_url(text: str) -> URL:
    """Go's url.ParseRequestURI: an absolute URI (``scheme:…``) or an absolute path."""
    bad = CelError(f"URL parse error during conversion from string: parse {text!r}: invalid URI for request")
    if not text or any(ord(c) < 0x20 or c == "\x7f" for c in text):
        raise bad
    if not text.startswith("/"):
        scheme, sep, _ = text.partition(":")
        if not sep or not _SCHEME.match(scheme):
            raise bad
    u = URL(text)
    try:
        u.parts.port  # noqa: B018 - raises for "https://a:b:c/"
    except ValueError:
        raise CelError(f"URL parse error during conversion from string: parse {text!r}: invalid port") from None
    return u


def _url(name: str, v: Any) -> URL:
    return expect(name, v, URL)


@register("url", member=False, args=1)
def url(v: Any) -> URL:
    if type(v) is not str:
        raise no_overload("url", v)
    return _parse_url(v)


@register("isURL", member=False, args=1)
def is_url(v: Any) -> bool:
    return parses("isURL", _parse_url, v)


@register("getScheme", member=True, args=0)
def get_scheme(v: Any) -> str:
    return _url("getScheme", v).parts.scheme


@register("getHost", member=True, args=0)
def get_host(v: Any) -> str:
    return _url("getHost", v).parts.netloc.rpartition("@")[2]


@register("getHostname", member=True, args=0)
def get_hostname(v: Any) -> str:
    host = get_host(v)
    if host.startswith("["):
        return host[1:host.find("]")]
    return host.rsplit(":", 1)[0] if ":" in host else host


@register("getPort", member=True, args=0)
def get_port(v: Any) -> str:
    host = get_host(v)
    tail = host[host.find("]") + 1:] if host.startswith("[") else host
    return tail.rsplit(":", 1)[1] if ":" in tail else ""


@register("getEscapedPath", member=True, args=0)
def get_escaped_path(v: Any) -> str:
    return urllib.parse.quote(urllib.parse.unquote(_url("getEscapedPath", v).parts.path), safe="/:@!$&'()*+,;=-._~")


@register("getQuery", member=True, args=0)
def get_query(v: Any) -> dict:
    out: dict[str, list[str]] = {}
    for key, value in urllib.parse.parse_qsl(_url("getQuery", v).parts.query, keep_blank_values=True):
        out.setdefault(key, []).append(value)
    return out


# ---------------------------------------------------------------- quantities

_QUANTITY_TYPE = CelType("kubernetes.Quantity")


class Quantity(Opaque):
    __slots__ = ("value", "text")
    cel_type = _QUANTITY_TYPE

    def __init__(self, value: Decimal, text: str | None = None):
        self.value, self.text = value, text

    def key(self) -> Decimal:
        return self.value

    def compare(self, other: Any) -> int:
        if type(other) is not Quantity:
            raise no_overload("compareTo", self, other)
        return (self.value > other.value) - (self.value < other.value)

    def to_string(self) -> str:
        return self.text if self.text is not None else format_quantity(self.value)


def _parse_quantity(text: Any) -> Quantity:
    if type(text) is not str:
        raise no_overload("quantity", text)
    try:
        return Quantity(parse_quantity(text), text)
    except (ValueError, InvalidOperation):
        raise CelError(f"quantities must match the regular expression "
                       f"'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {text!r}") from None


def _q(name: str, v: Any) -> Quantity:
    return expect(name, v, Quantity)


@register("quantity", member=False, args=1)
def quantity(v: Any) -> Quantity:
    return _parse_quantity(v)


@register("isQuantity", member=False, args=1)
def is_quantity(v: Any) -> bool:
    return parses("isQuantity", _parse_quantity, v)


@register("sign", member=True, args=0)
@register("sign", member=False, args=1)
def sign(v: Any) -> int:
    q = _q("sign", v).value
    return (q > 0) - (q < 0)


@register("isInteger", member=True, args=0)
def is_integer(v: Any) -> bool:
    q = _q("isInteger", v).value
    return q == q.to_integral_value() and INT_MIN <= q <= INT_MAX


@register("asInteger", member=True, args=0)
def as_integer(v: Any) -> int:
    if not is_integer(v):
        raise CelError("cannot convert value to integer")
    return int(v.value)


@register("asApproximateFloat", member=True, args=0)
def as_approximate_float(v: Any) -> float:
    return float(_q("asApproximateFloat", v).value)


def _operand(name: str, v: Any) -> Decimal:
    if type(v) is Quantity:
        return v.value
    if type(v) is int:
        return Decimal(v)
    raise no_overload(name, v)


@register("add", member=True, args=1)
def add(v: Any, other: Any) -> Quantity:
    return Quantity(_q("add", v).value + _operand("add", other))


@register("sub", member=True, args=1)
def sub(v: Any, other: Any) -> Quantity:
    return Quantity(_q("sub", v).value - _operand("sub", other))


def _ordered(name: str, v: Any, other: Any) -> int:
    """Quantities and semantic versions order with themselves only."""
    if isinstance(v, Opaque) and hasattr(v, "compare") and type(other) is type(v):
        return v.compare(other)
    raise no_overload(name, v, other)


@register("isGreaterThan", member=True, args=1)
def is_greater_than(v: Any, other: Any) -> bool:
    return _ordered("isGreaterThan", v, other) > 0


@register("isLessThan", member=True, args=1)
def is_less_than(v: Any, other: Any) -> bool:
    return _ordered("isLessThan", v, other) < 0


@register("compareTo", member=True, args=1)
def compare_to(v: Any, other: Any) -> int:
    return _ordered("compareTo", v, other)


TYPES["kubernetes.Quantity"] = _QUANTITY_TYPE
TYPES["kubernetes.URL"] = _URL_TYPE


# ---------------------------------------------------------------- authorizer (declared, not available)
# Policies may call the authz library (authorizer.group('').resource('pods').check('create')
# .allowed()); offline there is no cluster to ask, so reading `authorizer` is an evaluation error
# (handled by failurePolicy). The functions are declared so such policies load.


def _no_authorizer(*_args: Any) -> Any:
    raise CelError("authorizer checks are not available offline: podc has no cluster to ask")


for _name, _counts in (("group", 1), ("resource", 1), ("subresource", 1), ("namespace", 1), ("name", 1),
                       ("check", 1), ("allowed", 0), ("reason", 0), ("errored", 0), ("error", 0), ("path", 1),
                       ("serviceAccount", 2), ("fieldSelector", 1), ("labelSelector", 1)):
    register(_name, member=True, args=_counts)(_no_authorizer)
