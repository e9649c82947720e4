"""Public API of podc.check.schema: versions, caching, routing by kind, human messages."""

from __future__ import annotations

import hashlib
import json

import pytest

from podc.check.schema import (
    SchemaIssue,
    kinds_for,
    normalize_version,
    schema_document,
    supported_versions,
    validator_for,
)
from podc.errors import PodcError
from podc.resources import data_path
from test_schema_samples import all_samples, job, pod


def test_supported_versions_cover_1_29_to_1_37():
    versions = supported_versions()
    assert versions[0] == "1.29" and versions[-1] == "1.37"
    assert versions == [f"1.{m}" for m in range(29, 38)]


@pytest.mark.parametrize("text, expected", [("1.33", "1.33"), ("v1.33", "1.33"), ("1.33.4", "1.33"), ("v1.29.0", "1.29")])
def test_normalize_version(text, expected):
    assert normalize_version(text) == expected


@pytest.mark.parametrize("text", ["1.28", "1.38", "2.0", "latest", "", "1"])
def test_unknown_version_lists_supported(text):
    with pytest.raises(PodcError) as info:
        validator_for(text)
    (diag,) = info.value.diagnostics
    assert diag.code == "schema.unknown-version"
    assert "1.29" in diag.hint and "1.37" in diag.hint


def test_validator_is_cached_and_compiles_each_kind_once():
    v = validator_for("1.33")
    assert validator_for("v1.33.1") is v
    v.validate(job())
    first = v._predicates["io.k8s.api.batch.v1.Job"]
    v.validate(job())
    assert v._predicates["io.k8s.api.batch.v1.Job"] is first


