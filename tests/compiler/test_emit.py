"""The hand-written YAML emitter: every value reads back as the same data (YAML 1.2 and 1.1)."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from podc.emit import to_json, to_yaml


def load12(text: str):
    return YAML(typ="safe", pure=True).load(text)


def load11(text: str):
    y = YAML(typ="safe", pure=True)
    y.version = (1, 1)
    return y.load(io.StringIO(text))


TRICKY = [
    "", " ", "true", "True", "FALSE", "yes", "No", "on", "OFF", "y", "N", "null", "Null", "~", "0", "1", "-1",
    "0755", "0x1F", "1e3", "1E3", "1.5", ".5", "+1", "1_000", "1:20", "2026-11-24", "2026-11-24T10:00:00Z",
    ".inf", "-.inf", ".nan", "<<", "=", "-", "--", "--epochs=3", "-v", "- x", "a: b", "a:b", "a #b", "a#b", "#x",
    "@x", "`x", "!x", "&x", "*x", "|", ">", "%x", "?x", "[x]", "{x}", "x,y", "'q'", '"q"', "trailing ", " leading",
    "tab\there", "line1\nline2", "line1\nline2\n", "\nstarts", "ends\n\n", "trail \nspace", "uni ✓ é", "\u2028",
    "\x00nul", "500m", "1.5Gi", "2Ki", "100M", "5E", "1e", "nvidia.com/gpu", "app.kubernetes.io/name",
    "registry.example.com/ml/x:2.4.1", "$(VAR)", "echo a, b", "x:", "x: ", "until nc -z db 5432; do sleep 2; done",
]


@pytest.mark.parametrize("s", TRICKY)
def test_tricky_strings_round_trip_as_strings(s):
    data = {"k": s, "list": [s], s or "empty": 1}
    text = to_yaml(data)
    assert load12(text) == data, text
    assert load11(text) == data, text


def test_scalars_and_nesting_round_trip():
    data = {"a": 1, "b": -2, "c": 1.5, "d": 1e20, "e": True, "f": False, "g": None, "h": [], "i": {},
             "j": [[1, 2], [], {}, {"x": [{"y": None}]}], "k": 0.0001, "l": float("inf")}
    text = to_yaml(data)
    assert load12(text) == data
    assert load11(text) == data


def test_block_style_and_order_preserved():
    text = to_yaml({"z": 1, "a": {"b": [1, {"name": "x", "v": "w"}]}})
    assert text == "z: 1\na:\n  b:\n    - 1\n    - name: x\n      v: w\n"


def test_multiline_uses_literal_block():
    text = to_yaml({"script": "set -e\necho hi\n"})
    assert "script: |\n  set -e\n  echo hi\n" in text


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12))
json_data = st.recursive(json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                               st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                         max_leaves=20)


@settings(max_examples=120, deadline=None)
@given(st.dictionaries(st.text(max_size=8), json_data, max_size=5))
def test_any_json_like_data_round_trips(data):
    text = to_yaml(data)
    assert load12(text) == data, text
    assert load11(text) == data, text


def test_json_output_keeps_order():
    assert to_json({"b": 1, "a": "é"}) == '{\n  "b": 1,\n  "a": "é"\n}\n'


def test_go_yaml_reads_the_output_as_written(tmp_path):
    """kubectl's YAML reader (go-yaml via kustomize) sees exactly the data we emitted."""
    import shutil
    import subprocess

    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not on PATH")
    data = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "tricky"},
            "data": {f"k{i}": s for i, s in enumerate(t for t in TRICKY if "\x00" not in t and t not in ("<<", "="))}}
    # ("<<" and "=": kubectl re-emits them unquoted, a bug of its own writer, not of what it read)
    (tmp_path / "cm.yaml").write_text(to_yaml(data), encoding="utf-8")
    (tmp_path / "kustomization.yaml").write_text("resources: [cm.yaml]\n")
    out = subprocess.run([kubectl, "kustomize", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert load12(out.stdout) == data


def test_mapping_and_sequence_subclasses():
    from collections import OrderedDict

    text = to_yaml(OrderedDict(a=OrderedDict(b=(1, 2)), c=[OrderedDict(d="e")]))
    assert load12(text) == {"a": {"b": [1, 2]}, "c": [{"d": "e"}]}
