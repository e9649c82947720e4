"""Op tags → layers: podc/layers, podc/config, and the dagster-k8s/config migration."""

from __future__ import annotations

import json

import pytest

from podc.dagster.migrate import camelize, translate_dagster_k8s_config
from podc.dagster.tags import layers_from_tags, parse_config_tag, parse_layers_tag
from podc.errors import PodcError


@pytest.mark.parametrize("value, expected", [
    ("highmem", ["highmem"]),
    (" highmem , layers/gpu.yaml ,", ["highmem", "layers/gpu.yaml"]),
    ('["highmem", "layers/gpu.yaml"]', ["highmem", "layers/gpu.yaml"]),
    (["a", " b "], ["a", "b"]),
    ("", []),
])
def test_layers_tag_forms(value, expected):
    assert parse_layers_tag(value, "s") == expected


@pytest.mark.parametrize("value, needle", [
    ('["a", ', "invalid JSON list"),
    ('{"a": 1}', "expected a list"),
    ('[1, "b"]', "must be strings"),
    (42, "expected text"),
])
def test_layers_tag_errors_name_the_tag_and_step(value, needle):
    with pytest.raises(PodcError) as err:
        parse_layers_tag(value, "my_op")
    text = str(err.value)
    assert needle in text and "podc/layers" in text and "my_op" in text
    assert err.value.diagnostics[0].hint


def test_config_tag_json_yaml_and_dict_agree():
    as_dict = {"image": "x:1", "env": {"A": "1"}}
    assert parse_config_tag(json.dumps(as_dict)) == as_dict
    assert parse_config_tag("image: x:1\nenv:\n  A: '1'\n") == as_dict
    assert parse_config_tag(as_dict) == as_dict
    assert parse_config_tag("") == {}


def test_config_tag_yaml_errors_have_positions():
    with pytest.raises(PodcError) as err:
        parse_config_tag("image: a\nimage: b\n", "op1")
    diag = err.value.diagnostics[0]
    assert diag.pos.line == 2 and "podc/config" in str(diag.pos.file)


@pytest.mark.parametrize("value, needle", [
    ("{bad json", "invalid JSON"),
    ("- a\n- b\n", "expected a mapping"),
    (3, "expected a layer"),
])
def test_config_tag_errors(value, needle):
    with pytest.raises(PodcError, match=needle):
        parse_config_tag(value, "op1")


def test_yaml_config_tag_keeps_a_positioned_tree_named_after_the_tag():
    tags = layers_from_tags({"podc/config": "image: a:1\n"}, "s")
    assert tags.inline == {"image": "a:1"}
    assert tags.inline_node.get("image").origin.layer == "tag:podc/config"
    assert tags.inline_node.get("image").origin.pos.line == 1


# --- dagster-k8s/config migration -------------------------------------------------------------

def test_camelize_converts_fields_not_free_form_keys():
    warnings: list[str] = []
    out = camelize("V1Container", {
        "security_context": {"run_as_user": 1000, "capabilities": {"drop": ["ALL"]}},
        "resources": {"limits": {"nvidia.com/gpu": 1, "memory": "1Gi"}},
        "env": [{"name": "A_B", "value_from": {"secret_key_ref": {"name": "s", "key": "k"}}}],
        "workingDir": "/w",
    }, "container_config", warnings)
    assert out == {
        "securityContext": {"runAsUser": 1000, "capabilities": {"drop": ["ALL"]}},
        "resources": {"limits": {"nvidia.com/gpu": 1, "memory": "1Gi"}},
        "env": [{"name": "A_B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
        "workingDir": "/w",
    }
    assert warnings == []
    meta = camelize("V1ObjectMeta", {"labels": {"team_name": "x"}}, "m", warnings)
    assert meta == {"labels": {"team_name": "x"}}


def test_translation_maps_sections_onto_podc_fields():
    tag = {
        "container_config": {
            "image": "x:1", "image_pull_policy": "Always",
            "env": [{"name": "FOO", "value": "1"},
                    {"name": "TOKEN", "value_from": {"secret_key_ref": {"name": "s", "key": "t"}}}],
            "resources": {"limits": {"memory": "1Gi"}},
            "volume_mounts": [{"name": "data", "mount_path": "/data"}],
            "working_dir": "/w",
        },
        "pod_spec_config": {
            "node_selector": {"pool": "a"},
            "tolerations": [{"key": "k", "operator": "Exists"}],
            "service_account_name": "runner",
            "security_context": {"fs_group": 2000},
            "image_pull_secrets": [{"name": "regcred"}],
            "volumes": [{"name": "data", "persistent_volume_claim": {"claim_name": "pvc"}}],
            "priority_class_name": "high",
        },
        "pod_template_spec_metadata": {"labels": {"a": "b"}, "annotations": {"x": "y"}},
        "job_metadata": {"labels": {"j": "1"}},
        "job_spec_config": {"backoff_limit": 3, "ttl_seconds_after_finished": 60, "parallelism": 1},
    }
    t = translate_dagster_k8s_config(json.dumps(tag), "op")
    assert t.warnings == []
    layer = t.layer
    assert layer["image"] == "x:1" and layer["imagePullPolicy"] == "Always"
    assert layer["env"] == {"FOO": "1"}
    assert layer["raw"]["container"]["env"] == [
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "t"}}}]
    assert layer["raw"]["container"]["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    assert layer["raw"]["container"]["workingDir"] == "/w"
    assert layer["nodeSelector"] == {"pool": "a"}
    assert layer["tolerations"] == [{"key": "k", "operator": "Exists"}]
    assert layer["serviceAccountName"] == "runner"
    assert layer["podSecurityContext"] == {"fsGroup": 2000}
    assert layer["imagePullSecrets"] == ["regcred"]
    assert layer["raw"]["podSpec"] == {
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "pvc"}}],
        "priorityClassName": "high"}
    assert layer["podLabels"] == {"a": "b"} and layer["podAnnotations"] == {"x": "y"}
    assert layer["labels"] == {"j": "1"}
    assert layer["backoffLimit"] == 3 and layer["ttlSecondsAfterFinished"] == 60
    assert layer["raw"]["jobSpec"] == {"parallelism": 1}


