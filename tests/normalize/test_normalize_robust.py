"""Arbitrary input never crashes validation or normalisation: it gives diagnostics or patches."""

from hypothesis import HealthCheck, given, settings, strategies as st

from podc.errors import Diagnostics, Pos
from podc.model import LayerSpec, validate_layer
from podc.normalize import normalize_layer
from podc.tree import MapNode, Origin, from_plain

FIELDS = sorted(LayerSpec.model_fields) + ["emptyDir", "secretKeyRef", "mountPath", "value", "name", "key"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False, width=16),
                    st.sampled_from(["", "x", "500m", "1Gi", "main", "/p", "Always", "BAD=NAME", "delete", "replace"]))
KEYS = st.one_of(st.sampled_from(FIELDS), st.sampled_from(["A", "b.c", "fetch", "$patch"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(KEYS, inner, max_size=4)), max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=5))
def test_random_layers_give_diagnostics_or_patches(data):
    diags = Diagnostics()
    node = from_plain(data, Origin("fuzz", Pos("fuzz.yaml", 1, 1)), diags)
    if diags.errors:  # a bad $patch value: reported by the tree builder, not our concern here
        return
    patches = normalize_layer(node, diags)
    assert bool(patches) != bool(diags.errors)
    for d in diags:
        assert d.code.startswith("layer.") and d.message
    for tree, mode in patches:
        assert isinstance(tree, MapNode) and mode in ("podc", "smp")
    again = Diagnostics()
    assert (validate_layer(node, again) is None) == bool(again.errors)
