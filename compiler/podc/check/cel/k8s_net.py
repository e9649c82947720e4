"""Kubernetes' CEL libraries for addresses, formats and versions.

* IP (1.30): ``ip()``, ``isIP()``, ``ip.isCanonical()``, ``family()``, ``isUnspecified()``,
  ``isLoopback()``, ``isLinkLocalMulticast()``, ``isLinkLocalUnicast()``, ``isGlobalUnicast()``;
* CIDR (1.30): ``cidr()``, ``isCIDR()``, ``containsIP()``, ``containsCIDR()``, ``ip()``,
  ``masked()``, ``prefixLength()``;
* format (1.31): ``format.named(name)``, ``format.dns1123Label()`` and the other named formats,
  ``<format>.validate(s)`` (``optional.none()`` when valid, else the list of errors);
* semver (1.33): ``semver(s[, normalize])``, ``isSemver(s[, normalize])``, ``major()``,
  ``minor()``, ``patch()`` (ordering through ``isLessThan``/``isGreaterThan``/``compareTo``).
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from typing import Any

from podc.check.cel.registry import register
from podc.check.cel.temporal import parse_timestamp
from podc.check.cel.values import TYPES, CelError, CelType, Opaque, Optional, expect, no_overload, parses
from podc.kube import names

__all__ = ["IP", "CIDR", "Format", "Semver"]

_IP_TYPE, _CIDR_TYPE = CelType("net.IP"), CelType("net.CIDR")
_FORMAT_TYPE, _SEMVER_TYPE = CelType("kubernetes.NamedFormat"), CelType("kubernetes.Semver")
TYPES.update({t.name: t for t in (_IP_TYPE, _CIDR_TYPE, _FORMAT_TYPE, _SEMVER_TYPE)})


class IP(Opaque):
    __slots__ = ("addr",)
    cel_type = _IP_TYPE

    def __init__(self, addr: ipaddress.IPv4Address | ipaddress.IPv6Address):
        self.addr = addr

    def key(self):
        return self.addr

    def to_string(self) -> str:
        return str(self.addr)


class CIDR(Opaque):
    __slots__ = ("addr", "prefix")
    cel_type = _CIDR_TYPE

    def __init__(self, addr, prefix: int):
        self.addr, self.prefix = addr, prefix

    def key(self):
        return (self.addr, self.prefix)

    def network(self):
        return ipaddress.ip_network(f"{self.addr}/{self.prefix}", strict=False)

    def to_string(self) -> str:
        return f"{self.addr}/{self.prefix}"


def _parse_ip(text: Any) -> IP:
    if type(text) is not str:
        raise no_overload("ip", text)
    if "%" in text:
        raise CelError(f"IP address with zone value is not allowed: {text!r}")
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        raise CelError(f"IP Address {text!r} parse error during conversion from string") from None
    if addr.version == 6 and addr.ipv4_mapped is not None:
        raise CelError(f"IPv4-mapped IPv6 address {text!r} is not allowed")
    return IP(addr)


def _parse_cidr(text: Any) -> CIDR:
    if type(text) is not str:
        raise no_overload("cidr", text)
    addr_text, sep, prefix = text.partition("/")
    if not sep or not prefix.isdigit():
        raise CelError(f"network address {text!r} parse error during conversion from string")
    ip = _parse_ip(addr_text).addr
    if int(prefix) > ip.max_prefixlen:
        raise CelError(f"network address {text!r} parse error during conversion from string")
    return CIDR(ip, int(prefix))


register("ip", member=False, args=1)(_parse_ip)
register("cidr", member=False, args=1)(_parse_cidr)
register("isIP", member=False, args=1)(lambda v: parses("isIP", _parse_ip, v))
register("isCIDR", member=False, args=1)(lambda v: parses("isCIDR", _parse_cidr, v))


@register("ip.isCanonical", member=False, args=1)
def is_canonical(v: Any) -> bool:
    return str(_parse_ip(v).addr) == v


def _ip(name: str, v: Any) -> Any:
    return expect(name, v, IP).addr


register("family", member=True, args=0)(lambda v: _ip("family", v).version)
register("isUnspecified", member=True, args=0)(lambda v: _ip("isUnspecified", v).is_unspecified)
register("isLoopback", member=True, args=0)(lambda v: _ip("isLoopback", v).is_loopback)
register("isLinkLocalMulticast", member=True, args=0)(
    lambda v: (a := _ip("isLinkLocalMulticast", v)).is_multicast and a in (
        ipaddress.ip_network("224.0.0.0/24") if a.version == 4 else ipaddress.ip_network("ff02::/16")))
register("isLinkLocalUnicast", member=True, args=0)(
    lambda v: (a := _ip("isLinkLocalUnicast", v)).is_link_local and not a.is_multicast)


@register("isGlobalUnicast", member=True, args=0)
def is_global_unicast(v: Any) -> bool:
    a = _ip("isGlobalUnicast", v)
    if a.version == 4 and a == ipaddress.ip_address("255.255.255.255"):
        return False
    return not (a.is_unspecified or a.is_loopback or a.is_multicast or a.is_link_local)


def _cidr(name: str, v: Any) -> CIDR:
    return expect(name, v, CIDR)


@register("containsIP", member=True, args=1)
def contains_ip(c: Any, ip: Any) -> bool:
    addr = (_parse_ip(ip) if type(ip) is str else ip)
    if type(addr) is not IP:
        raise no_overload("containsIP", c, ip)
    return addr.addr in _cidr("containsIP", c).network() if addr.addr.version == c.addr.version else False


@register("containsCIDR", member=True, args=1)
def contains_cidr(c: Any, other: Any) -> bool:
    o = _parse_cidr(other) if type(other) is str else other
    if type(o) is not CIDR:
        raise no_overload("containsCIDR", c, other)
    mine = _cidr("containsCIDR", c).network()
    theirs = o.network()
    return theirs.version == mine.version and theirs.subnet_of(mine)  # type: ignore[arg-type]


@register("ip", member=True, args=0)
def cidr_ip(c: Any) -> IP:
    return IP(_cidr("ip", c).addr)


@register("masked", member=True, args=0)
def masked(c: Any) -> CIDR:
    net = _cidr("masked", c).network()
    return CIDR(net.network_address, net.prefixlen)


register("prefixLength", member=True, args=0)(lambda c: _cidr("prefixLength", c).prefix)


# ---------------------------------------------------------------- named formats


def _date(value: str) -> list[str]:
    return [] if re.fullmatch(r"\d{4}-\d\d-\d\d", value) and _valid_date(value) else ["must be a date (YYYY-MM-DD)"]


def _valid_date(value: str) -> bool:
    import datetime

    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _datetime(value: str) -> list[str]:
    try:
        parse_timestamp(value)
    except CelError:
        return ["must be an RFC 3339 date-time"]
    return []


def _uuid(value: str) -> list[str]:
    try:
        uuid.UUID(value)
    except ValueError:
        return ["must be a UUID"]
    return [] if re.fullmatch(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", value) else ["must be a UUID"]


def _byte(value: str) -> list[str]:
    import base64
    import binascii

    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return ["must be base64 encoded"]
    return []


def _uri(value: str) -> list[str]:
    from podc.check.cel.k8s_lib import _parse_url

    try:
        _parse_url(value)
    except CelError:
        return ["must be a URI"]
    return []


def _prefix(check):
    return lambda value: check(value + "a") if value.endswith("-") else check(value)


_FORMATS = {
    "dns1123Label": names.dns1123_label, "dns1123Subdomain": names.dns1123_subdomain,
    "dns1035Label": lambda v: [] if re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", v) and len(v) <= 63
    else ["a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
          "alphabetic character, and end with an alphanumeric character"],
    "qualifiedName": names.qualified_name, "labelValue": names.label_value,
    "dns1123LabelPrefix": None, "dns1123SubdomainPrefix": None, "dns1035LabelPrefix": None,
    "uri": _uri, "uuid": _uuid, "byte": _byte, "date": _date, "datetime": _datetime,
}
for _name in ("dns1123Label", "dns1123Subdomain", "dns1035Label"):
    _FORMATS[_name + "Prefix"] = _prefix(_FORMATS[_name])


class Format(Opaque):
    __slots__ = ("name",)
    cel_type = _FORMAT_TYPE

    def __init__(self, name: str):
        self.name = name

    def key(self) -> str:
        return self.name


for _name in _FORMATS:
    register(f"format.{_name}", member=False, args=0)((lambda n: lambda: Format(n))(_name))


@register("format.named", member=False, args=1)
def format_named(name: Any) -> Optional:
    if type(name) is not str:
        raise no_overload("format.named", name)
    return Optional(True, Format(name)) if name in _FORMATS else Optional(False)


@register("validate", member=True, args=1)
def validate(fmt: Any, value: Any) -> Optional:
    if type(fmt) is not Format or type(value) is not str:
        raise no_overload("validate", fmt, value)
    errors = _FORMATS[fmt.name](value)
    return Optional(True, list(errors)) if errors else Optional(False)


# ---------------------------------------------------------------- semver

_SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?\Z")


class Semver(Opaque):
    __slots__ = ("parts", "pre")
    cel_type = _SEMVER_TYPE

    def __init__(self, parts: tuple[int, int, int], pre: str | None):
        self.parts, self.pre = parts, pre

    def key(self):
        return (self.parts, self.pre)

    def compare(self, other: "Semver") -> int:
        a, b = self._order(), other._order()
        return (a > b) - (a < b)

    def _order(self):
        if self.pre is None:
            return (self.parts, 1, ())
        ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.pre.split("."))
        return (self.parts, 0, ids)


def _parse_semver(text: Any, normalize: Any = False) -> Semver:
    if type(text) is not str or type(normalize) is not bool:
        raise no_overload("semver", text, normalize)
    s = text
    if normalize:  # Kubernetes' normalisation: "v" prefix, missing minor/patch, leading zeros
        s = s[1:] if s[:1] == "v" else s
        m = re.match(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?(.*)\Z", s)
        if m:
            s = ".".join(str(int(x or 0)) for x in m.group(1, 2, 3)) + m.group(4)
    m = _SEMVER.match(s)
    if m is None:
        raise CelError(f"could not parse {text!r} as semver")
    return Semver((int(m.group(1)), int(m.group(2)), int(m.group(3))), m.group(4))


register("semver", member=False, args=(1, 2))(_parse_semver)


@register("isSemver", member=False, args=(1, 2))
def is_semver(text: Any, normalize: Any = False) -> bool:
    return parses("isSemver", lambda t: _parse_semver(t, normalize), text)


def _sv(name: str, v: Any) -> Semver:
    return expect(name, v, Semver)


register("major", member=True, args=0)(lambda v: _sv("major", v).parts[0])
register("minor", member=True, args=0)(lambda v: _sv("minor", v).parts[1])
register("patch", member=True, args=0)(lambda v: _sv("patch", v).parts[2])
