"""Shared pieces of the API-server rules: the issue collector, cached name validators, labels
and label selectors.

Every check tolerates wrongly-typed input (the schema reports that), so a broken document
never raises here.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from types import SimpleNamespace
from typing import Callable

from podc.kube import names as _names
from podc.kube.quantity import parse_quantity as _parse_quantity

__all__ = ["Collector", "names", "quantity", "check_label_selector", "check_labels", "check_operator_values",
           "as_dict", "as_list"]



def _memo(fn: Callable[..., list[str]]) -> Callable[..., tuple[str, ...]]:
    """Cache a string validator: the same label keys and names recur in every document."""
    cached = lru_cache(maxsize=8192)(lambda *args: tuple(fn(*args)))

    def validate(*args: object) -> tuple[str, ...]:
        try:
            return cached(*args)
        except TypeError:  # an unhashable argument
            return tuple(fn(*args))

    return validate


names = SimpleNamespace(**{n: _memo(getattr(_names, n)) for n in (
    "qualified_name", "label_value", "dns1123_label", "dns1123_subdomain", "container_name", "port_name",
    "port_number", "env_var_name")})


@lru_cache(maxsize=8192)
def quantity(value: str | int | float) -> Decimal | str:
    try:
        return _parse_quantity(value)
    except ValueError as exc:
        return str(exc)


def as_dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list:
    return value if isinstance(value, list) else []


class Collector:
    """Collects ``(code, message, path, hint, severity)`` tuples; paths are key/index tuples."""

    def __init__(self, version: str):
        self.version = version
        self.found: list[tuple[str, str, tuple, str | None, str]] = []

    def add(self, code: str, message: str, path: tuple, hint: str | None = None, severity: str = "error") -> None:
        self.found.append((code, message, path, hint, severity))

    def name(self, code: str, errs: list[str] | tuple[str, ...], value: str, what: str, path: tuple, hint: str | None = None) -> None:
        if errs:
            self.add(code, f"invalid {what} {value!r}: " + "; ".join(errs), path, hint)

    def enum(self, value: object, allowed: tuple[str, ...], what: str, path: tuple) -> None:
        if isinstance(value, str) and value not in allowed:
            from podc.errors import did_you_mean

            guess = did_you_mean(value, allowed)
            self.add("api.enum", f"unsupported {what} {value!r}: expected one of " + ", ".join(allowed), path,
                     f'did you mean "{guess}"?' if guess else None)

    def min_ints(self, obj: dict, bounds: tuple[tuple[str, int], ...], path: tuple) -> None:
        """Integer fields of ``obj`` that must be at least their bound (wrong types are the schema's job)."""
        for key, minimum in bounds:
            value = obj.get(key)
            if value is not None and isinstance(value, int) and not isinstance(value, bool) and value < minimum:
                bound = "greater than or equal to 0" if minimum == 0 else f"at least {minimum}"
                self.add("api.range", f"{key} must be {bound}, got {value}", path + (key,))


def _label_problems(key: object, value: object) -> tuple[tuple[str, str], ...]:
    found = []
    if isinstance(key, str):
        errs = _names.qualified_name(key)
        if errs:
            found.append(("api.label-key", f"invalid label key {key!r}: " + "; ".join(errs)))
    if isinstance(value, str):
        errs = _names.label_value(value)
        if errs:
            found.append(("api.label-value", f"invalid label value {value!r}: " + "; ".join(errs)))
    return tuple(found)


_cached_label_problems = lru_cache(maxsize=16384)(_label_problems)


def check_labels(out: Collector, labels: object, path: tuple) -> None:
    if not labels or not isinstance(labels, dict):
        return
    for key, value in labels.items():
        try:
            problems = _cached_label_problems(key, value)
        except TypeError:  # an unhashable value (the schema reports its type)
            problems = _label_problems(key, value)
        for code, message in problems:
            out.add(code, message, path + (key,))


def check_label_selector(out: Collector, selector: object, path: tuple) -> None:
    sel = as_dict(selector)
    check_labels(out, sel.get("matchLabels"), path + ("matchLabels",))
    for i, expr in enumerate(as_list(sel.get("matchExpressions"))):
        expr = as_dict(expr)
        where = path + ("matchExpressions", i)
        op, values = expr.get("operator"), expr.get("values")
        out.enum(op, ("In", "NotIn", "Exists", "DoesNotExist"), "label selector operator", where + ("operator",))
        if isinstance(expr.get("key"), str):
            out.name("api.label-key", names.qualified_name(expr["key"]), expr["key"], "label key", where + ("key",))
        check_operator_values(out, op, values, where)


def check_operator_values(out: Collector, op: object, values: object, where: tuple) -> None:
    n = len(values) if isinstance(values, list) else 0
    if op in ("In", "NotIn") and n == 0:
        out.add("api.selector", f"operator {op} needs at least one value", where + ("values",))
    elif op in ("Exists", "DoesNotExist") and n:
        out.add("api.selector", f"operator {op} takes no values", where + ("values",))
    elif op in ("Gt", "Lt"):
        if n != 1 or not (isinstance(values[0], str) and values[0].lstrip("-").isdigit()):
            out.add("api.selector", f"operator {op} needs exactly one integer value", where + ("values",))
