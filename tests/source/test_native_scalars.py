"""The fast reader types common plain scalars itself (so most reads never import ruamel): every
value it decides must be exactly what ruamel's YAML 1.2 safe loader gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.nodes import ScalarNode

from podc.source import fastyaml
from podc.source.fastyaml import RESOLVED_FIRST, native_scalar

_yaml = YAML(typ="safe", pure=False)


def ruamel_value(text: str):
    tag = str(_yaml.resolver.resolve(ScalarNode, text, (True, False)))
    if tag.endswith((":str", ":timestamp", ":binary")):
        return text
    return _yaml.constructor.construct_object(ScalarNode(tag, text), deep=True)


def same(text: str) -> None:
    mine = native_scalar(text)
    if mine is fastyaml._UNDECIDED:
        return
    theirs = ruamel_value(text)
    assert (type(mine), mine) == (type(theirs), theirs), text


def test_first_characters_are_ruamels():
    assert RESOLVED_FIRST == frozenset(k for k in _yaml.resolver.versioned_resolver if k)


def test_common_scalars():
    for text in ["true", "True", "TRUE", "false", "False", "FALSE", "tRue", "t", "yes", "no", "on", "off",
                 "null", "Null", "NULL", "nULL", "n", "~", "~x", "none", "0", "-0", "+0", "1", "-12", "+7",
                 "1000", "007", "0o17", "0x1F", "0b11", "1_000", "1.5", "1e3", ".inf", "-", "+", "12:30",
                 "2026-01-02", "2026-01-02T10:00:00Z", "99999999999999999999999", "500m", "1Gi", "1Ti", "2e", "1.0.0", "-.5", "tolerations", "fsGroup", "nginx:1.2"]:
        same(text)
    assert native_scalar("true") is True and native_scalar("~") is None and native_scalar("-12") == -12
    assert native_scalar("007") is fastyaml._UNDECIDED and native_scalar("1.5") is fastyaml._UNDECIDED
    assert native_scalar("500m") == "500m" and native_scalar("1Gi") == "1Gi"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="tTfFnN~0123456789-+_.xobeE:lsruaGmMiKZ ", min_size=1, max_size=8))
def test_generated_scalars(text):
    same(text)


def test_unusual_characters_are_exactly_those_outside_the_accepted_ranges():
    import re

    accepted = re.compile("[\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
    text = "".join(map(chr, range(0x110000)))
    unusual = {m.start() for m in fastyaml._UNUSUAL.finditer(text)}
    assert unusual == {m.start() for m in re.finditer(f"(?!{accepted.pattern}).", text, re.S)}
