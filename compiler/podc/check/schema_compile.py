"""Compile the pinned strict schemas into fast yes/no Python predicates.

A generic JSON Schema validator walks the schema for every document (~2-3 ms per Job). Here
each definition becomes one generated Python function that only tests types, required keys,
allowed keys, enums, ``oneOf`` and the ranges of ``format: int32/int64`` -- the whole keyword
subset the pinned schemas use (``generate.py`` refuses any other keyword). A valid Job costs tens
of microseconds. When a predicate says "invalid", :mod:`podc.check.schema_explain` walks the
document again to say where and why; valid documents never pay for that.

The semantics follow JSON Schema draft 2020-12 as the ``jsonschema`` package implements it
(``tests/check/test_schema_agreement.py`` checks that on thousands of mutated documents):
``integer`` accepts ``2.0`` but not ``True``; ``properties``/``required`` only apply to objects;
``items`` only to arrays; ``null`` matches both branches of the ``Quantity`` ``oneOf``, so it is
invalid there.
"""

from __future__ import annotations

import json
from typing import Callable

__all__ = ["PredicateCompiler", "Predicate"]

Predicate = Callable[[object], bool]

_TYPE_TESTS = {
    "null": "v is None",
    "string": "isinstance(v, str)",
    "boolean": "(v is True or v is False)",
    "integer": "((isinstance(v, int) and v is not True and v is not False)"
    " or (isinstance(v, float) and v.is_integer()))",
    "number": "(isinstance(v, (int, float)) and v is not True and v is not False)",
    "object": "isinstance(v, dict)",
    "array": "isinstance(v, list)",
}
_HANDLED = {"type", "properties", "additionalProperties", "required", "items", "enum", "oneOf", "$ref",
            "format", "x-kubernetes-list-type", "x-kubernetes-list-map-keys"}
_REF = "#/$defs/"
# Kubernetes integer formats: the API server rejects values outside them (a Go int32/int64).
INT_FORMAT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def _enum_member(v: object, values: tuple) -> bool:
    """jsonschema's ``enum`` equality for non-string enums (bools are not ints, 1 == 1.0)."""
    for item in values:
        if isinstance(item, bool) or isinstance(v, bool):
            if item is v:
                return True
        elif type(item) is type(v) or (isinstance(item, (int, float)) and isinstance(v, (int, float))):
            if item == v:
                return True
        elif item == v and not isinstance(item, (str, int, float)):
            return True
    return False


