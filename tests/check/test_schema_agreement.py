"""The compiled validator agrees with the reference implementation (``jsonschema``).

For thousands of mutated documents (valid samples and the vendored pod-security fixtures, with
values swapped for wrong types, keys renamed, added or dropped) the generated predicate gives
jsonschema's verdict, and the explainer reports exactly jsonschema's failing paths.
"""

from __future__ import annotations

import copy
import glob
import os
import random

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from podc.check.schema import schema_document, validator_for
from podc.check.schema_explain import explain
from test_schema_samples import all_samples

VERSIONS = ["1.29", "1.33", "1.37"]
# Integers at and just past the int32/int64 edges: the API server (and so the checker) enforces
# ``format: int32/int64`` bounds.
EDGE_INTS = [2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**63 - 1, 2**63, -(2**63) - 1, 1e20, 99999999999999999999]
POOL = [None, "", "x", "500m", "1Gi", 0, 7, -1, 2.0, 1.5, True, False, [], {}, ["a"], [1], {"a": "b"}, {"a": 1},
        [{}], [{"name": "x"}], 2**31, -(2**31) - 1, 2**63, 1e20]
FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "pod-security")


def _int_format(low: int, high: int):
    def check(value: object) -> bool:
        # Like every format, it only constrains the values it is about (numbers, not bools).
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return True
        return low <= value <= high
    return check


# jsonschema ignores ``format`` unless given a checker; Kubernetes enforces these two.
FORMATS = jsonschema.FormatChecker(formats=())
FORMATS.checks("int32")(_int_format(-(2**31), 2**31 - 1))
FORMATS.checks("int64")(_int_format(-(2**63), 2**63 - 1))


def reference(version: str, root: str) -> jsonschema.Draft202012Validator:
    doc = schema_document(version)
    return jsonschema.Draft202012Validator({"$defs": doc["$defs"], "$ref": f"#/$defs/{root}"},
                                           format_checker=FORMATS)


_REFERENCES: dict = {}


def reference_paths(version: str, root: str, doc: object) -> set[tuple]:
    key = (version, root)
    if key not in _REFERENCES:
        _REFERENCES[key] = reference(version, root)
    paths: set[tuple] = set()
    for err in _REFERENCES[key].iter_errors(doc):
        path = tuple(err.absolute_path)
        if err.validator == "additionalProperties" and err.validator_value is False:
            props = err.schema.get("properties", {})
            paths.update(path + (k,) for k in err.instance if k not in props)
        else:
            paths.add(path)
    return paths


def ours(version: str, doc: dict) -> tuple[str, bool, set[tuple]]:
    v = validator_for(version)
    root = v._kinds[f"{doc['apiVersion']}/{doc['kind']}"]
    verdict = v._predicate(root)(doc)
    paths = {path for _code, _msg, path, _hint in explain(v._defs, root, doc)}
    # The explainer that skips subtrees the compiled predicates accept must report the same.
    skipping = {path for _code, _msg, path, _hint in explain(v._defs, root, doc, v._valid)}
    assert skipping == paths
    return root, verdict, paths


