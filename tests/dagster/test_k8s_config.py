"""podc.dagster.k8s_config: dagster-k8s configuration levels → podc layers with provenance."""

from __future__ import annotations

import json

import pytest

from podc.dagster.k8s_config import (code_location_levels, container_context_level, run_launcher_level,
                                     translate, translate_levels, user_config_level)
from podc.errors import PodcError
from podc.tree import to_plain

pytest.importorskip("kubernetes")


def _layer(value, name="tag:dagster-k8s/config"):
    layer = translate(value, name)
    return to_plain(layer.node), layer


def test_sections_land_on_podc_fields_with_the_source_key_of_each_value():
    plain, layer = _layer(json.dumps({
        "container_config": {
            "image": "x:1", "image_pull_policy": "Always", "working_dir": "/w",
            "env": [{"name": "TOKEN", "value_from": {"secret_key_ref": {"name": "s", "key": "t"}}},
                    {"name": "URL", "value": "db://$(TOKEN)"}],
            "resources": {"limits": {"memory": "1Gi"}},
            "volume_mounts": [{"name": "data", "mount_path": "/data"}],
        },
        "pod_spec_config": {
            "node_selector": {"pool": "a"}, "tolerations": [{"key": "k", "operator": "Exists"}],
            "service_account_name": "runner", "security_context": {"fs_group": 2000},
            "image_pull_secrets": [{"name": "regcred"}], "priority_class_name": "high",
            "volumes": [{"name": "data", "persistent_volume_claim": {"claim_name": "pvc"}}],
            "share_process_namespace": True,
        },
        "pod_template_spec_metadata": {"labels": {"a": "b"}, "annotations": {"x": "y"}},
        "job_metadata": {"labels": {"kueue.x-k8s.io/queue-name": "q"}, "finalizers": ["f"]},
        "job_spec_config": {"backoff_limit": 3, "ttl_seconds_after_finished": 60, "manual_selector": False},
    }))
    assert layer.warnings == []
    assert plain["image"] == "x:1" and plain["imagePullPolicy"] == "Always"
    # env keeps its order: the reference after the secret it names
    assert [e["name"] for e in plain["env"]] == ["TOKEN", "URL"]
    assert plain["workingDir"] == "/w" and plain["resources"] == {"limits": {"memory": "1Gi"}}
    assert plain["nodeSelector"] == {"pool": "a"} and plain["serviceAccountName"] == "runner"
    assert plain["podSecurityContext"] == {"fsGroup": 2000}
    assert plain["imagePullSecrets"] == [{"name": "regcred"}] and plain["priorityClassName"] == "high"
    assert plain["podLabels"] == {"a": "b"} and plain["podAnnotations"] == {"x": "y"}
    # job_metadata: the Job only
    assert plain["jobLabels"] == {"kueue.x-k8s.io/queue-name": "q"} and "labels" not in plain
    assert plain["raw"]["job"] == {"metadata": {"finalizers": ["f"]}}
    assert plain["backoffLimit"] == 3 and plain["ttlSecondsAfterFinished"] == 60
    assert plain["raw"]["jobSpec"] == {"manualSelector": False}
    assert plain["raw"]["container"]["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    assert plain["raw"]["podSpec"]["shareProcessNamespace"] is True
    url = layer.node.items["env"].items[1].items["value"]
    assert url.origin.layer == "tag:dagster-k8s/config"
    assert url.origin.pos.file == "tag:dagster-k8s/config.container_config.env[1].value"


def test_camel_and_snake_case_keys_are_one_field_and_free_form_keys_are_kept():
    plain, _ = _layer({"container_config": {"securityContext": {"run_as_user": 1}},
                       "pod_template_spec_metadata": {"labels": {"team_name": "x"}}})
    assert plain == {"securityContext": {"runAsUser": 1}, "podLabels": {"team_name": "x"}}


@pytest.mark.parametrize("value, needle", [
    ({"container_config": {"resourcez": {}}}, "`resourcez` is not a field of V1Container"),
    ({"container_config": {"image_pull_policy": "A", "imagePullPolicy": "B"}}, "are the same field"),
    ({"containerConfig": {}}, "`containerConfig` is not a dagster-k8s config section"),
    ({"pod_spec_config": {"automount_service_account_token": "false"}}, "expected true or false"),
    ({"pod_spec_config": {"tolerations": {"key": "k"}}}, "expected a list"),
    ({"container_config": {"env": [{"name": "A", "value_from": "s"}]}}, "expected a mapping (V1EnvVarSource)"),
    ({"job_spec_config": {"backoff_limit": "three"}}, "expected a int"),
    ({"merge_behavior": "shallow"}, "merge_behavior must be DEEP or SHALLOW"),
    ({"job_metadata": {"namespace": "other"}}, "job_metadata.namespace is not honoured"),
    ({"pod_spec_config": {"containers": [{"name": "main", "image": "x"}]}}, "collides with podc's step container"),
    ("{nope", "invalid JSON"), ("[1]", "expected a mapping of dagster-k8s sections"),
])
def test_what_dagster_k8s_or_kubernetes_would_refuse_is_an_error_at_the_key(value, needle):
    with pytest.raises(PodcError) as err:
        translate(value, "tag:dagster-k8s/config")
    assert needle in str(err.value)


def test_numbers_are_converted_like_dagster_k8s_does():
    plain, _ = _layer({"job_spec_config": {"backoff_limit": "2"}, "pod_template_spec_metadata": {
        "labels": {"version": 2}}})
    assert plain == {"backoffLimit": 2, "podLabels": {"version": "2"}}


def test_keys_podc_does_not_honour_are_warnings_that_name_the_key():
    plain, layer = _layer({
        "container_config": {"name": "dagster", "args": ["x"]},
        "job_config": {"spec": {"parallelism": 2}},
        "job_metadata": {"name": "custom", "uid": "u", "labels": {"a": "b"}},
        "job_spec_config": {"template": {"spec": {}}},
        "pod_template_spec_metadata": {"generate_name": "p-"},
    })
    where = {w.pos.file for w in layer.warnings}
    assert where == {"tag:dagster-k8s/config.container_config.name",
                     "tag:dagster-k8s/config.container_config.args", "tag:dagster-k8s/config.job_config",
                     "tag:dagster-k8s/config.job_metadata.name", "tag:dagster-k8s/config.job_metadata.uid",
                     "tag:dagster-k8s/config.job_spec_config.template",
                     "tag:dagster-k8s/config.pod_template_spec_metadata.generate_name"}
    assert all(w.severity == "warning" for w in layer.warnings)
    assert plain == {"jobLabels": {"a": "b"}}


def test_renamed_container_references_follow_it():
    plain, layer = _layer({"container_config": {"name": "worker", "env": [
        {"name": "A", "value_from": {"resource_field_ref": {"container_name": "worker", "resource": "limits.cpu"}}},
        {"name": "B", "value_from": {"resource_field_ref": {"container_name": "sidecar", "resource": "limits.cpu"}}}]}})
    refs = [e["valueFrom"]["resourceFieldRef"]["containerName"] for e in plain["env"]]
    assert refs == ["main", "sidecar"]
    assert [w.pos.file for w in layer.warnings] == ["tag:dagster-k8s/config.container_config.name"]


def test_a_duplicate_in_one_level_keeps_the_last_at_the_first_place():
    plain, _ = _layer({"container_config": {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"},
                                                    {"name": "A", "value": "3"}]}})
    assert plain["env"] == [{"name": "A", "value": "3"}, {"name": "B", "value": "2"}]


