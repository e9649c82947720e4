"""PodcRunLauncher's config and the layers of a run worker Job, without Dagster or a cluster:
order, provenance (which key of which source set each value), dagster-k8s keys, and errors that
name dagster.yaml, the code location or the run tag they come from."""

from __future__ import annotations

import json

import pytest

from dagster_support import PROJECT
from podc.dagster.compile import CompileSession
from podc.dagster.events import explain_rows
from podc.dagster.launcher_config import launcher_settings
from podc.dagster.run_layers import (RunInfo, container_context_namespace, run_tag_layers,
                                     run_worker_layers)
from podc.errors import PodcError, format_diagnostics

COMMAND = ("dagster", "api", "execute_run")


def _info(tags=None, context=None, image=None):
    return RunInfo("6f1c0c6e-run", "etl", COMMAND, (("DAGSTER_COMPRESSED_EXECUTE_RUN_ARGS", "eJy"),),
                   image, "prod-code", context or {}, tags or {})


def _compile(config, info, environ=None):
    settings = launcher_settings(config)
    session = CompileSession(settings.compile)
    layers, warnings = run_worker_layers(info, settings, run_tag_layers(info.tags),
                                         project_layers=session.project_layers(),
                                         environ=environ or {})
    compiled = session.compile(layers, "podc-worker")
    rows = {r.field: r for r in explain_rows(compiled.job)}
    return compiled, rows, warnings


