"""Executor config validation and the ordered layers of a step."""

from __future__ import annotations

from pathlib import Path

import pytest

from podc.dagster.config import ExecutorSettings, settings_from_config
from podc.dagster.layers import (LAYER_CODE_LOCATION, LAYER_DEFAULTS, LAYER_EXECUTOR,
                                 LAYER_EXECUTOR_INLINE, LAYER_IMAGE, LAYER_LAUNCHER, LAYER_STEP,
                                 StepInfo, dagster_labels, step_layers, step_plan)
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
    from podc.tree import to_plain

    (tmp_path / "base.yaml").write_text("image: a:1\n")
    (tmp_path / "gpu.yaml").write_text("nodeSelector: {gpu: 'true'}\n")
    settings = ExecutorSettings(layers=("base.yaml",), image="exec:2", step_timeout=600,
                                layer={"env": {"A": "1"}}, base_dir=str(tmp_path),
                                k8s={"env_vars": ["C=3"]},
                                per_step_k8s_config={"transform": {"job_metadata": {"labels": {"q": "x"}}}})
    tags = layers_from_tags({"podc/layers": "gpu.yaml", "podc/config": '{"image": "tag:3"}',
                             "dagster-k8s/config": '{"container_config": {"env": [{"name": "B", "value": "2"}]}}'},
                            "transform")
    info = StepInfo(**{**INFO.__dict__, "code_location_image": "loc:9",
                       "container_context": {"k8s": {"namespace": "team", "env_vars": ["D=4"]}},
                       "launcher_config": {"job_image": "launcher:1", "job_namespace": "dagster"}})
    plan = step_plan(info, settings, tags, environ={})
    layers = plan.layers
    assert [layer.name for layer in layers] == [
        "base.yaml", LAYER_DEFAULTS, LAYER_IMAGE, LAYER_CODE_LOCATION, LAYER_EXECUTOR,
        LAYER_EXECUTOR_INLINE, "gpu.yaml", "tag:dagster-k8s/config",
        "run-config:execution.config.per_step_k8s_config.transform", "tag:podc/config", LAYER_STEP]
    assert layers[0].content == tmp_path / "base.yaml"
    # the executor's image beats the launcher's and the code location's (as in dagster-k8s)
    assert to_plain(layers[2].content) == {"image": "exec:2"}
    executor = to_plain(layers[4].content)
    assert executor == {"env": [{"name": "D", "value": "4"}, {"name": "C", "value": "3"}],
                        "activeDeadlineSeconds": 600}
    assert to_plain(layers[7].content)["env"][-1] == {"name": "B", "value": "2"}
    assert plan.namespace == "team"  # container_context.k8s.namespace over the launcher's


def test_step_layer_carries_dagster_args_env_and_sanitised_labels():
    settings = ExecutorSettings(env_passthrough=("DAGSTER_HOME", "NOT_SET"))
    info = StepInfo(**{**INFO.__dict__, "step_key": "my_graph.inner_op[partition/2]",
                       "job_name": "a" * 80, "dagster_version": "1.13.27"})
    layers = step_layers(info, settings, layers_from_tags({}, "s"), environ={"DAGSTER_HOME": "/tmp/dh"})
    step, defaults = layers[-1], layers[0]
    assert step.name == LAYER_STEP and defaults.name == LAYER_DEFAULTS
    body = step.content
    # as dagster-k8s: the step's arguments are `args`, the image's entrypoint runs them
    assert body["args"] == list(INFO.command) and "command" not in body
    assert body["env"] == {"DAGSTER_HOME": "/tmp/dh",
                           "DAGSTER_COMPRESSED_EXECUTE_STEP_ARGS": "eJx...==",
                           "DAGSTER_RUN_JOB_NAME": "a" * 80,
                           "DAGSTER_RUN_STEP_KEY": {"valueFrom": {"fieldRef": {
                               "fieldPath": "metadata.annotations['podc.dev/step-key']"}}}}
    from podc.runtime.naming import ANNOTATION_STEP_KEY

    assert ANNOTATION_STEP_KEY in body["env"]["DAGSTER_RUN_STEP_KEY"]["valueFrom"]["fieldRef"]["fieldPath"]
    # dagster-k8s's env vars come first (in its order) and its labels are overridable defaults
    assert [e["name"] for e in defaults.content["env"]] == [
        "DAGSTER_COMPRESSED_EXECUTE_STEP_ARGS", "DAGSTER_RUN_JOB_NAME", "DAGSTER_RUN_STEP_KEY"]
    from podc.kube.names import label_value

    labels = defaults.content["labels"]
    for key, value in labels.items():
        assert label_value(value) == [], (key, value)
    assert labels["dagster/run-id"] == INFO.run_id and labels["app.kubernetes.io/version"] == "1.13.27"
    assert labels["app.kubernetes.io/component"] == "step_worker"
    # distinct keys stay distinct after sanitising
    other = dagster_labels(StepInfo(**{**info.__dict__, "step_key": "my_graph.inner_op[partition/3]"}))
    assert other["dagster/op"] != labels["dagster/op"]
    local = step_layers(StepInfo(**{**INFO.__dict__, "set_command": True}), settings,
                        layers_from_tags({}, "s"), environ={})[-1].content
    assert local["command"] == list(INFO.command) and local["args"] == []


