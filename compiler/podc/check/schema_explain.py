"""Say where and why a document breaks the schema (runs only when the fast predicate said no).

An interpreter over the same compact schema, following the ``jsonschema`` draft 2020-12
semantics of :mod:`podc.check.schema_compile`, that reports every violation with a JSON
pointer and a human message: unknown fields name the closest allowed field, type errors say
what was expected, enum errors list the allowed values. Speed does not matter here.
"""

from __future__ import annotations

import json
from typing import Callable, Iterator

from podc.check.schema_compile import INT_FORMAT_BOUNDS
from podc.errors import did_you_mean

__all__ = ["explain", "pointer", "type_name"]

_REF = "#/$defs/"

# Pod-level fields users put one level too high or low; used for "move it" hints.
_TEMPLATE_HOLDERS = {"JobSpec", "DeploymentSpec", "StatefulSetSpec", "DaemonSetSpec", "ReplicaSetSpec",
                     "ReplicationControllerSpec", "PodTemplate"}


def pointer(path: tuple | list) -> str:
    """RFC 6901 JSON pointer for a path of keys and indexes."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


_TYPE_NAMES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"), (dict, "object"),
               (list, "array"))  # bool before int: True is an int in Python, a boolean in JSON


def type_name(value: object) -> str:
    if value is None:
        return "null"
    for kind, name in _TYPE_NAMES:
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _show(value: object, limit: int = 40) -> str:
    if isinstance(value, (dict, list)):
        return ""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return " " + (text if len(text) <= limit else text[: limit - 3] + "...")


_TYPE_TESTS: dict[str, Callable[[object], bool]] = {
    "null": lambda v: v is None,
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}
_ARTICLE = {"string": "a string", "boolean": "a boolean (true or false)", "integer": "an integer",
            "number": "a number", "object": "a mapping", "array": "a list"}


class _Explainer:
    def __init__(self, defs: dict[str, dict], issue: Callable[..., object],
                 valid: Callable[[str, object], bool] | None = None):
        self.defs = defs
        self.issue = issue
        # The compiled predicates (same verdicts, proven by the agreement tests): subtrees they
        # accept are not walked, so explaining one bad field in a big document stays cheap.
        self.valid = valid

    def walk(self, schema: object, value: object, path: tuple, where: str) -> bool:
        """Report violations of ``schema`` by ``value``; True when there were none."""
        if schema is True or schema == {}:
            return True
        if schema is False:
            self.issue("schema.unknown-field", f"no value is allowed here (in {where})", path)
            return False
        assert isinstance(schema, dict)
        ok = True
        types = schema.get("type")
        if types is not None:
            types = [types] if isinstance(types, str) else types
            if not any(_TYPE_TESTS[t](value) for t in types):
                self._type_error(types, value, path, where)
                return False  # enum/oneOf below would only repeat the same complaint
        bounds = INT_FORMAT_BOUNDS.get(schema.get("format"))  # type: ignore[arg-type]
        if bounds is not None and _TYPE_TESTS["number"](value) and not (
                bounds[0] <= value <= bounds[1]):  # type: ignore[operator]
            ok = False
            self._range_error(str(schema["format"]), bounds, value, path, where)
        if "$ref" in schema:
            name = schema["$ref"][len(_REF):]
            if self.valid is None or not self.valid(name, value):
                ok = self.walk(self.defs[name], value, path, name.rsplit(".", 1)[-1]) and ok
        if "enum" in schema and not any(_equal(value, e) for e in schema["enum"]):
            ok = False
            allowed = ", ".join(json.dumps(e) for e in schema["enum"])
            guess = did_you_mean(value, [e for e in schema["enum"] if isinstance(e, str)]) if isinstance(value, str) else None
            self.issue("schema.enum", f"unsupported value{_show(value)}: expected one of {allowed}", path,
                       f'did you mean "{guess}"?' if guess else None)
        if "oneOf" in schema:
            matches = sum(1 for s in schema["oneOf"] if self._quiet(s, value, path, where))
            if matches != 1:
                ok = False
                self._one_of_error(schema["oneOf"], value, path, where)
        if isinstance(value, dict):
            ok = self._object(schema, value, path, where) and ok
        if isinstance(value, list) and "items" in schema:
            for i, item in enumerate(value):
                ok = self.walk(schema["items"], item, path + (i,), where) and ok
        return ok

    def _quiet(self, schema: object, value: object, path: tuple, where: str) -> bool:
        return _Explainer(self.defs, lambda *a, **k: None, self.valid).walk(schema, value, path, where)

    def _object(self, schema: dict, value: dict, path: tuple, where: str) -> bool:
        ok = True
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                ok = self.walk(props[key], item, path + (key,), where) and ok
            elif extra is False:
                ok = False
                self._unknown_field(key, props, path, where)
            elif extra is not True:
                ok = self.walk(extra, item, path + (key,), where) and ok
        for name in schema.get("required", ()):
            if name not in value:
                ok = False
                self.issue("schema.required", f'missing required field "{name}" in {where}', path, None)
        return ok

    def _unknown_field(self, key: object, props: dict, path: tuple, where: str) -> None:
        shown = json.dumps(key) if isinstance(key, str) else repr(key)
        guess = did_you_mean(key, props) if isinstance(key, str) else None
        if guess:
            hint = f'did you mean "{guess}"?'
        else:
            hint = self._misplaced_hint(key, where) or (
                "allowed fields: " + ", ".join(sorted(props)) if props else f"{where} takes no fields")
        self.issue("schema.unknown-field", f"unknown field {shown} in {where}", path + (key,), hint)

    def _misplaced_hint(self, key: object, where: str) -> str | None:
        pod_spec = self.defs.get("io.k8s.api.core.v1.PodSpec", {}).get("properties", {})
        container = self.defs.get("io.k8s.api.core.v1.Container", {}).get("properties", {})
        if where in _TEMPLATE_HOLDERS and key in pod_spec:
            return f'"{key}" is a pod field: move it under template.spec'
        if where == "PodSpec" and key in container:
            return f'"{key}" is a container field: move it into an entry of containers'
        if where in ("PodTemplateSpec", "ObjectMeta") and key in pod_spec:
            return f'"{key}" is a pod field: move it under spec'
        return None

    def _type_error(self, types: list[str], value: object, path: tuple, where: str) -> None:
        wanted = [t for t in types if t != "null"] or types
        expected = " or ".join(_ARTICLE.get(t, t) for t in wanted)
        got = type_name(value)
        hint = None
        if "string" in wanted and isinstance(value, (bool, int, float)):
            literal = json.dumps(value)
            hint = f'quote it so YAML reads a string: "{literal}"'
        elif wanted == ["integer"] and isinstance(value, str) and value.strip().lstrip("-").isdigit():
            hint = f"remove the quotes: {value.strip()}"
        elif wanted == ["array"]:
            hint = "write a YAML list (one '- ' item per line)"
        elif wanted == ["object"] and got != "null":
            hint = "write a mapping (key: value lines)"
        field = f'"{path[-1]}"' if path and isinstance(path[-1], str) else "value"
        self.issue("schema.type", f"{field} in {where} must be {expected}, got {got}{_show(value)}", path, hint)

    def _range_error(self, fmt: str, bounds: tuple[int, int], value: object, path: tuple, where: str) -> None:
        field = f'"{path[-1]}"' if path and isinstance(path[-1], str) else "value"
        bits = fmt[3:]
        side = f"at most {bounds[1]}" if value > bounds[1] else f"at least {bounds[0]}"  # type: ignore[operator]
        shown = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
        if len(shown) > 40:
            shown = shown[:37] + "..."
        self.issue("schema.range", f"{field} in {where} must fit in a {bits}-bit integer ({side}), got {shown}",
                   path, None)

    def _one_of_error(self, options: list, value: object, path: tuple, where: str) -> None:
        kinds = sorted({t for s in options if isinstance(s, dict) for t in _types(s.get("type"))} - {"null"})
        field = f'"{path[-1]}"' if path and isinstance(path[-1], str) else "value"
        if kinds == ["number", "string"]:
            expected, hint = "a quantity (a string like \"500m\" or \"1Gi\", or a number)", None
        elif kinds == ["integer", "string"]:
            expected, hint = "an integer or a string (like 8080 or \"http\")", None
        else:
            expected, hint = "exactly one of the allowed forms", None
        self.issue("schema.type", f"{field} in {where} must be {expected}, got {type_name(value)}{_show(value)}",
                   path, hint)


def _types(t: object) -> list[str]:
    if t is None:
        return []
    return [t] if isinstance(t, str) else list(t)  # type: ignore[arg-type]


def _equal(a: object, b: object) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return a == b


def explain(defs: dict[str, dict], root: str, doc: object,
            valid: Callable[[str, object], bool] | None = None) -> Iterator[tuple[str, str, tuple, str | None]]:
    """Every violation of ``$defs[root]`` by ``doc`` as ``(code, message, path, hint)``.

    ``valid(def_name, value)``, when given, is a fast exact check used to skip valid subtrees.
    """
    found: list[tuple[str, str, tuple, str | None]] = []

    def issue(code: str, message: str, path: tuple, hint: str | None = None) -> None:
        found.append((code, message, path, hint))

    _Explainer(defs, issue, valid).walk(defs[root], doc, (), root.rsplit(".", 1)[-1])
    return iter(found)
