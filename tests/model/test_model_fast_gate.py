"""The fast gate (podc.model.fast / podc.model.gate) never accepts what the pydantic models reject.

Corpus: every layer and project in ``examples/``, every YAML document written in the tests of
``tests/model`` and ``tests/normalize`` (valid and invalid), and mutations of the valid ones
(wrong types, nulls, unknown keys, removed keys, bad quantities/names/dates, two volume sources,
directives in wrong places), plus hypothesis-generated values at random places.
"""

from __future__ import annotations

import ast
import copy
import textwrap
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podc.errors import Diagnostics, PodcError, Pos
from podc.model import validate_layer, validate_project
from podc.model.gate import layer_fast_path, project_fast_path
from podc.source import load_file, load_text
from podc.tree import MapNode, Origin, from_plain, to_plain

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = Origin("test", Pos("mutant.yaml", 1, 1))


def _is_project(node: Any) -> bool:
    kind = node.items.get("kind") if isinstance(node, MapNode) else None
    return getattr(kind, "value", None) == "Project"


def _docs_in_tests() -> Iterator[tuple[str, Any]]:
    for folder in ("tests/model", "tests/normalize"):
        for path in sorted((ROOT / folder).glob("*.py")):
            for const in ast.walk(ast.parse(path.read_text())):
                if not (isinstance(const, ast.Constant) and isinstance(const.value, str)
                        and (": " in const.value or ":\n" in const.value)):
                    continue
                try:
                    nodes = load_text(textwrap.dedent(const.value), f"{path.name}:{const.lineno}", layer="t")
                except PodcError:
                    continue
                for node in nodes:
                    if isinstance(node, MapNode):
                        yield f"{path.name}:{const.lineno}", node


def _docs_in_examples() -> Iterator[tuple[str, Any]]:
    for path in sorted((ROOT / "examples").rglob("*.yaml")):
        if "build" in path.parts or path.name == "run_config.yaml":
            continue  # compiled manifests and Dagster run configs, not layers
        for node in load_file(path, layer="t"):
            if isinstance(node, MapNode):
                yield str(path.relative_to(ROOT)), node


# Dagster's own configuration in the Dagster example (instance, run config) is not a podc layer.
_DAGSTER_FILES = ("examples/dagster_project/dagster.yaml", "examples/dagster_project/run_config.yaml")
CORPUS = [d for d in _docs_in_examples() if d[0] not in _DAGSTER_FILES] + list(_docs_in_tests())


def full_verdict(node: Any) -> bool:
    validate = validate_project if _is_project(node) else validate_layer
    return validate(node, Diagnostics()) is not None


def fast_verdict(node: Any) -> bool:
    return project_fast_path(node) if _is_project(node) else layer_fast_path(node)


def test_corpus_is_substantial():
    assert len(CORPUS) >= 100, len(CORPUS)
    assert sum(_is_project(n) for _, n in CORPUS) >= 5


def test_every_example_layer_takes_the_fast_path():
    """The point of the gate: real, valid layers never build the models."""
    examples = [(name, n) for name, n in CORPUS if name.startswith("examples/")]
    assert len(examples) >= 10
    slow = [name for name, node in examples if not fast_verdict(node)]
    assert not slow, slow


def test_gate_agrees_with_models_on_the_corpus():
    unsure, valid = [], 0
    for name, node in CORPUS:
        fast, full = fast_verdict(node), full_verdict(node)
        assert not fast or full, f"fast gate accepted {name}, which the models reject"
        valid += full
        if full and not fast:
            unsure.append(name)
    # "unsure" (valid, but the gate defers to the models) must stay rare
    assert valid >= 40 and len(unsure) <= valid // 10, (valid, unsure)


# -- mutations ------------------------------------------------------------------------------

BAD_VALUES: list[Any] = [None, "3", 3, -1, 0, 1.5, True, False, "", "  ", "lots", "1.5.5Gi", "Bad_Name!", "a" * 260,
                         [], ["x"], [None], [1], {}, {"x": 1}, {"name": "x"}, {1: "x"}, "2024-02-30", "1.33",
                         "restricted:v1.33", "emptyDir", {"emptyDir": {}}, {"emptyDir": {}, "secret": {"secretName": "s"}},
                         {"$patch": "delete"}, {"value": "x", "valueFrom": {}}]


def _paths(data: Any, prefix: tuple = ()) -> Iterator[tuple]:
    if isinstance(data, dict):
        for k, v in data.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


def _parent(data: Any, path: tuple) -> Any:
    for seg in path[:-1]:
        data = data[seg]
    return data


