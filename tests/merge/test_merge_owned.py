"""A chain of merges with ``owned`` (in-place updates, kept key indexes) gives exactly what the pure
merge gives: same values, order, provenance and diagnostics, and the inputs stay untouched."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from podc.errors import Diagnostics
from podc.merge import merge, merge_all
from podc.tree import MapNode, ScalarNode, SeqNode

from test_merge_properties import build, layers, names


def shape(node):
    """Values, order, directives and every node's origin and history."""
    if isinstance(node, MapNode):
        return ["map", node.origin, node.overridden, [(k, shape(v)) for k, v in node.items.items()],
                sorted(node.key_pos.items())]
    if isinstance(node, SeqNode):
        return ["seq", node.origin, node.overridden, [shape(v) for v in node.items]]
    assert isinstance(node, ScalarNode)
    return ["scalar", node.value, node.origin, node.overridden, node.directive]


def diag_list(diags: Diagnostics):
    return [(d.code, d.message, str(d.pos), d.path, d.severity) for d in diags.items]


deleting_layer = st.builds(
    lambda env, vols: {"spec": {"template": {"spec": {
        "containers": [{"name": "main", "env": [{"name": n, "$patch": "delete"} for n in sorted(set(env))]}],
        "volumes": [{"name": n.lower(), "$patch": "delete"} for n in sorted(set(vols))]}}}},
    st.lists(names, max_size=2), st.lists(names, max_size=2))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(layers(), layers(), deleting_layer), min_size=1, max_size=8))
def test_owned_chain_equals_pure_merge(datas):
    patches = [build(d, f"l{i}") for i, d in enumerate(datas)]
    before = [json.dumps(shape(p), default=str) for p in patches]
    pure_diags, owned_diags = Diagnostics(), Diagnostics()
    pure = merge_all([(p, "podc") for p in patches], pure_diags)
    tree, owned = None, {}
    for p in patches:
        tree = merge(tree, p, "podc", owned_diags, owned)
    assert shape(tree) == shape(pure)
    assert diag_list(owned_diags) == diag_list(pure_diags)
    assert [json.dumps(shape(p), default=str) for p in patches] == before  # inputs not changed


def test_a_tree_shared_before_the_chain_is_never_changed():
    first = build({"spec": {"template": {"spec": {"containers": [{"name": "main", "env": [{"name": "A", "value": "1"}]}]}}}}, "a")
    second = build({"spec": {"template": {"spec": {"containers": [{"name": "main", "env": [{"name": "B", "value": "2"}]}]}}}}, "b")
    kept = merge(None, first, "podc", Diagnostics(), {})
    snapshot = shape(kept)
    owned: dict = {}  # a new chain from a kept tree: it does not own the kept tree's nodes
    out = merge(kept, second, "podc", Diagnostics(), owned)
    out = merge(out, second, "podc", Diagnostics(), owned)
    assert shape(kept) == snapshot
    env = out.items["spec"].items["template"].items["spec"].items["containers"].items[0].items["env"]
    assert [e.items["name"].value for e in env.items] == ["A", "B"]
