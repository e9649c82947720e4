"""Shared building blocks of the podc/v1 models: the strict base class and validated scalar types.

Every model derives from :class:`Base` (``extra="forbid"``, strict types), so an unknown key is
an ``extra_forbidden`` error at its ``loc`` and ``"3"`` is not silently read as ``3`` -- the same
rules the Kubernetes API server applies. ``None`` is accepted wherever a layer may delete a value
(``key: null``), because a layer is a *patch*, not a whole object.

Tagged unions use tags written ``<like-this>`` (:func:`tag`), which can never be a real key, so
:mod:`podc.model.locate` can strip them from an error ``loc`` (pydantic#7500).
"""

from __future__ import annotations

import re

from typing import Annotated, Any, Callable

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag
from pydantic_core import PydanticCustomError

from podc.kube import names as kube_names
from podc.kube.quantity import QUANTITY_EXPECTED, parse_quantity

__all__ = [
    "Base",
    "Quantity",
    "Scalar",
    "StrMap",
    "NameStr",
    "SubdomainStr",
    "EnvName",
    "Plain",
    "tag",
    "TAG_PREFIX",
    "one_of_keys",
    "kind_of",
    "FastCheck",
    "Int32",
    "Int64",
    "Count32",
    "Seconds64",
    "FileMode",
    "Port",
    "INT32_MAX",
    "INT64_MAX",
]

TAG_PREFIX = "<"


class Base(BaseModel):
    """Strict, closed models: unknown keys and wrong types are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, hide_input_in_errors=True)


def kind_of(value: Any) -> str:
    """How a value reads in an error message: 'a string', 'a list', 'null'…"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"a number ({value})"
    if isinstance(value, float):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def _quantity(value: Any) -> Any:
    try:
        parse_quantity(value)
    except ValueError:
        raise PydanticCustomError("podc_quantity", QUANTITY_EXPECTED + ", got {got}", {"got": _short(value)}) from None
    return value


class FastCheck:
    """Marks a constrained type in the JSON Schema (``x-podc-check: <name>``) with the name of the
    rule its AfterValidator enforces, so :mod:`podc.model.fast` applies the SAME rule (its table
    maps the name to the same pydantic-free function) without building the models."""

    def __init__(self, name: str):
        self.name = name

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> Any:
        schema = handler(core_schema)
        schema["x-podc-check"] = self.name
        return schema


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


_REGEX_DUMP = re.compile(r", regex used for validation is '.*'\)")


def _checked(check: Callable[[str], list[str]], what: str) -> Callable[[str], str]:
    def validate(value: str) -> str:
        errs = check(value)
        if errs:
            # Kubernetes' messages end in the validation regex: noise for a person; a valid name
            # close to theirs (`MyJob` -> `myjob`) says more.
            why = "; ".join(_REGEX_DUMP.sub(")", e) for e in errs)
            fixed = _close_valid_name(value, check)
            if fixed is not None:
                why += f"; did you mean {fixed!r}?"
            raise PydanticCustomError("podc_name", "invalid {what} {value}: {why}",
                                      {"what": what, "value": _short(value), "why": why})
        return value

    return validate


def _close_valid_name(value: Any, check: Callable[[str], list[str]]) -> str | None:
    if not isinstance(value, str):
        return None
    candidate = re.sub(r"[^a-z0-9.-]+", "-", value.lower()).strip("-.")[:63].strip("-.")
    return candidate if candidate and candidate != value and not check(candidate) else None


#: A Kubernetes resource quantity: a string ("500m", "1Gi") or a plain number (2, 0.5).
Quantity = Annotated[str | int | float, AfterValidator(_quantity), FastCheck("quantity")]
#: A scalar that Kubernetes wants as a string; numbers and booleans are converted by normalisation.
Scalar = str | int | float | bool
#: A string → string map (labels, annotations, nodeSelector); numbers/booleans become strings.
StrMap = dict[str, Scalar | None]
#: A DNS-1123 label (container names, volume names).
NameStr = Annotated[str, AfterValidator(_checked(kube_names.dns1123_label, "name")), FastCheck("dns1123-label")]
#: A DNS-1123 subdomain (Secret, ConfigMap, Job names).
SubdomainStr = Annotated[str, AfterValidator(_checked(kube_names.dns1123_subdomain, "name")),
                         FastCheck("dns1123-subdomain")]
#: An environment variable name (newest Kubernetes rules; the checker applies the target version's).
EnvName = Annotated[str, AfterValidator(_checked(kube_names.env_var_name, "environment variable name")),
                    FastCheck("env-var-name")]
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
# Integers bounded by their Kubernetes format; pydantic writes the bounds into the JSON Schema as
# minimum/maximum, which the fast gate enforces too (one definition, both paths).
#: An int32 field (Kubernetes `format: int32`).
Int32 = Annotated[int, Field(ge=-INT32_MAX - 1, le=INT32_MAX)]
#: An int64 field (Kubernetes `format: int64`).
Int64 = Annotated[int, Field(ge=-INT64_MAX - 1, le=INT64_MAX)]
#: A count (int32, 0 or more).
Count32 = Annotated[int, Field(ge=0, le=INT32_MAX)]
#: A number of seconds (int64, 0 or more).
Seconds64 = Annotated[int, Field(ge=0, le=INT64_MAX)]
#: A file mode: the API server accepts 0..0777.
FileMode = Annotated[int, Field(ge=0, le=0o777)]
#: A TCP/UDP port number.
Port = Annotated[int, Field(ge=1, le=65535)]
#: A Kubernetes-shaped fragment passed through unvalidated (the schema checker validates it later).
Plain = dict[str, Any]


def tag(name: str) -> str:
    """The union tag for a variant; ``<name>`` cannot collide with a YAML key in a ``loc``."""
    return f"{TAG_PREFIX}{name}>"


def one_of_keys(keys: tuple[str, ...], *, fallback: str | None = None, what: str, error: str) -> Discriminator:
    """A discriminator choosing the variant by which ONE of ``keys`` a mapping sets.

    Zero or several of them is the custom error ``error`` (mapped to a located diagnostic), so a
    value with two sources cannot validate. Non-mappings go to ``fallback`` (when given) so the
    chosen variant reports the type error.
    """
    keyset = frozenset(keys)

    def pick(value: Any) -> str | None:
        if not isinstance(value, dict):
            return tag(fallback) if fallback else None
        present = [k for k in value if k in keyset]
        if len(present) == 1:
            return tag(present[0])
        return None

    return Discriminator(pick, custom_error_type=error,
                         custom_error_message=f"expected exactly one of {', '.join(keys)} in {what}")


def tagged(model: Any, name: str) -> Any:
    return Annotated[model, Tag(tag(name))]
