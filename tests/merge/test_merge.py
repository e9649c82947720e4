"""Unit tests for the layer merge: one rule per test, with provenance."""

from __future__ import annotations

import pytest

from podc.errors import Diagnostics, Pos
from podc.merge import merge, merge_all
from podc.source import load_text
from podc.tree import Origin, from_plain, to_plain


def layer(name: str, data: dict):
    return from_plain(data, Origin(name, Pos(f"{name}.yaml", 1, 1)))


def pod(spec: dict) -> dict:
    return {"spec": {"template": {"spec": spec}}}


def fold(*layers, mode="podc"):
    diags = Diagnostics()
    result = merge_all([(l, mode) for l in layers], diags)
    return result, diags


def pod_spec(node) -> dict:
    return to_plain(node)["spec"]["template"]["spec"]


def test_maps_merge_by_key_and_later_scalar_wins_with_history():
    a = layer("a", {"metadata": {"labels": {"x": "1", "y": "1"}}})
    b = layer("b", {"metadata": {"labels": {"y": "2", "z": "3"}}})
    c = layer("c", {"metadata": {"labels": {"y": "3"}}})
    out, diags = fold(a, b, c)
    assert to_plain(out) == {"metadata": {"labels": {"x": "1", "y": "3", "z": "3"}}}
    y = out.items["metadata"].items["labels"].items["y"]
    assert y.origin.layer == "c"
    assert [o.layer for o in y.overridden] == ["a", "b"]
    assert not diags


def test_null_removes_a_key():
    a = layer("a", {"nodeSelector": {"pool": "gpu", "zone": "a"}})
    b = layer("b", {"nodeSelector": {"zone": None}})
    out, _ = fold(a, b)
    assert to_plain(out) == {"nodeSelector": {"pool": "gpu"}}


def test_env_merges_by_name_keeping_order_new_items_last():
    a = layer("a", pod({"containers": [{"name": "main", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}]}))
    b = layer("b", pod({"containers": [{"name": "main", "env": [{"name": "C", "value": "3"}, {"name": "A", "value": "9"}]}]}))
    out, _ = fold(a, b)
    env = pod_spec(out)["containers"][0]["env"]
    assert env == [{"name": "A", "value": "9"}, {"name": "B", "value": "2"}, {"name": "C", "value": "3"}]


