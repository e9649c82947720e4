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
        self.layer_fields: frozenset[str] | None = None

    def ref(self, ref: str) -> Check:
        name = ref.rsplit("/", 1)[-1]
        if not ref.startswith("#/$defs/") or name not in self.defs:
            return _never
        done = self.done
        fn: Check | None = None

        def check(value: Any) -> bool:  # compiled on first use: the schema is recursive in places
            nonlocal fn
            if fn is None:
                fn = done.get(name)
                if fn is None:
                    done[name] = _never  # a cycle while compiling stays conservative
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
        kind = rest.pop("type", None)
        if kind is not None and not isinstance(kind, str):
            return _never
        # The common shapes get one closure that also checks the type (fewer calls per value).
        if kind == "object" and {"properties", "additionalProperties", "required", "propertyNames"} & rest.keys():
            parts.append(self._object(rest, typed=True))
            kind = None
        elif kind == "array" and "items" in rest:
            parts.append(_items(self.compile(rest.pop("items")), typed=True))
            kind = None
        elif kind in ("integer", "number") and ("minimum" in rest or "maximum" in rest):
            parts.append(_bounded(kind, rest.pop("minimum", None), rest.pop("maximum", None)))
            kind = None
        elif kind == "string" and "enum" in rest and all(type(c) is str for c in rest["enum"]):
            parts.append(lambda v, cs=frozenset(rest.pop("enum")): type(v) is str and v in cs)
            kind = None
        if kind is not None:
            parts.append(_TYPES.get(kind, _never))
        if "const" in rest:
            const = rest.pop("const")
            parts.append(lambda v, c=const: type(v) is type(c) and v == c)
        if "enum" in rest:
            choices = tuple(rest.pop("enum"))
            parts.append(lambda v, cs=choices: any(type(v) is type(c) and v == c for c in cs))
        if "anyOf" in rest:
            branches = rest.pop("anyOf")
            nullable = {"type": "null"} in branches
            branches = [b for b in branches if b != {"type": "null"}]
            simple = [_simple_type(b) for b in branches]
            if len(branches) > 1 and all(t is not None and t != "object" for t in simple):
                accepted = frozenset().union(*(_PY_TYPES[t] for t in simple), _PY_TYPES["null"] if nullable else ())
                parts.append(lambda v, ts=accepted: type(v) in ts)  # e.g. string | integer | number | boolean
            else:
                parts.append(_any_of([self.compile(b) for b in branches], [self._shape(b) for b in branches],
                                     nullable))
        if "oneOf" in rest:
            subs = rest.pop("oneOf")
            parts.append(_one_of([self.compile(s) for s in subs], [self._shape(s) for s in subs]))
        if "minimum" in rest:  # pydantic `ge`: integer ranges (int32/int64, file modes, ports)
            low = rest.pop("minimum")
            parts.append(lambda v, m=low: type(v) not in (int, float) or v >= m)
        if "maximum" in rest:
            high = rest.pop("maximum")
            parts.append(lambda v, m=high: type(v) not in (int, float) or v <= m)
        if "items" in rest:
            parts.append(_items(self.compile(rest.pop("items")), typed=False))
        if {"properties", "additionalProperties", "required", "propertyNames"} & rest.keys():
            parts.append(self._object(rest, typed=False))
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

    def _shape(self, schema: Any, depth: int = 0) -> tuple[frozenset | None, str | None]:
        """What a value must be for ``schema`` to accept it, read off the schema without running it:
        (the Python types it may have, or None for "any"; a key a mapping must hold, or None).
        Only a NECESSARY condition: ``anyOf``/``oneOf`` use it to skip branches that cannot pass."""
        if not isinstance(schema, dict) or depth > 8:
            return None, None
        keys = schema.keys() - _ANNOTATIONS
        if keys == {"$ref"}:
            ref = schema["$ref"]
            name = ref.rsplit("/", 1)[-1] if isinstance(ref, str) else ""
            if not isinstance(ref, str) or not ref.startswith("#/$defs/") or name not in self.defs:
                return None, None  # compiles to _never: any value is a (failing) candidate
            return self._shape(self.defs[name], depth + 1)
        kind = schema.get("type")
        types = _PY_TYPES.get(kind) if isinstance(kind, str) else None
        if types is None and keys == {"anyOf"} and isinstance(schema["anyOf"], list):
            union: set = set()
            for branch in schema["anyOf"]:
                sub = self._shape(branch, depth + 1)[0]
                if sub is None:
                    return None, None
                union |= sub
            return frozenset(union), None
        key = None
        if kind == "object" and schema.get("additionalProperties") is False:
            required = schema.get("required")
            if isinstance(required, list) and required and isinstance(required[0], str):
                key = required[0]
        return types, key

    def _object(self, rest: dict[str, Any], typed: bool) -> Check:
        # Each property is compiled when a value first has it: a layer uses a few of its fields,
        # and compiling them all cost a short `podc compile` ~3 ms.
        schemas = rest.pop("properties", {})
        props: dict[str, Check] = {}
        extra_schema = rest.pop("additionalProperties", True)
        extra = None if extra_schema is False else self.compile(extra_schema)
        required = frozenset(rest.pop("required", ()))
        names = self.compile(rest.pop("propertyNames")) if "propertyNames" in rest else None
        compile_now = self.compile
        props_get = props.get

        def prop(key: str) -> Check | None:
            if key not in schemas:
                return extra
            fn = props[key] = compile_now(schemas[key])
            return fn

        def check(value: Any) -> bool:
            if type(value) is not dict:
                return not typed  # without ``type: object`` the type keyword decides for non-objects
            for key, item in value.items():
                if type(key) is not str:
                    return False
                if names is not None and not names(key):
                    return False
                fn = (props_get(key) or prop(key)) if schemas else extra  # env, labels: no named fields
                if fn is None or not fn(item):
                    return False
            return not required or required <= value.keys()

        return check