def test_translation_accepts_camel_case_sections_and_keys():
    t = translate_dagster_k8s_config({"containerConfig": {"imagePullPolicy": "Never"},
                                      "podSpecConfig": {"nodeSelector": {"a": "b"}}})
    assert t.layer == {"imagePullPolicy": "Never", "nodeSelector": {"a": "b"}}
    assert t.warnings == []


def test_translation_warns_for_what_it_cannot_honour():
    t = translate_dagster_k8s_config({
        "container_config": {"name": "dagster", "bogus_field": 1},
        "job_metadata": {"name": "custom-name", "labels": {"a": "b"}},
        "pod_template_spec_metadata": {"generate_name": "p-"},
        "job_spec_config": {"selector": {"match_labels": {"a": "b"}}},
        "merge_behavior": "SHALLOW",
        "surprise": {},
    }, "op")
    text = "\n".join(t.warnings)
    for needle in ("container_config.name", "container_config.bogus_field", "job_metadata.name",
                   "pod_template_spec_metadata.generateName", "job_spec_config.selector",
                   "SHALLOW", "surprise"):
        assert needle in text, needle
    assert t.layer == {"labels": {"a": "b"}}


def test_translation_collapses_duplicates_dagster_k8s_would_emit():
    t = translate_dagster_k8s_config({
        "container_config": {"env": [{"name": "FOO", "value": "1"}, {"name": "FOO", "value": "2"}]},
        "pod_spec_config": {"volumes": [{"name": "v", "empty_dir": {}},
                                        {"name": "v", "config_map": {"name": "cm"}}]},
    })
    assert t.layer["env"] == {"FOO": "2"}
    assert t.layer["raw"]["podSpec"]["volumes"] == [{"name": "v", "configMap": {"name": "cm"}}]
    assert sum("FOO is set twice" in w for w in t.warnings) == 1
    assert sum("v is listed twice" in w for w in t.warnings) == 1


def test_job_config_section_is_split_like_the_others():
    t = translate_dagster_k8s_config({"job_config": {
        "metadata": {"labels": {"a": "1"}},
        "spec": {"backoff_limit": 2, "template": {"metadata": {"labels": {"p": "1"}},
                                                   "spec": {"node_selector": {"n": "1"}}}},
    }})
    assert t.layer == {"labels": {"a": "1"}, "backoffLimit": 2, "podLabels": {"p": "1"},
                       "nodeSelector": {"n": "1"}}


@pytest.mark.parametrize("value, needle", [
    ("{nope", "invalid JSON"), ("[1]", "expected a mapping"),
    ({"container_config": [1]}, "container_config must be a mapping"),
])
def test_translation_errors(value, needle):
    with pytest.raises(PodcError, match=needle):
        translate_dagster_k8s_config(value, "op")


def test_layers_from_tags_orders_and_collects_warnings():
    tags = layers_from_tags({
        "podc/layers": "gpu",
        "dagster-k8s/config": json.dumps({"container_config": {"name": "x"}}),
        "podc/config": '{"image": "i:1"}',
        "unrelated": "v",
    }, "s")
    assert tags.named == ["gpu"] and tags.inline == {"image": "i:1"}
    assert tags.migrated == {} and len(tags.warnings) == 1


def test_json_config_tag_is_positioned_too():
    tags = layers_from_tags({"podc/config": '{"image": "a:1",\n "env": {"A": "1"}}'}, "s")
    assert tags.inline == {"image": "a:1", "env": {"A": "1"}}
    image = tags.inline_node.get("image")
    assert (image.origin.pos.line, image.origin.pos.col) == (1, 11)
    assert tags.inline_node.get("env").get("A").origin.pos.line == 2


def test_legacy_resource_requirements_tag_is_merged_into_the_container_resources():
    tags = layers_from_tags({
        "dagster-k8s/resource_requirements": '{"limits": {"memory": "2Gi"}}',
        "dagster-k8s/config": json.dumps({"container_config": {"resources": {"requests": {"cpu": "1"}}}}),
    }, "s")
    assert tags.migrated == {"resources": {"requests": {"cpu": "1"}, "limits": {"memory": "2Gi"}}}
    only_legacy = layers_from_tags({"dagster-k8s/resource_requirements": {"requests": {"cpu": "250m"}}}, "s")
    assert only_legacy.migrated == {"resources": {"requests": {"cpu": "250m"}}}
    with pytest.raises(PodcError, match="resource_requirements"):
        layers_from_tags({"dagster-k8s/resource_requirements": "{oops"}, "s")
