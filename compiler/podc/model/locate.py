"""Turn pydantic validation errors into located podc diagnostics.

pydantic reports an error as a ``loc`` tuple into the PLAIN data it validated. We walk the same
path through the positioned node tree to find the source position, skipping the segments that are
not keys of the data: union tags (``<emptyDir>``, see :func:`podc.model.common.tag`), union member
names (``str``, ``int``…) and ``[key]`` (a bad mapping key: reported at the key itself).
Several errors on one value (a smart union tried each member) become one diagnostic.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Iterable

from pydantic import BaseModel

from podc.errors import Diagnostics, Pos, did_you_mean
from podc.model.common import TAG_PREFIX, kind_of
from podc.model.directives import display_path
from podc.tree import MapNode, Node, ScalarNode, SeqNode

__all__ = ["report_errors", "locate", "allowed_fields"]

_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "int_parsing": "an integer",
    "bool_type": "a boolean (true or false)",
    "bool_parsing": "a boolean (true or false)",
    "float_type": "a number",
    "float_parsing": "a number",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "none_required": "null",
    "literal_error": None,  # built from ctx
}

_CUSTOM_CODES = {
    "podc_quantity": "quantity",
    "podc_volume_source": "volume-source",
    "podc_env_form": "env-form",
    "podc_env_source": "env-form",
    "podc_env_shape": "type",
    "podc_one_of": "one-of",
    "podc_name": "name",
    "podc_secret_unused": "secret",
    "podc_date": "value",
    "podc_empty": "value",
    "podc_version": "value",
    "union_tag_invalid": "one-of",
    "union_tag_not_found": "one-of",
}


class Located:
    __slots__ = ("node", "parent", "key", "path")

    def __init__(self, node: Node, parent: MapNode | None, key: str | None, path: list):
        self.node, self.parent, self.key, self.path = node, parent, key, path

    @property
    def pos(self) -> Pos:
        return self.node.origin.pos

    @property
    def key_pos(self) -> Pos:
        if self.parent is not None and self.key is not None:
            pos = self.parent.key_pos.get(self.key)
            if pos is not None:
                return pos
        return self.node.origin.pos


def _is_tag(seg: Any) -> bool:
    return isinstance(seg, str) and seg.startswith(TAG_PREFIX) and seg.endswith(">")


def locate(root: Node, loc: Iterable[Any]) -> tuple[Located, list]:
    """Follow ``loc`` through the tree; returns where it ended and the segments not resolved."""
    node, parent, key = root, None, None
    path: list = []
    rest: list = []
    for seg in loc:
        if _is_tag(seg) or seg == "[key]":
            continue
        if isinstance(node, MapNode) and isinstance(seg, str) and seg in node.items:
            parent, key, node = node, seg, node.items[seg]
            path.append(seg)
        elif isinstance(node, SeqNode) and isinstance(seg, int) and 0 <= seg < len(node.items):
            parent, key, node = None, None, node.items[seg]
            path.append(seg)
        else:
            rest.append(seg)
    return Located(node, parent, key, path), rest


def report_errors(errors: list[dict], root: Node, model: type[BaseModel], diags: Diagnostics, prefix: str) -> None:
    """Add one diagnostic per distinct problem in ``errors`` (pydantic ``.errors()``)."""
    merged_types: dict[tuple, tuple[Located, set[str], Any]] = {}
    for err in errors:
        loc = err["loc"]
        where, rest = locate(root, loc)
        etype = err["type"]
        path = display_path(where.path)
        if etype in _EXPECTED and etype != "literal_error" and not rest[-1:] == ["[key]"]:
            # Smart unions report one error per member: merge them into "expected A or B".
            slot = (id(where.node), path)
            if slot in merged_types:
                merged_types[slot][1].add(_EXPECTED[etype])
            else:
                merged_types[slot] = (where, {_EXPECTED[etype]}, err.get("input"))
            continue
        if "[key]" in loc:
            diags.add(f"{prefix}.name", f"invalid key {where.key!r}: {err['msg']}", where.key_pos, path=path)
            continue
        _one(err, etype, where, rest, path, model, diags, prefix)
    for where, expected, value in merged_types.values():
        if where.node.directive == "delete":
            continue  # reported by the directive check
        if "a number" in expected:
            expected.discard("an integer")
        ordered = sorted(expected, key=_expected_order)
        wanted = ordered[0] if len(ordered) == 1 else ", ".join(ordered[:-1]) + " or " + ordered[-1]
        hint = _type_hint(expected, value)
        diags.add(f"{prefix}.type", f"expected {wanted}, got {kind_of(value)}", where.pos, path=display_path(where.path),
                  hint=hint)


def _expected_order(text: str) -> tuple:
    order = ["a mapping", "a list", "a string", "an integer", "a number", "a boolean (true or false)", "null"]
    return (order.index(text) if text in order else len(order), text)


def _type_hint(expected: set[str], value: Any) -> str | None:
    if "a string" in expected and isinstance(value, (int, float, bool)):
        text = str(value).lower() if isinstance(value, bool) else repr(value)
        return f'quote it to make it a string: "{text}"'
    if ("an integer" in expected or "a number" in expected) and isinstance(value, str):
        return "write the number without quotes"
    if "a boolean (true or false)" in expected and isinstance(value, str):
        return "write true or false without quotes"
    if "a list" in expected and not isinstance(value, list):
        return "write a YAML list (one '- item' per line, or [a, b])"
    return None


def _one(err: dict, etype: str, where: Located, rest: list, path: str, model: type[BaseModel],
         diags: Diagnostics, prefix: str) -> None:
    loc = err["loc"]
    if etype == "extra_forbidden":
        field = where.key or str(loc[-1])
        allowed = allowed_fields(model, loc[:-1])
        guess = did_you_mean(field, allowed) if allowed else None
        if guess:
            hint = f"did you mean `{guess}`?"
        elif allowed:
            hint = "allowed here: " + ", ".join(allowed[:25]) + (", …" if len(allowed) > 25 else "")
        else:
            hint = None
        diags.add(f"{prefix}.unknown-field", f"unknown field `{field}`", where.key_pos, path=path, hint=hint)
        return
    if etype == "missing":
        field = str(loc[-1])
        diags.add(f"{prefix}.missing-field", f"missing required field `{field}`", where.pos,
                  path=display_path(where.path + [field]))
        return
    if etype == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        value = err.get("input")
        choices = [c.strip().strip("'") for c in expected.replace(" or ", ",").split(",") if c.strip()]
        guess = did_you_mean(str(value), choices) if isinstance(value, str) else None
        diags.add(f"{prefix}.value", f"expected {expected}, got {_show(value)}", where.pos, path=path,
                  hint=f"did you mean `{guess}`?" if guess else None)
        return
    if etype == "podc_volume_source":
        _volume_source(where, path, diags, prefix)
        return
    if etype in ("podc_env_form", "podc_env_source"):
        _one_of(where, path, diags, prefix, "env-form", err["msg"],
                "e.g. FOO: bar, or FOO: {secretKeyRef: {name: my-secret, key: token}}")
        return
    if etype in ("greater_than_equal", "less_than_equal"):
        _bound(err, where, path, diags, prefix)
        return
    code = _CUSTOM_CODES.get(etype, "invalid")
    hint = None
    if etype == "podc_quantity":
        hint = _quantity_hint(err.get("input"))
    elif etype in ("podc_one_of", "union_tag_not_found", "union_tag_invalid"):
        _one_of(where, path, diags, prefix, "one-of", err["msg"], None)
        return
    diags.add(f"{prefix}.{code}", err["msg"], where.pos, path=path, hint=hint)


def _bound(err: dict, where: Located, path: str, diags: Diagnostics, prefix: str) -> None:
    """An integer outside its Kubernetes range (int32/int64 format, file mode, port)."""
    ctx = err.get("ctx", {})
    value = err.get("input")
    if "ge" in ctx:
        low = ctx["ge"]
        msg = f"must be 0 or more, got {value}" if low == 0 else f"must be at least {low}, got {value}"
    else:
        msg = f"must be at most {ctx.get('le')}, got {value}"
    hint = None
    if where.key in ("mode", "defaultMode"):
        hint = "a file mode is 0 to 0777 (511 in decimal); 644 is decimal: write 0644 or 0o644 (octal, as kubectl reads it) or 420"
    diags.add(f"{prefix}.value", msg, where.pos, path=path, hint=hint)


_BYTE_UNITS = {"k": "k", "m": "M", "g": "G", "t": "T", "p": "P", "e": "E"}


def _quantity_hint(value: Any) -> str:
    """Suggest the Kubernetes spelling of byte units people write the usual way (2GB, 512MB, 1KB)."""
    from podc.kube.quantity import is_quantity

    if isinstance(value, str) and len(value) > 2 and value[-1] in "bB" and value[-2].lower() in _BYTE_UNITS:
        unit = _BYTE_UNITS[value[-2].lower()]
        number = value[:-2]
        options = [q for q in (number + unit, number + unit.upper() + "i") if is_quantity(q)]
        if options:
            return f'Kubernetes writes bytes without "B": {" or ".join(options)}'
    return 'for example cpu: "500m" or "2", memory: "512Mi" or "1.5Gi"'


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else kind_of(value)


def _one_of(where: Located, path: str, diags: Diagnostics, prefix: str, code: str, msg: str, hint: str | None) -> None:
    """A mapping that must set exactly one of several keys: name the ones it set."""
    from podc.model.container import ENV_FORMS

    node = where.node
    if not isinstance(node, MapNode):
        diags.add(f"{prefix}.{code}", f"{msg}; got {kind_of(_plain(node))}", where.pos, path=path, hint=hint)
        return
    candidates = ENV_FORMS + ("configMapRef", "secretRef")
    present = [k for k in node.items if k in candidates]
    if len(present) > 1:
        first = present[0]
        related = [(node.key_pos.get(first, node.origin.pos), f"`{first}` set here")]
        diags.add(f"{prefix}.{code}", f"{msg}; found `{first}` and `{present[1]}`",
                  node.key_pos.get(present[1], node.origin.pos), path=path, hint=hint, related=related)
        return
    unknown = [k for k in node.items if k not in candidates]
    guess = next((g for g in (did_you_mean(k, candidates) for k in unknown) if g), None)
    diags.add(f"{prefix}.{code}", msg + ("; found none" if not present else ""), where.pos, path=path,
              hint=f"did you mean `{guess}`?" if guess else hint)


def _plain(node: Node) -> Any:
    if isinstance(node, ScalarNode):
        return node.value
    return {} if isinstance(node, MapNode) else []


def _volume_source(where: Located, path: str, diags: Diagnostics, prefix: str) -> None:
    from podc.model.volumes import VOLUME_SOURCES

    node = where.node
    name = where.key or path
    if not isinstance(node, MapNode):
        diags.add(f"{prefix}.type", f"volume `{name}`: expected a mapping, got {kind_of(_plain(node))}",
                  where.pos, path=path)
        return
    sources = [k for k in node.items if k in VOLUME_SOURCES]
    if len(sources) > 1:
        first, *others = sources
        for other in others:
            diags.add(f"{prefix}.volume-source",
                      f"volume `{name}` has two sources: `{first}` and `{other}`",
                      node.key_pos.get(other, node.origin.pos), path=path,
                      related=[(node.key_pos.get(first, node.origin.pos), f"`{first}` set here")],
                      hint="a volume has exactly one source; use two volumes, or remove one source")
        return
    unknown = [k for k in node.items if k not in ("mountPath", "readOnly", "subPath", "mounts")]
    guess = next((g for g in (did_you_mean(k, VOLUME_SOURCES) for k in unknown) if g), None)
    hint = (f"did you mean `{guess}`?" if guess
            else "add a source, e.g. emptyDir: {}, configMap: {name: …}, persistentVolumeClaim: {claimName: …}")
    diags.add(f"{prefix}.volume-source", f"volume `{name}` has no source", where.pos, path=path, hint=hint)


# -- the allowed fields at a loc (for "did you mean") ------------------------------------------

def allowed_fields(model: Any, loc: Iterable[Any]) -> list[str]:
    tp: Any = model
    for seg in loc:
        tp = _descend(tp, seg)
        if tp is None:
            return []
    for candidate in _members(tp):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return list(candidate.model_fields)
    return []


def _strip(tp: Any) -> tuple[Any, tuple]:
    meta: tuple = ()
    while typing.get_origin(tp) is typing.Annotated:
        meta += tuple(tp.__metadata__)
        tp = tp.__origin__
    return tp, meta


def _members(tp: Any) -> list[Any]:
    tp, _ = _strip(tp)
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        out = []
        for arg in typing.get_args(tp):
            out.extend(_members(arg))
        return out
    return [tp]


def _tagged_member(tp: Any, seg: str) -> Any:
    """The member of a (possibly nested, Annotated) union carrying ``Tag(seg)``."""
    inner, meta = _strip(tp)
    if any(getattr(m, "tag", None) == seg for m in meta):
        return inner
    origin = typing.get_origin(inner)
    if origin is typing.Union or origin is types.UnionType:
        for arg in typing.get_args(inner):
            found = _tagged_member(arg, seg)
            if found is not None:
                return found
    return None


def _descend(tp: Any, seg: Any) -> Any:
    tp, _ = _strip(tp)
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = typing.get_args(tp)
        if _is_tag(seg):
            return _tagged_member(tp, seg)
        for arg in args:
            found = _descend(arg, seg)
            if found is not None:
                return found
        return None
    if _is_tag(seg):
        return tp
    if seg == "[key]":
        return tp
    if origin is list and isinstance(seg, int):
        return typing.get_args(tp)[0]
    if origin is dict and isinstance(seg, str):
        return typing.get_args(tp)[1]
    if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(seg, str):
        field = tp.model_fields.get(seg)
        if field is None:
            return None
        ann = field.annotation
        return typing.Annotated[ann, *field.metadata] if field.metadata else ann
    return None
