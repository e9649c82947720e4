"""Field paths for `podc explain`, and the records it returns."""

from __future__ import annotations

import pytest

import podc
from compiler_helpers import PLATFORM
from podc.errors import PodcError
from podc.render.provenance import display_path, resolve_field_path


@pytest.fixture(scope="module")
def etl():
    return podc.compile_project(PLATFORM, targets=["nightly-etl"]).jobs[0]


@pytest.mark.parametrize("path, pointer", [
    ("/spec/template/spec/containers/0/image", "/spec/template/spec/containers/0/image"),
    ("spec.template.spec.containers[name=main].image", "/spec/template/spec/containers/0/image"),
    ("spec.template.spec.containers[main].env[0].name", "/spec/template/spec/containers/0/env/0/name"),
    ("spec.template.spec.containers[0].volumeMounts[mountPath=/staging]",
     "/spec/template/spec/containers/0/volumeMounts/1"),
    ('metadata.labels."app.kubernetes.io/part-of"', "/metadata/labels/app.kubernetes.io~1part-of"),
    ("/metadata/labels/app.kubernetes.io~1part-of", "/metadata/labels/app.kubernetes.io~1part-of"),
    ("", ""),
])
def test_field_paths_resolve(etl, path, pointer):
    assert resolve_field_path(etl.manifest, path) == pointer


@pytest.mark.parametrize("path, message", [
    ("spec.template.spec.containers[name=nope]", "no item [name=nope]"),
    ("spec.templat", "did you mean 'template'"),
    ("metadata.name[0]", "is not a list"),
    ("/spec/template/spec/containers/7", "no item [7]"),
])
def test_bad_field_paths(etl, path, message):
    with pytest.raises(PodcError) as e:
        resolve_field_path(etl.manifest, path)
    d = e.value.diagnostics[0]
    assert message in d.message + (d.hint or "")


def test_display_path_uses_merge_keys(etl):
    m = etl.manifest
    assert display_path(m, "/spec/template/spec/containers/0/volumeMounts/1/name") == \
        "spec.template.spec.containers[name=main].volumeMounts[mountPath=/staging].name"
    assert display_path(m, "/metadata/labels/app.kubernetes.io~1part-of") == 'metadata.labels."app.kubernetes.io/part-of"'


def test_explain_records_subtree_in_document_order(etl):
    records = podc.explain(etl, "spec.template.spec.containers[name=main].env")
    names = [r.value for r in records if r.path.endswith("].name")]
    env = etl.manifest["spec"]["template"]["spec"]["containers"][0]["env"]
    assert names == [e["name"] for e in env]
    by_path = {r.path: r for r in records}
    tz = by_path["spec.template.spec.containers[name=main].env[name=TZ].value"]
    assert tz.value == "UTC" and tz.layer == "base" and tz.pos.line == 9
    level = by_path["spec.template.spec.containers[name=main].env[name=LOG_LEVEL].value"]
    assert level.overrides == ()  # set once (prod), nothing replaced


def test_explain_overrides_show_old_values(etl):
    (record,) = podc.explain(etl, "spec.backoffLimit")
    assert record.value == 3 and record.layer == "prod"
    assert [(layer, old) for layer, _, old in record.overrides] == [("podc:defaults", "0"), ("base", "1")]