def _levels(*configs):
    return [user_config_level(c, f"level-{i}") for i, c in enumerate(configs)]


def test_levels_merge_like_dagster_k8s_deep_and_shallow():
    deep = translate_levels(_levels(
        {"pod_spec_config": {"tolerations": [{"key": "a", "operator": "Exists"}],
                             "affinity": {"node_affinity": {"required_during_scheduling_ignored_during_execution": {
                                 "node_selector_terms": [{"match_expressions": [{"key": "z", "operator": "Exists"}]}]}}}}},
        {"pod_spec_config": {"tolerations": [{"key": "b", "operator": "Exists"}],
                             "affinity": {"node_affinity": {"required_during_scheduling_ignored_during_execution": {
                                 "node_selector_terms": [{"match_expressions": [{"key": "y", "operator": "Exists"}]}]}}}}}))
    second = to_plain(deep.layers[1].node)
    # lists append (podc would replace the affinity terms): the layer carries the merged list
    terms = second["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert [t["matchExpressions"][0]["key"] for t in terms] == ["z", "y"]
    assert terms[0]["matchExpressions"][0]["key"] and deep.layers[1].node.items["affinity"]
    shallow = translate_levels(_levels({"container_config": {"env": [{"name": "A", "value": "1"}],
                                                             "resources": {"limits": {"cpu": "1"}}}},
                                       {"container_config": {"env": [{"name": "B", "value": "2"}]},
                                        "merge_behavior": "SHALLOW"}))
    node = shallow.layers[1].node
    assert node.items["env"].directive == "replace" and "resources" not in node.items
    assert shallow.merged.plain()["container_config"] == {"env": [{"name": "B", "value": "2"}],
                                                          "resources": {"limits": {"cpu": "1"}}}


def test_identical_items_are_dropped_as_in_dagster_k8s():
    result = translate_levels(_levels({"container_config": {"env": [{"name": "MODE", "value": "dev"}]}},
                                      {"container_config": {"env": [{"name": "MODE", "value": "prod"}]}},
                                      {"container_config": {"env": [{"name": "MODE", "value": "dev"}]}}))
    assert to_plain(result.layers[-1].node)["env"] == [{"name": "MODE", "value": "prod"}]


def test_flat_keys_build_a_level_like_k8s_container_context():
    level = container_context_level({
        "env_vars": ["A=1", "B=x=y", "FROM_WORKER"], "env_config_maps": ["cm"], "env_secrets": ["sec"],
        "labels": {"team": "t"}, "volumes": [{"name": "v", "empty_dir": {}}],
        "volume_mounts": [{"name": "v", "mountPath": "/v"}], "resources": {"limits": {"cpu": "1"}},
        "image_pull_policy": "IfNotPresent", "image_pull_secrets": [{"name": "r"}],
        "service_account_name": "sa", "scheduler_name": "s", "security_context": {"run_as_user": 7},
        "job_namespace": "ns", "job_image": "img:1",
    }, "run-config:execution.config", raw_key="step_k8s_config", namespace_key="job_namespace",
        image_key="job_image", environ={"FROM_WORKER": "w"})
    assert level.namespace.value == "ns" and level.image.value == "img:1"
    plain = level.config.plain()
    assert plain["container_config"]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "x=y"},
                                                {"name": "FROM_WORKER", "value": "w"}]
    assert plain["container_config"]["envFrom"] == [{"configMapRef": {"name": "cm"}}, {"secretRef": {"name": "sec"}}]
    assert plain["pod_template_spec_metadata"] == plain["job_metadata"] == {"labels": {"team": "t"}}
    env = level.config.section("container_config").items["env"].items[2]
    assert env.origin.pos.file == "run-config:execution.config.env_vars[2]"