def test_layer_order_and_provenance_of_every_source():
    tags = {"podc/layers": "highmem",
            "dagster-k8s/config": json.dumps({"pod_spec_config": {"node_selector": {"zone": "a"}}}),
            "podc/config": "resources:\n  limits: {cpu: '4'}\n"}
    context = {"k8s": {"env_vars": ["REGION=eu"], "namespace": "etl"},
               "podc": {"layer": {"labels": {"tier": "gold"}}}}
    compiled, rows, warnings = _compile(
        {"project": str(PROJECT), "target": "run-worker", "run_timeout": 600,
         "env_vars": ["A=1", "FROM_ENV"], "env_secrets": ["db"], "labels": {"owner": "data"},
         "run_k8s_config": {"container_config": {"resources": {"limits": {"cpu": "3"}}}},
         "layer": {"labels": {"inline": "yes"}}},
        _info(tags, context, image="ghcr.io/acme/etl:2"), environ={"FROM_ENV": "x"})
    assert warnings == []
    assert compiled.layer_names == [
        "podc:defaults", "base", "run-worker", "dagster.yaml:run_launcher.config",
        "dagster.yaml:run_launcher.config (dagster-k8s keys)",
        "dagster.yaml:run_launcher.config.layer", "dagster:code-location",
        "code-location:container_context.k8s", "code-location:container_context.podc.layer",
        "highmem", "tag:dagster-k8s/config", "tag:podc/config", "dagster:run"]
    assert rows["image"].layer == "dagster:code-location"  # the code location's image wins
    assert rows["activeDeadlineSeconds"].layer == "dagster.yaml:run_launcher.config"
    assert rows["env.A"].source == "dagster.yaml:run_launcher.config.env_vars[0]"
    assert rows["env.REGION"].source == "code-location:container_context.k8s.env_vars[0]"
    assert rows["nodeSelector.zone"].layer == "tag:dagster-k8s/config"
    assert rows["resources.limits.cpu"].layer == "tag:podc/config"
    assert rows["resources.limits.cpu"].source.startswith("<run tag podc/config>:2:")
    assert rows["resources.limits.memory"].layer == "highmem"
    assert rows["labels.tier"].layer == "code-location:container_context.podc.layer"
    assert rows["command"].layer == "dagster:run" and rows["backoffLimit"].value == "0"
    main = compiled.manifest["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in main["env"]}
    assert env["FROM_ENV"] == "x" and env["DAGSTER_RUN_JOB_NAME"] == "etl"
    assert {"secretRef": {"name": "db"}} in main["envFrom"]
    labels = compiled.manifest["metadata"]["labels"]
    assert labels["dagster/run-id"] == "6f1c0c6e-run" and labels["dagster/code-location"] == "prod-code"
    assert labels["app.kubernetes.io/component"] == "run_worker"
    assert container_context_namespace(_info(context=context)) == "etl"


def test_dagster_k8s_names_are_accepted_for_image_and_namespace():
    settings = launcher_settings({"job_image": "img:1", "job_namespace": "dagster",
                                  "dagster_home": "/opt/dagster/dagster_home",
                                  "postgres_password_secret": "pg"})
    assert settings.compile.image == "img:1" and settings.namespace == "dagster"
    compiled, rows, _ = _compile({"job_image": "img:1", "dagster_home": "/opt/dh",
                                  "postgres_password_secret": "pg"}, _info())
    env = {e["name"]: e for e in compiled.manifest["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["DAGSTER_HOME"]["value"] == "/opt/dh"
    assert env["DAGSTER_PG_PASSWORD"]["valueFrom"] == {
        "secretKeyRef": {"name": "pg", "key": "postgresql-password"}}


@pytest.mark.parametrize("config,message,hint", [
    ({"k8s_api_ssl_ca_cert_file": "/ca.pem"}, "k8s_api_ssl_ca_cert_file", "kubeconfig"),
    ({"image": "a:1", "job_image": "b:1"}, "'image' and 'job_image'", "keep one"),
    ({"namespace": "a", "job_namespace": "b"}, "'namespace' and 'job_namespace'", "keep one"),
    ({"run_command": ["dagster"], "local_python": True}, "'run_command' or 'local_python'", None),
    ({"run_timeout": -5}, "'run_timeout' must be a positive", None),
    ({"project": "p.yaml", "layers": ["a.yaml"]}, "either 'project'", None),
    ({"target": "x"}, "'target' needs 'project'", None),
])
def test_bad_launcher_config_names_dagster_yaml(config, message, hint):
    with pytest.raises(PodcError) as err:
        launcher_settings(config)
    [diag] = err.value.diagnostics
    assert diag.pos.file == "<dagster.yaml: run_launcher.config>"
    assert message in diag.message and "execution.config" not in diag.message
    if hint:
        assert hint in diag.hint


def test_env_var_without_value_must_be_set_where_the_launcher_runs():
    with pytest.raises(PodcError) as err:
        _compile({"env_vars": ["MISSING_ONE"]}, _info())
    assert "MISSING_ONE" in str(err.value)
    assert "dagster.yaml:run_launcher.config.env_vars[0]" in format_diagnostics(err.value.diagnostics)


def test_bad_inputs_are_located_at_their_source():
    with pytest.raises(PodcError) as err:
        _compile({}, _info(tags={"podc/config": "resources: [oops"}))
    text = format_diagnostics(err.value.diagnostics)
    assert "<run tag podc/config>" in text and "op tag" not in text
    with pytest.raises(PodcError) as err:
        _compile({}, _info(context={"podc": ["not", "a", "mapping"]}))
    assert "container_context.podc" in str(err.value) and "mapping" in str(err.value)
    with pytest.raises(PodcError) as err:
        _compile({"project": str(PROJECT), "target": "run-worker"},
                 _info(context={"podc": {"layers": ["highmen"]}}))
    text = format_diagnostics(err.value.diagnostics)
    assert "code-location:container_context.podc.layers" in text and "did you mean 'highmem'" in text
    with pytest.raises(PodcError) as err:
        _compile({}, _info(tags={"dagster-k8s/config": "{not json"}))
    assert "dagster-k8s/config" in str(err.value)


def test_legacy_resource_requirements_tag_sets_resources():
    compiled, rows, _ = _compile({"image": "img:1"}, _info(tags={
        "dagster-k8s/resource_requirements": json.dumps({"limits": {"memory": "3Gi"}})}))
    assert rows["resources.limits.memory"].value == "3Gi"
    assert rows["resources.limits.memory"].layer == "tag:dagster-k8s/config"


def test_same_inputs_same_manifest():
    info = _info(tags={"podc/config": '{"labels": {"a": "b"}}'})
    first, _, _ = _compile({"project": str(PROJECT), "target": "run-worker"}, info)
    second, _, _ = _compile({"project": str(PROJECT), "target": "run-worker"}, info)
    assert json.dumps(first.manifest, sort_keys=True) == json.dumps(second.manifest, sort_keys=True)


def test_allow_lists_apply_to_code_locations_and_run_tags_as_in_dagster_k8s():
    allow = {"only_allow_user_defined_k8s_config_fields": {"container_config": {"env": True}},
             "only_allow_user_defined_env_vars": ["REGION"], "image": "img:1"}
    compiled, rows, warnings = _compile(allow, _info(context={"k8s": {
        "env_vars": ["REGION=eu", "SNEAKY=1"]}}))
    env = {e["name"] for e in compiled.manifest["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert "REGION" in env and "SNEAKY" not in env
    assert any("SNEAKY" in w and "only_allow_user_defined_env_vars" in w for w in warnings)
    with pytest.raises(PodcError) as err:  # a field outside the list, from a run tag
        _compile(allow, _info(tags={"dagster-k8s/config": json.dumps(
            {"pod_spec_config": {"node_selector": {"a": "b"}}})}))
    assert "only_allow_user_defined_k8s_config_fields" in str(err.value)
    assert "nodeSelector" in str(err.value)
    for source in ({"tags": {"podc/config": '{"labels": {"a": "b"}}'}},
                   {"context": {"podc": {"layer": {"labels": {"a": "b"}}}}}):
        with pytest.raises(PodcError) as err:  # podc layers would bypass the list
            _compile(allow, _info(**source))
        assert "not allowed while the run launcher sets" in str(err.value)