def test_launcher_adds_dagster_home_and_the_postgres_password_like_dagster_k8s():
    info = StepInfo(**{**INFO.__dict__, "launcher_config": {
        "dagster_home": "/opt/dagster/dagster_home", "postgres_password_secret": "pg"}})
    defaults = step_layers(info, ExecutorSettings(), layers_from_tags({}, "s"), environ={})[0].content
    env = {e["name"]: e for e in defaults["env"]}
    assert env["DAGSTER_HOME"]["value"] == "/opt/dagster/dagster_home"
    assert env["DAGSTER_PG_PASSWORD"]["valueFrom"] == {"secretKeyRef": {"name": "pg", "key": "postgresql-password"}}


def test_named_project_layer_and_unknown_entry(tmp_path):
    (tmp_path / "hm.yaml").write_text("nodeSelector: {a: b}\n")
    settings = ExecutorSettings(project=str(tmp_path / "podc.yaml"), base_dir=str(tmp_path))
    layers = step_layers(INFO, settings, layers_from_tags({"podc/layers": "highmem"}, "transform"),
                         project_layers={"highmem": tmp_path / "hm.yaml"}, environ={})
    assert [(layer.name, layer.content) for layer in layers if layer.is_file] == [("highmem", tmp_path / "hm.yaml")]
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
            "podc.dagster.config, podc.dagster.events, podc.dagster.compile, podc.dagster.k8s_config, "
            "podc.dagster.cluster, podc.cli.migrate\n"
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
            "health_check_interval": 2, "poll_interval": 0.5, "success_grace": 10.0,
            "cluster_timeout": 5.0}
    result = process_config(config_type, full)
    assert result.success, result.errors
    settings = settings_from_config(result.value)
    assert settings.max_concurrent == 4 and settings.pending_timeout == 30.0
    assert not settings.check_policies and settings.local_python
    typo = process_config(config_type, {"namespce": "ns"})
    assert not typo.success and "namespce" in str(typo.errors[0].message)
    defaults = process_config(config_type, {}).value
    assert defaults["retries"] == {"enabled": {}} and defaults["check_policies"] is True


def test_every_k8s_job_executor_key_is_accepted_with_the_same_types():
    """The 23 keys of dagster-k8s's k8s_job_executor config schema, each with a value."""
    dagster_k8s = pytest.importorskip("dagster_k8s.executor")
    from dagster._config import process_config

    from podc.dagster import podc_executor

    full = {"job_image": "x:1", "job_namespace": "ns", "image_pull_policy": "IfNotPresent",
            "image_pull_secrets": [{"name": "r"}], "service_account_name": "sa",
            "env_config_maps": ["cm"], "env_secrets": ["s"], "env_vars": ["A=1"],
            "volume_mounts": [{"name": "v", "mount_path": "/v", "read_only": True}],
            "volumes": [{"name": "v", "empty_dir": {}}], "labels": {"a": "b"},
            "resources": {"limits": {"cpu": "1"}}, "scheduler_name": "s", "security_context": {"run_as_user": 1},
            "kubeconfig_file": "k", "load_incluster_config": False, "max_concurrent": 2,
            "tag_concurrency_limits": [{"key": "db", "limit": 1}], "retries": {"disabled": {}},
            "step_k8s_config": {"container_config": {}, "merge_behavior": "SHALLOW"},
            "per_step_k8s_config": {"op": {"pod_spec_config": {}}}, "enable_owner_references": True,
            "step_dependency_config": {"require_upstream_step_success": False}}
    schema_keys = set(dagster_k8s._K8S_EXECUTOR_CONFIG_SCHEMA)
    assert set(full) == schema_keys and len(schema_keys) == 23
    theirs = process_config(dagster_k8s.k8s_job_executor.config_schema.config_type, full)
    ours = process_config(podc_executor.config_schema.config_type, full)
    assert theirs.success and ours.success, ours.errors
    settings = settings_from_config(ours.value)
    assert settings.image == "x:1" and settings.image_key == "job_image" and settings.namespace == "ns"
    assert settings.k8s["env_vars"] == ["A=1"] and settings.k8s["step_k8s_config"]["merge_behavior"] == "SHALLOW"
    assert settings.per_step_k8s_config == {"op": {"pod_spec_config": {}}}
    assert settings.enable_owner_references and settings.step_dependency_config == {
        "require_upstream_step_success": False}
    assert settings.load_incluster_config is False and settings.max_concurrent == 2