def test_shipped_files_match_index_and_are_minified_sorted():
    folder = data_path("schemas") / "kubernetes"
    index = json.loads((folder / "index.json").read_text())
    assert sorted(index["versions"]) == sorted(supported_versions())
    for version, info in index["versions"].items():
        raw = (folder / info["file"]).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == info["sha256"]
        data = json.loads(raw)
        assert raw == (json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n").encode()
        assert data["x-podc-kubernetes-version"] == version
    total = sum((folder / i["file"]).stat().st_size for i in index["versions"].values())
    assert total < 3_000_000


@pytest.mark.parametrize("version", ["1.29", "1.37"])
def test_every_definition_compiles(version):
    from podc.check.schema_compile import PredicateCompiler

    defs = schema_document(version)["$defs"]
    compiler = PredicateCompiler(defs)
    for name in defs:
        assert callable(compiler.predicate(name))


def test_kinds():
    kinds = kinds_for("1.33")
    for key in ("v1/Pod", "batch/v1/Job", "batch/v1/CronJob", "apps/v1/Deployment", "apps/v1/StatefulSet",
                "apps/v1/DaemonSet", "apps/v1/ReplicaSet"):
        assert key in kinds


@pytest.mark.parametrize("version", ["1.29", "1.33", "1.37"])
def test_samples_are_valid(version):
    v = validator_for(version)
    for doc in all_samples():
        assert v.validate(doc) == [], doc["kind"]


def _issue(issues, code):
    found = [i for i in issues if i.code == code]
    assert found, issues
    return found[0]


def test_unknown_field_names_closest_field():
    doc = job()
    doc["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    i = _issue(validator_for("1.33").validate(doc), "schema.unknown-field")
    assert i.path == "/spec/template/spec/containers/0/imagePullPolcy"
    assert 'unknown field "imagePullPolcy" in Container' == i.message
    assert i.hint == 'did you mean "imagePullPolicy"?'


def test_misplaced_pod_field_hint():
    doc = job()
    doc["spec"]["containers"] = []
    i = _issue(validator_for("1.33").validate(doc), "schema.unknown-field")
    assert i.path == "/spec/containers"
    assert "move it under template.spec" in i.hint


def test_container_field_in_pod_spec_hint():
    doc = pod()
    doc["spec"]["image"] = "nginx"
    i = _issue(validator_for("1.33").validate(doc), "schema.unknown-field")
    assert "container field" in i.hint


def test_unknown_field_without_close_match_lists_allowed():
    doc = pod()
    doc["spec"]["securityContext"]["zzzzqqq"] = 1
    i = _issue(validator_for("1.33").validate(doc), "schema.unknown-field")
    assert i.hint.startswith("allowed fields: ") and "runAsUser" in i.hint


def test_type_error_says_expected_and_got_with_quote_hint():
    doc = job()
    doc["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = 1
    i = _issue(validator_for("1.33").validate(doc), "schema.type")
    assert i.path == "/spec/template/spec/containers/0/env/0/value"
    assert i.message == '"value" in EnvVar must be a string, got integer 1'
    assert i.hint == 'quote it so YAML reads a string: "1"'


def test_integer_given_as_string():
    doc = job()
    doc["spec"]["backoffLimit"] = "3"
    i = _issue(validator_for("1.33").validate(doc), "schema.type")
    assert "must be an integer, got string" in i.message
    assert i.hint == "remove the quotes: 3"


def test_quantity_null_is_a_type_error():
    doc = job()
    doc["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = None
    i = _issue(validator_for("1.33").validate(doc), "schema.type")
    assert "quantity" in i.message and i.path.endswith("/limits/cpu")


def test_required_field_reported_at_parent():
    doc = job()
    del doc["spec"]["template"]["spec"]["containers"][0]["name"]
    i = _issue(validator_for("1.33").validate(doc), "schema.required")
    assert i.path == "/spec/template/spec/containers/0"
    assert i.message == 'missing required field "name" in Container'


def test_field_only_in_newer_versions():
    # Pod-level `resources` arrived in 1.32's schema (PodLevelResources); 1.29 rejects it.
    doc = pod()
    doc["spec"]["resources"] = {"limits": {"cpu": "1"}}
    assert validator_for("1.37").schema_issues(doc) == []
    assert [i.code for i in validator_for("1.29").schema_issues(doc)] == ["schema.unknown-field"]


@pytest.mark.parametrize(
    "doc, path, fragment",
    [
        ({"apiVersion": "batch/v1", "kind": "Jbo"}, "/kind", 'did you mean "Job"?'),
        ({"apiVersion": "v1", "kind": "Job"}, "/apiVersion", "use apiVersion: batch/v1"),
        ({"apiVersion": "v1", "kind": "Service"}, "/kind", "podc checks:"),
        ({"kind": "Deployment"}, "", 'Deployment is apiVersion "apps/v1"'),
        ({"apiVersion": "v1"}, "", "podc checks:"),
    ],
)
def test_unknown_kind(doc, path, fragment):
    (i,) = validator_for("1.33").validate(doc)
    assert i.code == "schema.unknown-kind" and i.path == path and fragment in i.hint


def test_non_mapping_document():
    (i,) = validator_for("1.33").validate(["a"])
    assert i.code == "schema.type" and i.path == ""


def test_pointer_escapes_keys():
    doc = job()
    doc["metadata"]["labels"]["a/b~c/d"] = "x"
    i = _issue(validator_for("1.33").validate(doc), "api.label-key")
    assert i.path == "/metadata/labels/a~1b~0c~1d"


def test_to_diagnostic():
    from podc.errors import Pos

    d = SchemaIssue("schema.type", "bad", "/spec", "fix").to_diagnostic(Pos("f.yaml", 3, 4))
    assert (d.code, d.message, d.hint, d.path, d.pos.line) == ("schema.type", "bad", "fix", "/spec", 3)


def test_validation_is_deterministic():
    doc = job()
    c = doc["spec"]["template"]["spec"]["containers"][0]
    c.update({"bogus": 1, "imagePullPolicy": "Sometimes", "ports": [{"containerPort": 0}]})
    first = validator_for("1.35").validate(doc)
    assert len(first) >= 3
    assert first == validator_for("1.35").validate(job() | {"spec": doc["spec"]})


def test_importing_schema_module_is_light():
    import subprocess
    import sys

    code = "import sys, podc.check.schema; print('jsonschema' in sys.modules, 'pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_fragment_issues_for_layer_patches():
    v = validator_for("1.33")
    assert v.fragment_issues("Container", {"image": "x:1", "env": [{"name": "A", "value": "1"}]}) == []
    (issue,) = v.fragment_issues("Container", {"imagePullPolcy": "Always"}, path="/spec/template/spec/containers/0")
    assert issue.path == "/spec/template/spec/containers/0/imagePullPolcy"
    assert issue.hint == 'did you mean "imagePullPolicy"?'
    # A patch may leave out required fields; a whole object may not.
    assert v.fragment_issues("Container", {"image": "x"}) == []
    assert [i.code for i in v.fragment_issues("Container", {"image": "x"}, partial=False)] == ["schema.required"]
    assert v.fragment_issues("io.k8s.api.core.v1.PodSpec", {"restartPolicy": 1})[0].code == "schema.type"


def test_field_names_and_unknown_definition():
    v = validator_for("1.33")
    assert "imagePullPolicy" in v.field_names("Container")
    assert v.field_names("Container") == sorted(v.field_names("Container"))
    with pytest.raises(PodcError) as info:
        v.field_names("Containr")
    assert info.value.diagnostics[0].hint == 'did you mean "Container"?'


@pytest.mark.parametrize("version", ["1.29", "1.37"])
def test_short_definition_names_are_unique(version):
    full = list(schema_document(version)["$defs"])
    assert len({n.rsplit(".", 1)[-1] for n in full}) == len(full)