@pytest.mark.parametrize("cfg, needle", [
    ({"env_vars": ["MISSING"]}, "MISSING is not set in the environment"),
    ({"env_var": ["A=1"]}, "did you mean `env_vars`"),
    ({"volumes": [{"name": "v", "emptyDirr": {}}]}, "`emptyDirr` is not a field of V1Volume"),
])
def test_flat_key_errors(cfg, needle):
    with pytest.raises(PodcError) as err:
        container_context_level(cfg, "x", environ={})
    d = err.value.diagnostics[0]
    assert needle in f"{d.message} {d.hint}"


def test_run_launcher_and_code_location_levels():
    launcher = run_launcher_level({"job_image": "l:1", "job_namespace": "dagster", "dagster_home": "/dh",
                                   "instance_config_map": "i", "env_vars": ["L=1"],
                                   "run_k8s_config": {"container_config": {"env": [{"name": "M", "value": "2"}]}}},
                                  environ={})
    assert launcher.image.value == "l:1" and launcher.namespace.value == "dagster"
    [location] = code_location_levels({"env_vars": ["S=1"], "k8s": {"namespace": "team", "env": [
        {"name": "E", "value": "3"}], "server_k8s_config": {"container_config": {}}}}, "code-location", environ={})
    assert location.namespace.value == "team"
    result = translate_levels([launcher, location])
    assert result.namespace.value == "team" and result.image.value == "l:1"
    env = to_plain(result.layers[-1].node)["env"]
    assert [e["name"] for e in env] == ["L", "M", "S", "E"]


def test_run_launcher_allow_lists_apply_to_the_code_location_like_dagster_k8s():
    from podc.dagster.config import ExecutorSettings
    from podc.dagster.layers import StepInfo, step_plan
    from podc.dagster.tags import layers_from_tags

    info = StepInfo(run_id="r", job_name="j", step_key="s", command=("dagster",), step_env=(),
                    code_location_image="img:1",
                    container_context={"k8s": {"env_vars": ["OK=1", "NOPE=2"],
                                               "run_k8s_config": {"pod_spec_config": {"host_network": True}}}},
                    launcher_config={"only_allow_user_defined_k8s_config_fields": {
                        "container_config": {"env": True}, "pod_spec_config": {"node_selector": True}},
                        "only_allow_user_defined_env_vars": ["OK"]})
    with pytest.raises(PodcError) as err:
        step_plan(info, ExecutorSettings(), layers_from_tags({}, "s"), environ={})
    assert "pod_spec_config.hostNetwork is not in the run launcher's only_allow_user_defined_k8s_config_fields" \
        in str(err.value)
    info.launcher_config["only_allow_user_defined_k8s_config_fields"]["pod_spec_config"]["host_network"] = True
    plan = step_plan(info, ExecutorSettings(), layers_from_tags({}, "s"), environ={})
    location = next(layer for layer in plan.layers if layer.name == "code-location:container_context")
    assert [e["name"] for e in to_plain(location.content)["env"]] == ["OK"]
    assert any("env var NOPE dropped" in w.message for w in plan.warnings)
