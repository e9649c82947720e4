"""Integers bounded by their Kubernetes format, and `!delete` on a whole mapping, on both paths
(the pydantic models and the fast gate) -- qa-compiler-bugs.md #1 and #4."""

import pytest

from podc.errors import Diagnostics
from podc.model import validate_layer
from podc.model.gate import layer_fast_path
from podc.source import load_text

INT32_MAX = 2147483647
INT64_MAX = 9223372036854775807


def at(d):
    return (d.pos.line, d.pos.col)


def both_paths(text: str) -> tuple[bool, bool, list]:
    node = load_text(text, "layer.yaml", layer="t")[0]
    diags = Diagnostics()
    full = validate_layer(node, diags) is not None
    return layer_fast_path(node), full, diags.sorted()


@pytest.mark.parametrize("text", [
    f"backoffLimit: {INT32_MAX}\nparallelism: 0\n",
    f"activeDeadlineSeconds: {INT64_MAX}\nterminationGracePeriodSeconds: {INT64_MAX}\n",
    "secrets:\n  s: {mountPath: /s, defaultMode: 0o777, items: [{key: a, path: a, mode: 0}]}\n",
    f"podSecurityContext: {{runAsUser: {INT64_MAX}, fsGroup: 0, supplementalGroups: [{INT64_MAX}]}}\n",
    "ports: [{containerPort: 65535, hostPort: 0}, {containerPort: 1}]\n",
])
def test_values_at_the_bounds_are_valid_on_both_paths(text):
    fast, full, diags = both_paths(text)
    assert full and fast, diags


@pytest.mark.parametrize("text, where, message", [
    ("backoffLimit: 99999999999999999999999999999\n", (1, 15),
     "must be at most 2147483647, got 99999999999999999999999999999"),
    (f"parallelism: {INT32_MAX + 1}\n", (1, 14), f"must be at most 2147483647, got {INT32_MAX + 1}"),
    (f"completions: {INT32_MAX + 1}\n", (1, 14), "must be at most 2147483647"),
    (f"ttlSecondsAfterFinished: {INT32_MAX + 1}\n", (1, 26), "must be at most 2147483647"),
    (f"terminationGracePeriodSeconds: {INT64_MAX + 1}\n", (1, 32), f"must be at most {INT64_MAX}, got {INT64_MAX + 1}"),
    (f"activeDeadlineSeconds: {INT64_MAX + 1}\n", (1, 24), f"must be at most {INT64_MAX}"),
    ("parallelism: -5\n", (1, 14), "must be 0 or more, got -5"),
    ("secrets:\n  s: {mountPath: /s, defaultMode: 99999}\n", (2, 35), "must be at most 511, got 99999"),
    ("volumes:\n  c: {configMap: {name: c, items: [{key: a, path: a, mode: 512}]}}\n", (2, 60),
     "must be at most 511, got 512"),
    ("volumes:\n  c: {secret: {secretName: c, defaultMode: -1}}\n", (2, 44), "must be 0 or more, got -1"),
    (f"podSecurityContext: {{runAsUser: {INT64_MAX + 1}}}\n", (1, 33), f"must be at most {INT64_MAX}"),
    (f"securityContext: {{runAsGroup: {INT64_MAX + 1}}}\n", (1, 31), f"must be at most {INT64_MAX}"),
    ("ports: [{containerPort: 0}]\n", (1, 25), "must be at least 1, got 0"),
    ("ports: [{containerPort: 65536}]\n", (1, 25), "must be at most 65535, got 65536"),
    (f"tolerations: [{{key: a, operator: Exists, tolerationSeconds: {INT64_MAX + 1}}}]\n", (1, 61),
     f"must be at most {INT64_MAX}"),
])
def test_out_of_range_integers_are_located_at_the_value(text, where, message):
    fast, full, diags = both_paths(text)
    assert not fast and not full
    assert len(diags) == 1, [str(d) for d in diags]
    d = diags[0]
    assert d.code == "layer.value" and message in d.message and at(d) == where


def test_a_file_mode_error_explains_octal():
    _, _, (d,) = both_paths("secrets:\n  s: {mountPath: /s, defaultMode: 777}\n")
    assert "0777" in d.hint and "511" in d.hint


@pytest.mark.parametrize("text, where, field", [
    ("secrets: !delete {name: x}\n", (1, 10), "secrets"),
    ("volumes: !delete {name: x}\n", (1, 10), "volumes"),
    ("initContainers: !delete {name: x}\n", (1, 17), "initContainers"),
    ("sidecars: !delete {name: x}\n", (1, 11), "sidecars"),
    ("env:\n  X:\n    value: !delete {name: x}\n", (3, 12), "env.X.value"),
    ("labels: !delete {team: x}\n", (1, 9), "labels"),
    ("resources: {limits: !delete {cpu: 1}}\n", (1, 21), "resources.limits"),
    ("initContainers:\n  i: {image: x, env: !delete {Y: '1'}}\n", (2, 22), "initContainers.i.env"),
])
def test_delete_on_a_whole_mapping_is_a_located_directive_error(text, where, field):
    fast, full, diags = both_paths("image: x\n" + text)
    assert not fast and not full
    assert len(diags) == 1, [str(d) for d in diags]
    d = diags[0]
    assert d.code == "layer.directive" and "!delete" in d.message and f"`{field}`" in d.message
    assert at(d) == (where[0] + 1, where[1])
    assert "null" in d.hint


def test_secrets_hint_deletes_entries_one_by_one():
    _, _, (d,) = both_paths("secrets: !delete {name: x}\n")
    assert d.hint == "delete the entries earlier layers added one by one: `secrets: {<name>: null}`"


@pytest.mark.parametrize("text", [
    "volumes:\n  old: !delete {emptyDir: {}}\n",
    "secrets:\n  old: !delete {mountPath: /s}\n",
    "env:\n  X: !delete {value: b}\n",
    "initContainers:\n  i: !delete {image: x}\nsidecars:\n  s: {$patch: delete}\n",
    "initContainers:\n  i: {image: x, env: {Y: !delete {value: '1'}}}\n",
    "labels:\n  team: !delete\nresources: !delete\n",
])
def test_delete_on_one_entry_stays_valid(text):
    fast, full, diags = both_paths("image: x\n" + text)
    assert full and fast, [str(d) for d in diags]
