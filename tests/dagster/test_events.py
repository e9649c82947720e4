"""Provenance summary and redaction for the launch event, on real compiled Jobs."""

from __future__ import annotations

import json

from podc.dagster.compile import compile_step
from podc.dagster.config import ExecutorSettings
from podc.dagster.events import explain_markdown, explain_rows, redacted_manifest
from podc.dagster.layers import StepInfo, step_layers
from podc.dagster.tags import layers_from_tags

from dagster_support import EXAMPLE

LAYERS = EXAMPLE / "deploy" / "layers"
INFO = StepInfo(run_id="r-1", job_name="j", step_key="train", command=("dagster", "api", "execute_step"),
                step_env=(("DAGSTER_COMPRESSED_EXECUTE_STEP_ARGS", "c2VjcmV0LWlzaA=="),))


def _compiled(tags: dict, **settings):
    s = ExecutorSettings(layers=(str(LAYERS / "base.yaml"),), check_policies=False, **settings)
    layers = step_layers(INFO, s, layers_from_tags(tags, "train"), environ={})
    return compile_step(layers, "podc-train-0123456789", s)


def _by_field(rows):
    return {r.field: r for r in rows}


def test_rows_name_the_layer_and_source_of_each_value():
    step = _compiled({"podc/layers": str(LAYERS / "highmem.yaml"),
                      "podc/config": "resources:\n  limits:\n    cpu: '2'\n"},
                     image="exec:1", layer={"env": {"API_TOKEN": "s3cr3t"}})
    rows = _by_field(explain_rows(step.job))
    assert rows["image"].layer == "run-config:execution.config" and rows["image"].value == "exec:1"
    assert len(rows["image"].overrides) == 1 and rows["image"].overrides[0].endswith("base.yaml")
    assert rows["resources.limits.memory"].layer.endswith("highmem.yaml")
    assert "highmem.yaml:4:" in rows["resources.limits.memory"].source
    assert rows["resources.limits.cpu"].layer == "tag:podc/config"
    assert rows["resources.limits.cpu"].source == "<op tag podc/config on train>:3:10"
    assert rows["resources.requests.cpu"].layer.endswith("base.yaml")
    assert rows["tolerations[0]"].layer.endswith("highmem.yaml")
    assert rows["args"].layer == "dagster:step"
    assert rows["labels.dagster/op"].value == "train"
    # env values never appear, only names and the layer that set them
    assert rows["env.API_TOKEN"].value == "<redacted>"
    assert rows["env.DAGSTER_RUN_STEP_KEY"].value == "<from fieldRef>"
    text = explain_markdown(rows.values(), step.layer_names)
    assert "s3cr3t" not in text and "c2VjcmV0LWlzaA==" not in text
    assert text.startswith("Layers (later wins): `podc:defaults` → ")
    assert "| resources.limits.cpu | `2` | tag:podc/config | <op tag podc/config on train>:3:10 |" in text


def test_redacted_manifest_hides_env_values_only():
    step = _compiled({}, layer={"env": {"PASSWORD": "hunter2"}})
    red = redacted_manifest(step.manifest)
    dumped = json.dumps(red)
    assert "hunter2" not in dumped and "c2VjcmV0LWlzaA==" not in dumped
    env = red["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {e["name"] for e in env} >= {"PASSWORD", "DAGSTER_COMPRESSED_EXECUTE_STEP_ARGS"}
    assert step.manifest["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] != "<redacted>"
    assert red["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert red["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/example/etl:1.4.2"


def test_pull_policy_is_always_when_no_layer_sets_it_as_in_dagster_k8s():
    s = ExecutorSettings(check_policies=False, image="x:1")
    step = compile_step(step_layers(INFO, s, layers_from_tags({}, "train"), environ={}), "podc-train-1", s)
    assert step.manifest["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "Always"
    rows = _by_field(explain_rows(step.job))
    assert rows["imagePullPolicy"].layer == "dagster:image-pull-policy"
    assert step.layer_names[-1] == "dagster:image-pull-policy"


def test_env_reference_to_a_later_variable_is_warned():
    from podc.dagster.events import env_reference_warnings

    manifest = {"spec": {"template": {"spec": {"containers": [{"name": "main", "env": [
        {"name": "URL", "value": "db://$(PASSWORD)@h"}, {"name": "PASSWORD", "value": "x"},
        {"name": "OK", "value": "$(PASSWORD) $$(LITERAL)"}]}]}}}}
    [warning] = env_reference_warnings(manifest)
    assert warning.startswith("env URL refers to $(PASSWORD), which is defined after it")


def test_migrated_tag_merges_keyed_with_executor_layer():
    """dagster-k8s would emit FOO twice and two `data` volumes; podc emits one valid manifest."""
    tag = {"container_config": {"env": [{"name": "FOO", "value": "2"}],
                                "volume_mounts": [{"name": "data", "mount_path": "/data"}]},
           "pod_spec_config": {"volumes": [{"name": "data", "config_map": {"name": "cm"}}]}}
    step = _compiled({"dagster-k8s/config": json.dumps(tag)},
                     layer={"env": {"FOO": "1"}, "volumes": {"data": {"emptyDir": {}, "mountPath": "/data"}}})
    pod = step.manifest["spec"]["template"]["spec"]
    main = pod["containers"][0]
    assert [e for e in main["env"] if e["name"] == "FOO"] == [{"name": "FOO", "value": "2"}]
    assert pod["volumes"] == [{"name": "data", "configMap": {"name": "cm"}}]  # source switched, not both
    assert main["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    rows = _by_field(explain_rows(step.job))
    assert rows["env.FOO"].layer == "tag:dagster-k8s/config"
    assert rows["env.FOO"].overrides == ("run-config:execution.config.layer",)
    assert rows["env.FOO"].source == "<op tag dagster-k8s/config on train>.container_config.env[0].value"
    assert rows["args"].source.startswith("<dagster step layer")
