"""The fast gate: decide "valid" for podc/v1 documents without building the pydantic models.

``schemas/podc-v1.json`` is generated FROM the models (``schemas/generate_podc.py``), and every
custom rule the models enforce with a validator is marked there as ``x-podc-check: <name>``
(:class:`podc.model.common.FastCheck`), named in :data:`podc.model.rules.CHECKS`. This module
compiles that schema into closures with pydantic's STRICT semantics (``"3"`` is not an integer,
``true`` is not a number, keys are strings, unknown keys are errors) plus those rules.

It answers only True ("the models accept this") or False ("invalid, or not sure"); the caller
runs the models on False, so the messages users see always come from them. It must never say
True where the models say no: anything it does not understand (an unknown keyword or check name,
a value of an unusual Python type) is False. ``tests/model/test_model_fast_gate.py`` checks the
agreement on a mutation corpus.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from podc.model.rules import CHECKS

__all__ = ["layer_ok", "project_ok", "compile_def", "layer_field_names"]

Check = Callable[[Any], bool]

#: Keywords that only annotate (no effect on validity).
_ANNOTATIONS = frozenset({"title", "description", "default", "examples", "$comment"})
_TYPES: dict[str, Check] = {
    "string": lambda v: type(v) is str,
    "integer": lambda v: type(v) is int,
    "number": lambda v: type(v) is int or type(v) is float,
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
    "array": lambda v: type(v) is list,
    "object": lambda v: type(v) is dict and all(type(k) is str for k in v),
}


def _never(value: Any) -> bool:
    return False


def _always(value: Any) -> bool:
    return True


class _Compiler:
    def __init__(self, defs: dict[str, Any]):
        self.defs = defs
        self.done: dict[str, Check] = {}

    def ref(self, ref: str) -> Check:
        name = ref.rsplit("/", 1)[-1]
        if not ref.startswith("#/$defs/") or name not in self.defs:
            return _never
        done = self.done

        def check(value: Any) -> bool:  # compiled on first use: the schema is recursive in places
            fn = done.get(name)
            if fn is None:
                fn = done[name] = _never  # a cycle while compiling stays conservative
                fn = done[name] = self.compile(self.defs[name])
            return fn(value)

        return check

    def compile(self, schema: Any) -> Check:
        if schema is True or schema == {}:
            return _always
        if not isinstance(schema, dict):
            return _never
        parts: list[Check] = []
        rest = {k: v for k, v in schema.items() if k not in _ANNOTATIONS}
        if "$ref" in rest:
            parts.append(self.ref(rest.pop("$ref")))
        if "type" in rest:
            kind = rest.pop("type")
            parts.append(_TYPES.get(kind, _never) if isinstance(kind, str) else _never)
        if "const" in rest:
            const = rest.pop("const")
            parts.append(lambda v, c=const: type(v) is type(c) and v == c)
        if "enum" in rest:
            choices = tuple(rest.pop("enum"))
            parts.append(lambda v, cs=choices: any(type(v) is type(c) and v == c for c in cs))
        if "anyOf" in rest:
            branches = rest.pop("anyOf")
            nullable = {"type": "null"} in branches
            parts.append(_any_of([self.compile(b) for b in branches if b != {"type": "null"}], nullable))
        if "oneOf" in rest:
            subs = [self.compile(s) for s in rest.pop("oneOf")]
            parts.append(lambda v, ss=subs: sum(1 for s in ss if s(v)) == 1)
        if "minimum" in rest:  # pydantic `ge`: integer ranges (int32/int64, file modes, ports)
            low = rest.pop("minimum")
            parts.append(lambda v, m=low: type(v) not in (int, float) or v >= m)
        if "maximum" in rest:
            high = rest.pop("maximum")
            parts.append(lambda v, m=high: type(v) not in (int, float) or v <= m)
        if "items" in rest:
            parts.append(_items(self.compile(rest.pop("items"))))
        if {"properties", "additionalProperties", "required", "propertyNames"} & rest.keys():
            parts.append(self._object(rest))
        if "x-podc-check" in rest:
            check = CHECKS.get(rest.pop("x-podc-check"))
            if check is None:
                return _never  # a rule this module does not know: let the models decide
            parts.append(_guarded(check))
        if rest:  # a keyword this compiler does not implement
            return _never
        if len(parts) == 1:
            return parts[0]
        if len(parts) == 2:
            first, second = parts
            return lambda v: first(v) and second(v)
        return lambda v, ps=tuple(parts): all(p(v) for p in ps)

    def _object(self, rest: dict[str, Any]) -> Check:
        props = {k: self.compile(s) for k, s in rest.pop("properties", {}).items()}
        extra_schema = rest.pop("additionalProperties", True)
        extra = None if extra_schema is False else self.compile(extra_schema)
        required = tuple(rest.pop("required", ()))
        names = self.compile(rest.pop("propertyNames")) if "propertyNames" in rest else None

        def check(value: Any) -> bool:
            if type(value) is not dict:
                return True  # the type keyword decides for non-objects
            for key, item in value.items():
                if type(key) is not str:
                    return False
                if names is not None and not names(key):
                    return False
                fn = props.get(key, extra)
                if fn is None or not fn(item):
                    return False
            return all(k in value for k in required)

        return check


def _any_of(branches: list[Check], nullable: bool) -> Check:
    """``anyOf``; most are ``X | None`` (one branch and null), checked without a loop."""
    if len(branches) == 1:
        only = branches[0]
        return (lambda v: v is None or only(v)) if nullable else only
    if nullable:
        return lambda v: v is None or any(b(v) for b in branches)
    return lambda v: any(b(v) for b in branches)


def _items(item: Check) -> Check:
    def check(value: Any) -> bool:
        if type(value) is not list:
            return True  # the type keyword decides for non-lists
        for x in value:
            if not item(x):
                return False
        return True

    return check


def _guarded(check: Check) -> Check:
    def run(value: Any) -> bool:
        try:
            return bool(check(value))
        except Exception:  # a rule that cannot judge the value: not sure, so not valid here
            return False

    return run


_COMPILER: _Compiler | None = None


def _compiler() -> _Compiler:
    global _COMPILER
    if _COMPILER is None:
        from podc.resources import data_path

        try:
            with open(data_path("schemas") / "podc-v1.json", encoding="utf-8") as f:
                defs = json.load(f)["$defs"]
        except (OSError, ValueError, KeyError, TypeError):
            defs = {}  # no usable schema (a broken install): every document goes to the models
        _COMPILER = _Compiler(defs)
    return _COMPILER


_ROOTS: dict[str, Check] = {}


def compile_def(name: str) -> Check:
    """The fast check of one ``$defs`` entry of ``podc-v1.json`` (e.g. ``LayerSpec``)."""
    check = _ROOTS.get(name)
    if check is None:
        check = _ROOTS[name] = _compiler().ref(f"#/$defs/{name}")
    return check


def layer_field_names() -> frozenset[str]:
    """The top-level fields of a layer (empty when the schema is unusable)."""
    props = _compiler().defs.get("LayerSpec", {}).get("properties", {})
    return frozenset(props) if isinstance(props, dict) else frozenset()


def layer_ok(data: Any) -> bool:
    """True only if ``LayerSpec.model_validate(data)`` would succeed (``data`` as the models get it)."""
    return compile_def("LayerSpec")(data)


def project_ok(data: Any) -> bool:
    """True only if ``ProjectSpec.model_validate(data)`` would succeed."""
    return compile_def("ProjectSpec")(data)