def _mutants(data: dict, max_paths: int = 40) -> Iterator[dict]:
    paths = list(_paths(data))
    for path in paths[::max(1, len(paths) // max_paths)]:  # evenly spread, to bound the run time
        for value in BAD_VALUES:  # wrong types, nulls, bad quantities/names/dates, two sources, ...
            mutant = copy.deepcopy(data)
            _parent(mutant, path)[path[-1]] = copy.deepcopy(value)
            yield mutant
        mutant = copy.deepcopy(data)
        parent = _parent(mutant, path)
        if isinstance(parent, dict):
            del parent[path[-1]]  # a required key gone
            yield mutant
        target = _parent(copy.deepcopy(data), path + ("x",))
        if isinstance(target, dict):
            for key, value in (("bogus", 1), ("emptyDir", {}), ("valueFrom", {"fieldRef": {"fieldPath": "x"}}),
                               ("value", "v"), ("mountPath", None), ("env", {"K": "k"}), ("items", [])):
                mutant = copy.deepcopy(data)
                _parent(mutant, path + ("x",))[key] = value
                yield mutant


def _valid_plain_docs() -> list[tuple[str, dict, bool]]:
    out = []
    for name, node in CORPUS:
        if full_verdict(node):
            out.append((name, to_plain(node), _is_project(node)))
    return out


VALID_DOCS = _valid_plain_docs()


def _node(data: dict) -> Any:
    diags = Diagnostics()
    node = from_plain(data, ORIGIN, diags)
    return None if diags.errors else node


def _agree(data: dict, project: bool) -> tuple[bool, bool]:
    node = _node(data)
    if node is None:
        return False, False
    fast = project_fast_path(node) if project else layer_fast_path(node)
    full = (validate_project if project else validate_layer)(node, Diagnostics()) is not None
    assert not fast or full, f"fast gate accepted a document the models reject: {data!r}"
    return fast, full


@pytest.mark.parametrize("index", range(0, len(VALID_DOCS), max(1, len(VALID_DOCS) // 40)))
def test_gate_agrees_with_models_on_mutants(index):
    name, data, project = VALID_DOCS[index]
    cases = fast_valid = full_valid = 0
    for mutant in _mutants(data):
        fast, full = _agree(mutant, project)
        cases += 1
        fast_valid += fast
        full_valid += full
    assert cases > 0, name
    # some mutants stay valid (e.g. null deletes a field) and the gate still accepts most of those
    assert fast_valid >= full_valid * 0.8 - 1, (name, fast_valid, full_valid)


def test_directives_in_wrong_places_go_to_the_models():
    for text in ("!replace\nimage: x\n", "command: [a, !delete b]\n", "args:\n  - {$patch: delete, x: 1}\n",
                 "secrets: !replace {s: {mountPath: /s}}\n", "tolerations:\n  - !delete x\n"):
        node = load_text(text, "d.yaml", layer="t")[0]
        assert not layer_fast_path(node), text
        assert validate_layer(node, Diagnostics()) is None, text


def test_kubernetes_object_goes_to_the_models():
    node = load_text("apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\n", "k.yaml", layer="t")[0]
    assert not layer_fast_path(node)


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False, width=16),
                     st.sampled_from(["", "x", "500m", "1Gi", "main", "Bad Name", "A_B", "1.33", "2024-01-01",
                                      "Never", "Exists", "NoSchedule", "RuntimeDefault", "podc/v1"]))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["name", "value", "key", "emptyDir", "secretName", "mountPath", "cpu", "x",
                                     "valueFrom", "fieldRef", "type", "operator", "effect"]), inner, max_size=3)),
    max_leaves=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=st.integers(0, max(0, len(VALID_DOCS) - 1)), where=st.integers(0, 10_000), value=_values)
def test_gate_agrees_with_models_on_random_values(doc, where, value):
    name, data, project = VALID_DOCS[doc]
    paths = list(_paths(data))
    if not paths:
        return
    path = paths[where % len(paths)]
    mutant = copy.deepcopy(data)
    _parent(mutant, path)[path[-1]] = value
    _agree(mutant, project)


def test_without_the_schema_every_document_goes_to_the_models(monkeypatch, tmp_path):
    from podc.model import fast

    monkeypatch.setattr(fast, "_COMPILER", None)
    monkeypatch.setattr(fast, "_ROOTS", {})
    monkeypatch.setattr("podc.resources.data_path", lambda kind: tmp_path)  # holds no podc-v1.json
    name, node = next((n, d) for n, d in CORPUS if n.startswith("examples/") and not _is_project(d))
    assert full_verdict(node)
    assert not layer_fast_path(node)
