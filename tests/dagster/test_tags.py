"""Op tags → layers: podc/layers, podc/config, and the dagster-k8s/config migration."""

from __future__ import annotations

import json

import pytest

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


def test_layers_from_tags_orders_and_collects_warnings():
    tags = layers_from_tags({
        "podc/layers": "gpu",
        "dagster-k8s/config": json.dumps({"container_config": {"name": "x"}}),
        "podc/config": '{"image": "i:1"}',
        "unrelated": "v",
    }, "s")
    assert tags.named == ["gpu"] and tags.inline == {"image": "i:1"}
    assert tags.k8s_level.name == "tag:dagster-k8s/config"
    container = tags.k8s_level.config.section("container_config")
    assert container.items["name"].value == "x"
    assert container.items["name"].origin.pos.file == "<op tag dagster-k8s/config on s>.container_config.name"


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
    # as dagster-k8s: merge_dicts(container_config, {"resources": legacy}) replaces the resources
    assert tags.k8s_level.config.plain()["container_config"] == {"resources": {"limits": {"memory": "2Gi"}}}
    only_legacy = layers_from_tags({"dagster-k8s/resource_requirements": {"requests": {"cpu": "250m"}}}, "s")
    assert only_legacy.k8s_level.config.plain()["container_config"] == {
        "resources": {"requests": {"cpu": "250m"}}}
    with pytest.raises(PodcError, match="resource_requirements"):
        layers_from_tags({"dagster-k8s/resource_requirements": "{oops"}, "s")