def locations(node: object, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(locations(v, path + (k,)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(locations(v, path + (i,)))
    return out


def get(doc: object, path: tuple) -> object:
    for p in path:
        doc = doc[p]  # type: ignore[index]
    return doc


def mutate(doc: dict, rng: random.Random) -> dict:
    doc = copy.deepcopy(doc)
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        paths = [p for p in locations(doc) if p and p[:1] not in (("apiVersion",), ("kind",))]
        if not paths:
            break
        path = rng.choice(paths)
        parent, last = get(doc, path[:-1]), path[-1]
        action = rng.randrange(5)
        if action == 0:
            parent[last] = copy.deepcopy(rng.choice(POOL))
        elif action == 1 and isinstance(parent, dict):
            parent[str(last) + rng.choice(["x", "s", "_"])] = parent.pop(last)
        elif action == 2 and isinstance(parent, dict):
            del parent[last]
        elif action == 3:
            parent[last] = [parent[last]]
        elif isinstance(parent, dict):
            parent[rng.choice(["unknownField", "name", "image", "value", "spec", "cpu"])] = copy.deepcopy(rng.choice(POOL))
    return doc


def fixture_pods(version: str, limit: int) -> list[dict]:
    from ruamel.yaml import YAML

    files = sorted(glob.glob(os.path.join(FIXTURES, "*", f"v{version}", "*", "*.yaml")))[:limit]
    yaml = YAML(typ="safe")
    docs = []
    for f in files:
        with open(f) as fh:
            docs.append(yaml.load(fh))
    return docs


@pytest.mark.parametrize("version", VERSIONS)
def test_valid_samples_and_fixtures_agree(version):
    docs = all_samples() + fixture_pods(version, 150)
    assert len(docs) > 7
    for doc in docs:
        root, verdict, paths = ours(version, doc)
        assert verdict is True, doc
        assert paths == reference_paths(version, root, doc) == set()


@pytest.mark.parametrize("version", VERSIONS)
def test_mutated_documents_agree(version):
    rng = random.Random(f"podc-{version}")
    bases = all_samples() + fixture_pods(version, 40)
    invalid = 0
    for i in range(900):
        doc = mutate(rng.choice(bases), rng)
        root, verdict, paths = ours(version, doc)
        expected = reference_paths(version, root, doc)
        assert verdict is (not expected), (doc, expected)
        assert paths == expected, (doc, paths, expected)
        invalid += not verdict
    # The mutations must exercise both outcomes, or the test proves nothing.
    assert 200 < invalid < 880


@pytest.mark.parametrize("version", ["1.29", "1.37"])
def test_integer_edges_agree_everywhere(version):
    """Every integer in the samples, set to each int32/int64 edge, gets jsonschema's verdict."""
    checked = out_of_range = 0
    for base in all_samples():
        for path in locations(base):
            if not path or isinstance(get(base, path), bool) or not isinstance(get(base, path), int):
                continue
            for value in EDGE_INTS:
                doc = copy.deepcopy(base)
                get(doc, path[:-1])[path[-1]] = value
                root, verdict, paths = ours(version, doc)
                expected = reference_paths(version, root, doc)
                assert verdict is (not expected), (path, value, expected)
                assert paths == expected, (path, value, paths, expected)
                checked += 1
                out_of_range += not verdict
    assert checked > 20 and 0 < out_of_range < checked


def test_out_of_range_integer_message():
    v = validator_for("1.37")
    doc = copy.deepcopy(all_samples()[0])
    assert doc["kind"] == "Job"
    doc["spec"]["backoffLimit"] = 99999999999999999999
    doc["spec"]["activeDeadlineSeconds"] = -(2**63) - 1
    root = v._kinds["batch/v1/Job"]
    found = {path: (code, msg) for code, msg, path, _hint in explain(v._defs, root, doc)}
    expected = ('"backoffLimit" in JobSpec must fit in a 32-bit integer (at most 2147483647), '
                "got 99999999999999999999")
    assert found[("spec", "backoffLimit")] == ("schema.range", expected)
    assert found[("spec", "activeDeadlineSeconds")][1].endswith(
        "must fit in a 64-bit integer (at least -9223372036854775808), got -9223372036854775809")
    doc["spec"]["backoffLimit"] = 2**31 - 1
    doc["spec"]["activeDeadlineSeconds"] = -(2**63)
    assert v._predicate(root)(doc) is True


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 70000) | st.sampled_from(EDGE_INTS) | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "x", "Always", "500m", "TCP", "batch/v1"]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["name", "image", "containers", "spec", "template", "env", "value", "x"]),
                      children, max_size=3),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["metadata", "spec"]), json_values, st.sampled_from(["Job", "Pod", "Deployment"]))
def test_random_subtrees_agree(field, value, kind):
    doc = {"Job": all_samples()[0], "Pod": all_samples()[1], "Deployment": all_samples()[3]}[kind]
    doc[field] = value
    root, verdict, paths = ours("1.33", doc)
    expected = reference_paths("1.33", root, doc)
    assert verdict is (not expected)
    assert paths == expected
