"""Hypothesis properties of the merge: determinism, identity, idempotence, no duplicate keys."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from podc.errors import Diagnostics, Pos
from podc.merge import merge_all
from podc.merge.keys import KEYED_LISTS, list_key_fn
from podc.tree import MapNode, Origin, SeqNode, from_plain, iter_leaves, to_plain

names = st.sampled_from(["A", "B", "C", "D", "E"])
small_text = st.sampled_from(["", "1", "x", "y", "true", "0"])


def unique_by(items, key):
    seen, out = set(), []
    for it in items:
        k = key(it)
        if k not in seen:
            seen.add(k)
            out.append(it)
    return out


env_item = st.one_of(
    st.builds(lambda n, v: {"name": n, "value": v}, names, small_text),
    st.builds(lambda n, s: {"name": n, "valueFrom": {"secretKeyRef": {"name": s, "key": "k"}}}, names, st.sampled_from(["s1", "s2"])),
)
volume_item = st.one_of(
    st.builds(lambda n: {"name": n.lower(), "emptyDir": {}}, names),
    st.builds(lambda n, c: {"name": n.lower(), "persistentVolumeClaim": {"claimName": c}}, names, st.sampled_from(["p", "q"])),
    st.builds(lambda n: {"name": n.lower(), "configMap": {"name": "cm"}}, names),
)
toleration = st.builds(
    lambda k, e, s: {k_: v for k_, v in {"key": k, "operator": "Exists", "effect": e, "tolerationSeconds": s}.items() if v is not None},
    st.sampled_from(["gpu", "spot", "arm"]), st.sampled_from(["NoSchedule", "NoExecute"]), st.one_of(st.none(), st.integers(0, 100)),
)
port = st.builds(lambda p, proto: {"containerPort": p, "protocol": proto}, st.sampled_from([53, 80]), st.sampled_from(["TCP", "UDP"]))
labels = st.dictionaries(st.sampled_from(["app", "team", "tier", "env"]), st.one_of(small_text, st.none()), max_size=3)


@st.composite
def layers(draw):
    container = {"name": draw(st.sampled_from(["main", "side"]))}
    if draw(st.booleans()):
        container["image"] = draw(st.sampled_from(["a:1", "b:2"]))
    if draw(st.booleans()):
        container["env"] = unique_by(draw(st.lists(env_item, max_size=4)), lambda e: e["name"])
    if draw(st.booleans()):
        container["ports"] = unique_by(draw(st.lists(port, max_size=3)), lambda p: (p["containerPort"], p["protocol"]))
    if draw(st.booleans()):
        container["command"] = draw(st.lists(small_text, max_size=3))
    spec = {"containers": [container]}
    if draw(st.booleans()):
        spec["volumes"] = unique_by(draw(st.lists(volume_item, max_size=3)), lambda v: v["name"])
    if draw(st.booleans()):
        spec["tolerations"] = draw(st.lists(toleration, max_size=3))
    data = {"spec": {"template": {"spec": spec}}}
    if draw(st.booleans()):
        data["metadata"] = {"labels": draw(labels)}
    return data


def build(data, name):
    return from_plain(data, Origin(name, Pos(f"{name}.yaml", 1, 1)))


def fold(datas, mode="podc"):
    diags = Diagnostics()
    out = merge_all([(build(d, f"l{i}"), mode) for i, d in enumerate(datas)], diags)
    return out, diags


def canon(node):
    return json.dumps(to_plain(node), sort_keys=False)


@settings(max_examples=150, deadline=None)
@given(st.lists(layers(), min_size=1, max_size=4))
def test_merge_is_deterministic(datas):
    a, _ = fold(datas)
    b, _ = fold(datas)
    assert canon(a) == canon(b)


@settings(max_examples=150, deadline=None)
@given(st.lists(layers(), min_size=1, max_size=4))
def test_empty_layer_is_identity(datas):
    a, _ = fold(datas)
    b, _ = fold(datas + [{}])
    c, _ = fold([{}] + datas)
    assert canon(a) == canon(b) == canon(c)


@settings(max_examples=150, deadline=None)
@given(st.lists(layers(), min_size=1, max_size=3), layers())
def test_reapplying_a_layer_changes_nothing(datas, last):
    once, _ = fold(datas + [last])
    twice, _ = fold(datas + [last, last])
    assert canon(once) == canon(twice)


def _keyed_lists(node, field=None):
    if isinstance(node, MapNode):
        for k, v in node.items.items():
            yield from _keyed_lists(v, k)
    elif isinstance(node, SeqNode):
        if field in KEYED_LISTS or field == "tolerations":
            yield field, node
        for item in node.items:
            yield from _keyed_lists(item, None)


@settings(max_examples=150, deadline=None)
@given(st.lists(layers(), min_size=1, max_size=4))
def test_no_duplicate_keyed_items_and_one_volume_source(datas):
    out, diags = fold(datas)
    assert not diags.errors
    for field, seq in _keyed_lists(out):
        keyfn = list_key_fn(field, "podc")
        keys = [keyfn(item) for item in seq.items]
        assert len(keys) == len(set(keys)), (field, keys)
    for vol in to_plain(out)["spec"]["template"]["spec"].get("volumes", []):
        assert len(vol) == 2, vol  # name + exactly one source
    for c in to_plain(out)["spec"]["template"]["spec"]["containers"]:
        for e in c.get("env", []):
            assert not ("value" in e and "valueFrom" in e)


@settings(max_examples=100, deadline=None)
@given(st.lists(layers(), min_size=1, max_size=4))
def test_every_leaf_comes_from_a_layer_that_holds_it(datas):
    out, _ = fold(datas)
    for path, leaf in iter_leaves(out):
        assert leaf.origin.layer.startswith("l")
        index = int(leaf.origin.layer[1:])
        assert _holds(datas[index], leaf.value), (path, leaf.value, leaf.origin.layer)


def _holds(data, value) -> bool:
    if isinstance(data, dict):
        return any(_holds(v, value) for v in data.values())
    if isinstance(data, list):
        return any(_holds(v, value) for v in data)
    return data == value and type(data) is type(value)