class PredicateCompiler:
    """Generates predicates for one version's ``$defs``; shared functions are generated once."""

    def __init__(self, defs: dict[str, dict]):
        self._defs = defs
        self._ns: dict[str, object] = {"_enum_member": _enum_member, "_any": lambda v: True}
        self._def_fn: dict[str, str] = {}
        self._anon_fn: dict[str, str] = {}
        self._source: list[str] = []
        self._tables: list[str] = []  # run after every function exists (definitions may recurse)

    def predicate(self, def_name: str) -> Predicate:
        """The predicate for ``$defs[def_name]`` (generating whatever it needs, once)."""
        name = self._for_def(def_name)
        if self._source or self._tables:
            code = "\n".join(self._source + self._tables)
            self._source, self._tables = [], []
            exec(compile(code, f"<podc-schema:{def_name}>", "exec"), self._ns)  # noqa: S102 - generated here
        return self._ns[name]  # type: ignore[return-value]

    # -- generation ---------------------------------------------------------------------------

    def _for_def(self, def_name: str) -> str:
        fn = self._def_fn.get(def_name)
        if fn is None:
            fn = self._def_fn[def_name] = f"d{len(self._def_fn)}"
            self._emit(fn, self._defs[def_name])
        return fn

    def _for_schema(self, schema: object) -> str | None:
        """Function name checking ``schema``; None when the schema accepts everything."""
        if schema is True or schema == {}:
            return None
        if schema is False:
            return self._const("_reject", "def _reject(v):\n    return False")
        assert isinstance(schema, dict)
        if set(schema) <= {"$ref", "format", "x-kubernetes-list-type", "x-kubernetes-list-map-keys"} and "$ref" in schema:
            return self._for_def(schema["$ref"][len(_REF):])
        key = json.dumps(schema, sort_keys=True)
        fn = self._anon_fn.get(key)
        if fn is None:
            fn = self._anon_fn[key] = f"s{len(self._anon_fn)}"
            self._emit(fn, schema)
        return fn

    def _const(self, name: str, source: str) -> str:
        if name not in self._anon_fn.values():
            self._anon_fn[name] = name
            self._source.append(source)
        return name

    def _emit(self, fn: str, schema: dict) -> None:
        unknown = set(schema) - _HANDLED
        if unknown:
            raise ValueError(f"schema keyword(s) {sorted(unknown)} not supported by the compiled validator")
        body: list[str] = []
        types = schema.get("type")
        types = [types] if isinstance(types, str) else types
        checks = set(schema) & {"type", "properties", "additionalProperties", "required", "items", "enum", "oneOf",
                                "$ref"}
        # Fast shapes (most of the schema): a bare type test, or a (nullable) object / array.
        bounds = INT_FORMAT_BOUNDS.get(schema.get("format"))  # type: ignore[arg-type]
        if checks == {"type"} and bounds is None:
            self._define(fn, [f"return {self._type_expr(types)}"])
            return
        container = None
        if types and not checks & {"$ref", "enum", "oneOf"} and [t for t in types if t != "null"] in (["object"], ["array"]):
            container = "dict" if "object" in types else "list"
            if "null" in types:
                body.append("if v is None: return True")
            body.append(f"if not isinstance(v, {container}): return False")
        elif types is not None:
            body.append(f"if not ({self._type_expr(types)}): return False")
        if bounds is not None:
            # Only numbers carry a range (a wrong type was rejected above or is another branch's job).
            body.append("if isinstance(v, (int, float)) and v is not True and v is not False"
                        f" and not ({bounds[0]} <= v <= {bounds[1]}): return False")
        if "$ref" in schema:
            body.append(f"if not {self._for_def(schema['$ref'][len(_REF):])}(v): return False")
        if "enum" in schema:
            values = tuple(schema["enum"])
            const = f"E_{fn}"
            if all(isinstance(x, str) for x in values):
                self._ns[const] = frozenset(values)
                body.append(f"if not (isinstance(v, str) and v in {const}): return False")
            else:
                self._ns[const] = values
                body.append(f"if not _enum_member(v, {const}): return False")
        if "oneOf" in schema:
            subs = [self._for_schema(s) for s in schema["oneOf"]]
            terms = " + ".join("1" if s is None else f"(1 if {s}(v) else 0)" for s in subs)
            body.append(f"if ({terms}) != 1: return False")
        self._emit_object(fn, schema, body, known_dict=container == "dict")
        if "items" in schema:
            item = self._for_schema(schema["items"])
            if item is not None:
                if container != "list":
                    body.append("if isinstance(v, list):")
                    body.append(f"    for x in v:\n        if not {item}(x): return False")
                else:
                    body.append(f"for x in v:\n    if not {item}(x): return False")
        body.append("return True")
        self._define(fn, body)

    def _define(self, fn: str, body: list[str]) -> None:
        self._source.append(f"def {fn}(v):\n" + "\n".join("    " + part for line in body for part in line.split("\n")))

    @staticmethod
    def _type_expr(types: list[str]) -> str:
        # Non-null types first: values are rarely null.
        ordered = [t for t in types if t != "null"] + [t for t in types if t == "null"]
        return " or ".join(_TYPE_TESTS[t] for t in ordered)

    def _emit_object(self, fn: str, schema: dict, body: list[str], known_dict: bool) -> None:
        props = schema.get("properties")
        extra = schema.get("additionalProperties", True)
        required = schema.get("required", ())
        if props is None and extra is True and not required:
            return
        lines: list[str] = []
        extra_fn = self._for_schema(extra) if extra not in (True, False) else None
        if props is not None:
            table = f"P_{fn}"
            # Resolve function names lazily: generated functions exist only after exec.
            self._ns[table] = {}
            self._tables.append(
                f"{table}.update({{"
                + ", ".join(f"{name!r}: {self._for_schema(sub) or '_any'}" for name, sub in props.items())
                + "})"
            )
            lines.append("    for k, x in v.items():")
            lines.append(f"        c = {table}.get(k)")
            lines.append("        if c is None:")
            if extra is False:
                lines.append("            return False")
            elif extra_fn is not None:
                lines.append(f"            if not {extra_fn}(x): return False")
            else:
                lines.append("            continue")
            lines.append("        elif not c(x): return False")
        elif extra is False:
            lines.append("    if v: return False")
        elif extra_fn is not None:
            lines.append(f"    for x in v.values():\n        if not {extra_fn}(x): return False")
        for name in required:
            lines.append(f"    if {name!r} not in v: return False")
        if known_dict:
            body.extend(line[4:].replace("\n    ", "\n") for line in lines)
        else:
            body.append("if isinstance(v, dict):")
            body.extend(lines)