#: The Python types each JSON schema type accepts (strict: ``bool`` is not an integer).
_PY_TYPES: dict[str, frozenset] = {
    "string": frozenset({str}), "integer": frozenset({int}), "number": frozenset({int, float}),
    "boolean": frozenset({bool}), "null": frozenset({type(None)}), "array": frozenset({list}),
    "object": frozenset({dict}),
}
_KNOWN_TYPES = frozenset().union(*_PY_TYPES.values())


def _candidates(branches: list[Check], shapes: list[tuple[frozenset | None, str | None]]
                ) -> Callable[[Any], tuple[Check, ...]]:
    """The branches that may accept a value: those its Python type allows and, for a mapping, those
    needing a key it holds. Types not listed fall back to every branch."""
    by_type: dict[type, tuple[Check, ...]] = {}
    for t in _KNOWN_TYPES:
        by_type[t] = tuple(b for b, (types, key) in zip(branches, shapes)
                           if (types is None or t in types) and not (t is dict and key is not None))
    keyed: dict[str, tuple[Check, ...]] = {}
    for b, (types, key) in zip(branches, shapes):
        if key is not None:
            keyed[key] = keyed.get(key, ()) + (b,)
    every = tuple(branches)

    def tried(value: Any) -> tuple[Check, ...]:
        t = type(value)
        base = by_type.get(t, every)
        if t is dict and keyed:
            needing = [b for key in value for b in keyed.get(key, ())]
            if needing:
                return (*base, *needing)
        return base

    return tried


def _any_of(branches: list[Check], shapes: list, nullable: bool) -> Check:
    """``anyOf``; most are ``X | None`` (one branch and null), checked without a loop."""
    if len(branches) == 1:
        only = branches[0]
        return (lambda v: v is None or only(v)) if nullable else only
    tried = _candidates(branches, shapes)

    def check(value: Any) -> bool:
        if value is None and nullable:
            return True
        for b in tried(value):
            if b(value):
                return True
        return False

    return check


def _simple_type(schema: Any) -> str | None:
    """The type name of a schema that is only ``{"type": <name>}`` (annotations aside), else None."""
    if not isinstance(schema, dict) or schema.keys() - _ANNOTATIONS != {"type"}:
        return None
    kind = schema["type"]
    return kind if isinstance(kind, str) and kind in _PY_TYPES else None


def _one_of(branches: list[Check], shapes: list) -> Check:
    """``oneOf``: exactly one branch accepts; only the branches the value's shape allows are run."""
    tried = _candidates(branches, shapes)

    def check(value: Any) -> bool:
        passed = 0
        for b in tried(value):
            if b(value):
                passed += 1
        return passed == 1

    return check


def _bounded(kind: str, low: Any, high: Any) -> Check:
    """``type: integer|number`` with ``minimum``/``maximum`` in one closure."""
    types = (int,) if kind == "integer" else (int, float)
    if low is None and high is None:
        return lambda v: type(v) in types
    if high is None:
        return lambda v: type(v) in types and v >= low
    if low is None:
        return lambda v: type(v) in types and v <= high
    return lambda v: type(v) in types and low <= v <= high


def _items(item: Check, typed: bool) -> Check:
    def check(value: Any) -> bool:
        if type(value) is not list:
            return not typed  # without ``type: array`` the type keyword decides for non-lists
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
    compiler = _compiler()
    if compiler.layer_fields is None:  # asked once per layer file: built once
        props = compiler.defs.get("LayerSpec", {}).get("properties", {})
        compiler.layer_fields = frozenset(props) if isinstance(props, dict) else frozenset()
    return compiler.layer_fields


def layer_ok(data: Any) -> bool:
    """True only if ``LayerSpec.model_validate(data)`` would succeed (``data`` as the models get it)."""
    return compile_def("LayerSpec")(data)


def project_ok(data: Any) -> bool:
    """True only if ``ProjectSpec.model_validate(data)`` would succeed."""
    return compile_def("ProjectSpec")(data)
