"""Executor config validation and the ordered layers of a step."""

from __future__ import annotations

from pathlib import Path

import pytest

from podc.dagster.config import ExecutorSettings, settings_from_config
from podc.dagster.layers import (LAYER_CODE_LOCATION, LAYER_EXECUTOR, LAYER_EXECUTOR_INLINE,
                                 LAYER_STEP, StepInfo, dagster_labels, step_layers)
from podc.dagster.tags import layers_from_tags
from podc.errors import PodcError

INFO = StepInfo(run_id="0f0e4c2a-1111-2222-3333-444455556666", job_name="example_job",
                step_key="transform", command=("/usr/bin/python3", "-m", "dagster", "api", "execute_step"),
                step_env=(("DAGSTER_COMPRESSED_EXECUTE_STEP_ARGS", "eJx...=="),))


@pytest.mark.parametrize("cfg, needle", [
    ({"project": "p", "layers": ["a.yaml"]}, "either 'project'"),
    ({"target": "t"}, "'target' needs 'project'"),
    ({"load_incluster_config": True, "kubeconfig_file": "k"}, "load_incluster_config"),
    ({"layer": ["x"]}, "'layer' must be a mapping"),
    ({"step_timeout": 0}, "'step_timeout' must be a positive"),
    ({"max_concurrent": 0}, "at least 1"),
])
def test_bad_config_combinations(cfg, needle):
    with pytest.raises(PodcError) as err:
        settings_from_config(cfg)
    assert needle in str(err.value)
    assert err.value.diagnostics[0].hint


def test_settings_defaults_and_project_base_dir(tmp_path):
    (tmp_path / "podc.yaml").write_text("{}")
    s = settings_from_config({"project": str(tmp_path / "podc.yaml"), "target": "t",
                              "env_passthrough": ["DAGSTER_HOME"], "step_command": ["dagster"]})
    assert s.base_dir == str(tmp_path) and s.uses_project
    assert s.env_passthrough == ("DAGSTER_HOME",) and s.step_command == ("dagster",)
    assert s.check_policies and s.health_check_interval == 1


def test_layer_order_without_project(tmp_path):
    (tmp_path / "base.yaml").write_text("image: a:1\n")
    (tmp_path / "gpu.yaml").write_text("nodeSelector: {gpu: 'true'}\n")
    settings = ExecutorSettings(layers=("base.yaml",), image="exec:2", step_timeout=600,
                                layer={"env": {"A": "1"}}, base_dir=str(tmp_path))
    tags = layers_from_tags({"podc/layers": "gpu.yaml", "podc/config": '{"image": "tag:3"}',
                             "dagster-k8s/config": '{"container_config": {"env": [{"name": "B", "value": "2"}]}}'},
                            "transform")
    info = StepInfo(**{**INFO.__dict__, "code_location_image": "loc:9"})
    layers = step_layers(info, settings, tags, environ={})
    assert [layer.name for layer in layers] == [
        "base.yaml", LAYER_CODE_LOCATION, LAYER_EXECUTOR, LAYER_EXECUTOR_INLINE, "gpu.yaml",
        "tag:dagster-k8s/config", "tag:podc/config", LAYER_STEP]
    assert layers[0].content == tmp_path / "base.yaml"
    assert layers[2].content == {"image": "exec:2", "activeDeadlineSeconds": 600}
    assert layers[5].content == {"env": {"B": "2"}}


def test_step_layer_carries_dagster_command_env_and_sanitised_labels():
    settings = ExecutorSettings(env_passthrough=("DAGSTER_HOME", "NOT_SET"))
    info = StepInfo(**{**INFO.__dict__, "step_key": "my_graph.inner_op[partition/2]",
                       "job_name": "a" * 80})
    step = step_layers(info, settings, layers_from_tags({}, "s"),
                       environ={"DAGSTER_HOME": "/tmp/dh"})[-1]
    assert step.name == LAYER_STEP
    body = step.content
    assert body["command"] == list(INFO.command) and body["args"] == []
    assert body["env"] == {"DAGSTER_HOME": "/tmp/dh",
                           "DAGSTER_COMPRESSED_EXECUTE_STEP_ARGS": "eJx...==",
                           "DAGSTER_RUN_JOB_NAME": "a" * 80,
                           "DAGSTER_RUN_STEP_KEY": {"fieldRef": {
                               "fieldPath": "metadata.annotations['podc.dev/step-key']"}}}
    from podc.runtime.naming import ANNOTATION_STEP_KEY

    assert ANNOTATION_STEP_KEY in body["env"]["DAGSTER_RUN_STEP_KEY"]["fieldRef"]["fieldPath"]
    from podc.kube.names import label_value

    for key, value in body["labels"].items():
        assert label_value(value) == [], (key, value)
    assert body["labels"]["dagster/run-id"] == INFO.run_id
    # distinct keys stay distinct after sanitising
    other = dagster_labels(StepInfo(**{**info.__dict__, "step_key": "my_graph.inner_op[partition/3]"}))
    assert other["dagster/op"] != body["labels"]["dagster/op"]


def test_named_project_layer_and_unknown_entry(tmp_path):
    (tmp_path / "hm.yaml").write_text("nodeSelector: {a: b}\n")
    settings = ExecutorSettings(project=str(tmp_path / "podc.yaml"), base_dir=str(tmp_path))
    layers = step_layers(INFO, settings, layers_from_tags({"podc/layers": "highmem"}, "transform"),
                         project_layers={"highmem": tmp_path / "hm.yaml"}, environ={})
    assert [(layer.name, layer.content) for layer in layers[:-1]] == [("highmem", tmp_path / "hm.yaml")]
    with pytest.raises(PodcError) as err:
        step_layers(INFO, settings, layers_from_tags({"podc/layers": "highmen"}, "transform"),
                    project_layers={"highmem": tmp_path / "hm.yaml"}, environ={})
    assert "'highmen' is neither a project layer nor a file" in str(err.value)
    assert "did you mean 'highmem'" in err.value.diagnostics[0].hint


def test_pure_modules_and_podc_do_not_import_dagster():
    import subprocess
    import sys

    code = ("import sys, podc, podc.pipeline\n"
            "import podc.dagster.tags, podc.dagster.migrate, podc.dagster.layers, "
            "podc.dagster.config, podc.dagster.events, podc.dagster.compile\n"
            "print('dagster' in sys.modules, 'kubernetes' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_dagster_config_schema_accepts_the_documented_keys_and_rejects_typos():
    from dagster._config import process_config

    from podc.dagster import podc_executor

    config_type = podc_executor.config_schema.config_type
    full = {"project": "p", "target": "t", "profile": "dev", "layer": {"image": "x:1"},
            "namespace": "ns", "image": "x:1", "kubeconfig_file": "k", "context": "c",
            "max_concurrent": 4, "tag_concurrency_limits": [{"key": "db", "limit": 1}],
            "retries": {"disabled": {}}, "step_timeout": 60.0, "pending_timeout": 30.0,
            "local_python": True, "env_passthrough": ["DAGSTER_HOME"], "check_policies": False,
            "health_check_interval": 2, "poll_interval": 0.5, "success_grace": 10.0}
    result = process_config(config_type, full)
    assert result.success, result.errors
    settings = settings_from_config(result.value)
    assert settings.max_concurrent == 4 and settings.pending_timeout == 30.0
    assert not settings.check_policies and settings.local_python
    typo = process_config(config_type, {"namespce": "ns"})
    assert not typo.success and "namespce" in str(typo.errors[0].message)
    defaults = process_config(config_type, {}).value
    assert defaults["retries"] == {"enabled": {}} and defaults["check_policies"] is True
