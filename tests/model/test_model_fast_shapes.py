"""The fast gate's compiled shortcuts (podc.model.fast) keep JSON-schema semantics: ``oneOf``/``anyOf``
run only the branches a value's type (and, for closed mappings, a required key) allows, and the
fused object/array/range/enum checks answer as the plain keywords would."""

from __future__ import annotations

from podc.model.fast import _Compiler

DEFS = {
    "A": {"type": "object", "additionalProperties": False, "required": ["a"],
          "properties": {"a": {"type": "string"}, "shared": {"type": "integer"}}},
    "B": {"type": "object", "additionalProperties": False, "required": ["b"],
          "properties": {"b": {"type": "string"}, "shared": {"type": "integer"}}},
    "Open": {"type": "object", "properties": {"a": {"type": "string"}}},
    "Nums": {"anyOf": [{"type": "integer"}, {"type": "number"}]},
}


def check(schema):
    return _Compiler(DEFS).compile(schema)


def test_one_of_counts_every_passing_branch():
    one = check({"oneOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/B"}, {"type": "string"}]})
    assert one({"a": "x"}) and one({"b": "x", "shared": 1}) and one("s")
    assert not one({"a": "x", "b": "y"})  # each closed branch rejects the other's key
    assert not one({"shared": 1})  # no required key: no branch
    assert not one(3) and not one(None) and not one(("a",))
    # an open branch overlapping a closed one: both pass, so oneOf fails
    both = check({"oneOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/Open"}]})
    assert not both({"a": "x"}) and both({"a": "x", "other": 1})
    # number and integer overlap on ints
    nums = check({"oneOf": [{"type": "integer"}, {"type": "number"}]})
    assert not nums(3) and nums(1.5) and not nums(True)


def test_any_of_filters_without_changing_the_answer():
    any_ = check({"anyOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/B"}, {"$ref": "#/$defs/Nums"}, {"type": "null"}]})
    assert any_(None) and any_({"a": "x"}) and any_({"b": "y"}) and any_(2) and any_(2.5)
    assert not any_({"a": 1}) and not any_({}) and not any_("s") and not any_(True) and not any_([1])
    simple = check({"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}]})
    assert simple("x") and simple(1) and simple(False) and not simple(None) and not simple(1.5)


def test_fused_checks_keep_strict_types():
    rng = check({"type": "integer", "minimum": 0, "maximum": 10})
    assert rng(0) and rng(10) and not rng(11) and not rng(-1) and not rng(True) and not rng(5.0) and not rng("5")
    enum = check({"type": "string", "enum": ["x", "y"]})
    assert enum("x") and not enum("z") and not enum(None)
    obj = check({"type": "object", "additionalProperties": {"type": "string"}, "required": ["k"]})
    assert obj({"k": "v"}) and not obj({"j": "v"}) and not obj({1: "v", "k": "v"}) and not obj([]) and not obj(None)
    untyped = check({"properties": {"a": {"type": "string"}}})  # no type keyword: other types pass
    assert untyped(3) and untyped({"a": "x"}) and not untyped({"a": 1})
    arr = check({"type": "array", "items": {"type": "integer"}})
    assert arr([1, 2]) and arr([]) and not arr([1, "2"]) and not arr((1,)) and not arr({})