def test_tolerations_accumulate_in_podc_mode_and_are_replaced_in_smp_mode():
    a = layer("a", pod({"tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]}))
    b = layer("b", pod({"tolerations": [{"key": "spot", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]}))
    out, _ = fold(a, b)
    assert [t["key"] for t in pod_spec(out)["tolerations"]] == ["gpu", "spot"]
    diags = Diagnostics()
    smp = merge(merge(None, a, "podc", diags), b, "smp", diags)
    assert [t["key"] for t in pod_spec(smp)["tolerations"]] == ["spot"]


def test_identical_toleration_updates_in_place():
    a = layer("a", pod({"tolerations": [{"key": "k", "effect": "NoExecute", "tolerationSeconds": 10}]}))
    b = layer("b", pod({"tolerations": [{"key": "k", "operator": "Equal", "effect": "NoExecute", "tolerationSeconds": 60}]}))
    out, _ = fold(a, b)
    tols = pod_spec(out)["tolerations"]
    assert len(tols) == 1 and tols[0]["tolerationSeconds"] == 60


def test_ports_key_on_port_and_protocol():
    a = layer("a", pod({"containers": [{"name": "m", "ports": [{"containerPort": 53, "protocol": "UDP"}]}]}))
    b = layer("b", pod({"containers": [{"name": "m", "ports": [{"containerPort": 53}]}]}))
    out, _ = fold(a, b)
    assert pod_spec(out)["containers"][0]["ports"] == [{"containerPort": 53, "protocol": "UDP"}, {"containerPort": 53}]


def test_volume_source_is_a_union_replaced_whole():
    a = layer("a", pod({"volumes": [{"name": "data", "emptyDir": {"sizeLimit": "1Gi"}}]}))
    b = layer("b", pod({"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "pvc"}}]}))
    out, _ = fold(a, b)
    assert pod_spec(out)["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": "pvc"}}]


def test_same_volume_source_merges_fields():
    a = layer("a", pod({"volumes": [{"name": "data", "emptyDir": {"medium": "Memory"}}]}))
    b = layer("b", pod({"volumes": [{"name": "data", "emptyDir": {"sizeLimit": "1Gi"}}]}))
    out, _ = fold(a, b)
    assert pod_spec(out)["volumes"] == [{"name": "data", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}}]


def test_env_value_and_value_from_are_a_union():
    a = layer("a", pod({"containers": [{"name": "m", "env": [{"name": "P", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}]}))
    b = layer("b", pod({"containers": [{"name": "m", "env": [{"name": "P", "value": "x"}]}]}))
    out, _ = fold(a, b)
    assert pod_spec(out)["containers"][0]["env"] == [{"name": "P", "value": "x"}]
    c = layer("c", pod({"containers": [{"name": "m", "env": [{"name": "P", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}]}]}))
    out, _ = fold(a, c)
    assert pod_spec(out)["containers"][0]["env"] == [{"name": "P", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}]


def test_probe_handler_union():
    a = layer("a", pod({"containers": [{"name": "m", "livenessProbe": {"exec": {"command": ["true"]}, "periodSeconds": 5}}]}))
    b = layer("b", pod({"containers": [{"name": "m", "livenessProbe": {"httpGet": {"path": "/", "port": 80}}}]}))
    out, _ = fold(a, b)
    assert pod_spec(out)["containers"][0]["livenessProbe"] == {"periodSeconds": 5, "httpGet": {"path": "/", "port": 80}}


def test_unkeyed_lists_are_replaced_and_remember_what_they_replaced():
    a = layer("a", pod({"containers": [{"name": "m", "command": ["a", "b"]}]}))
    b = layer("b", pod({"containers": [{"name": "m", "command": ["c"]}]}))
    out, _ = fold(a, b)
    cmd = out.items["spec"].items["template"].items["spec"].items["containers"].items[0].items["command"]
    assert to_plain(cmd) == ["c"] and [o.layer for o in cmd.overridden] == ["a"]


def test_replace_directive_from_yaml_tag_and_patch_key():
    a = layer("a", pod({"containers": [{"name": "m", "env": [{"name": "A", "value": "1"}]}], "nodeSelector": {"a": "1"}}))
    b = load_text(
        "spec:\n  template:\n    spec:\n      containers:\n      - name: m\n        env: !replace\n        - {name: B, value: '2'}\n"
        "      nodeSelector: {$patch: replace, b: '2'}\n", "b.yaml", layer="b")[0]
    out, diags = fold(a, b)
    spec = pod_spec(out)
    assert spec["containers"][0]["env"] == [{"name": "B", "value": "2"}]
    assert spec["nodeSelector"] == {"b": "2"}
    assert not diags


def test_strategic_merge_replace_item():
    a = layer("a", pod({"tolerations": [{"key": "x"}]}))
    b = layer("b", pod({"tolerations": [{"$patch": "replace"}, {"key": "y"}]}))
    out, _ = fold(a, b)
    assert pod_spec(out)["tolerations"] == [{"key": "y"}]


def test_delete_directive_removes_one_keyed_item():
    a = layer("a", pod({"volumes": [{"name": "a", "emptyDir": {}}, {"name": "b", "emptyDir": {}}]}))
    b = load_text("spec: {template: {spec: {volumes: [!delete {name: a}]}}}\n", "b.yaml", layer="b")[0]
    out, diags = fold(a, b)
    assert pod_spec(out)["volumes"] == [{"name": "b", "emptyDir": {}}]
    assert not diags


def test_delete_of_missing_item_is_a_warning():
    a = layer("a", pod({"volumes": [{"name": "a", "emptyDir": {}}]}))
    b = layer("b", pod({"volumes": [{"name": "zzz", "$patch": "delete"}]}))
    out, diags = fold(a, b)
    assert [d.code for d in diags] == ["merge.delete-missing"]
    assert diags.items[0].severity == "warning"
    assert pod_spec(out)["volumes"] == [{"name": "a", "emptyDir": {}}]


def test_duplicate_keys_inside_one_layer_are_errors_with_both_positions():
    b = load_text("env:\n- name: A\n  value: '1'\n- name: A\n  value: '2'\n", "dup.yaml", layer="dup")[0]
    out, diags = fold(b)
    (d,) = diags.errors
    assert d.code == "merge.duplicate-key"
    assert (d.pos.line, d.pos.col) == (4, 3)
    assert d.related[0][0].line == 2
    assert to_plain(out) == {"env": [{"name": "A", "value": "1"}]}


def test_keyed_item_without_key_is_an_error():
    b = layer("b", {"env": [{"value": "x"}]})
    _, diags = fold(b)
    assert [d.code for d in diags.errors] == ["merge.missing-key"]


def test_inputs_are_not_mutated():
    a = layer("a", pod({"containers": [{"name": "m", "image": "a"}]}))
    b = layer("b", pod({"containers": [{"name": "m", "image": "b"}]}))
    before_a, before_b = to_plain(a), to_plain(b)
    fold(a, b)
    fold(b, a)
    assert to_plain(a) == before_a and to_plain(b) == before_b
    img = a.items["spec"].items["template"].items["spec"].items["containers"].items[0].items["image"]
    assert img.overridden == ()


def test_type_change_replaces_and_records():
    a = layer("a", {"x": {"y": 1}})
    b = layer("b", {"x": "flat"})
    out, _ = fold(a, b)
    assert to_plain(out) == {"x": "flat"}
    assert out.items["x"].overridden[0].layer == "a"


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError):
        merge(None, layer("a", {}), "json", Diagnostics())


def test_messages_name_keyed_items_on_the_path_and_fresh_patches_keep_their_values():
    a = layer("a", pod({"containers": [{"name": "main", "env": [{"name": "A", "value": "1"}]}]}))
    b = layer("b", pod({"containers": [{"name": "main", "env": [{"name": "B", "value": "2"},
                                                                 {"name": "B", "value": "3"}]}],
                        "tolerations": [{"key": "k", "operator": "Exists", "$patch": "delete"}]}))
    out, diags = fold(a, b)
    paths = sorted((d.code, d.path) for d in diags.items)
    assert paths == [("merge.delete-missing", "spec.template.spec.tolerations[key=k,operator=Exists]"),
                     ("merge.duplicate-key", "spec.template.spec.containers[name=main].env[name=B]")]
    assert pod_spec(out)["containers"][0]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    # a fresh mapping drops its deletions and directives, and is otherwise the patch's own content
    c = layer("c", {"metadata": {"labels": {"x": "1", "gone": None}}, "spec": {"template": {"metadata": {"a": "b"}}}})
    out, diags = fold(c)
    assert to_plain(out) == {"metadata": {"labels": {"x": "1"}}, "spec": {"template": {"metadata": {"a": "b"}}}}
