"""Layers: scalars whose meaning depends on the reader are refused where podc makes text of them
(podc.model.scalars); numbers in number fields keep kustomize's value."""

from __future__ import annotations

import pytest

from podc.errors import Diagnostics
from podc.model.gate import check_layer
from podc.source import load_text


def problems(text: str) -> list:
    (node,) = load_text(text, "l.yaml")
    diags = Diagnostics()
    check_layer(node, diags)
    return [(d.code, d.pos.line, d.pos.col, d.hint) for d in diags.errors]


@pytest.mark.parametrize("text, col", [
    ("labels: {version: 1.10}\n", 19),
    ("labels: {mode: 0400}\n", 16),
    ("annotations: {on: True}\n", 19),
    ("env: {PERMS: 0644}\n", 14),
    ("env: {DAY: 2024-01-01}\n", 12),
    ("args: [--since, 2024-01-01]\n", 17),
    ("command: [sleep, 1e3]\n", 18),
    ("nodeSelector: {gen: +3}\n", 21),
    ("raw:\n  job:\n    metadata:\n      labels: {v: 0x1F}\n", 19),
])
def test_text_fields_refuse_reader_dependent_scalars(text, col):
    ((code, line, c, hint),) = problems(text)
    assert code == "yaml.ambiguous-scalar" and c == col and "quote it" in hint


@pytest.mark.parametrize("text", [
    "labels: {version: '1.10', n: 5, ok: true, day: 2024-01-01}\n",  # timestamps stay text in labels
    "env: {N: 5, F: 1.5, B: true, Q: \"0644\"}\n",
    "backoffLimit: 0x2\nsecrets:\n  db: {mountPath: /s, defaultMode: 0400}\n",
    "exceptions:\n  - {policy: pss, rule: runAsNonRoot, reason: vendor image, expires: 2027-03-31}\n",
    "raw:\n  podSpec:\n    terminationGracePeriodSeconds: 0o17\n",
])
def test_canonical_spellings_and_number_fields_pass(text):
    assert problems(text) == []


def test_octal_mode_is_kustomizes_value():
    (node,) = load_text("secrets:\n  db: {mountPath: /s, defaultMode: 0400}\n", "l.yaml")
    assert node.items["secrets"].items["db"].items["defaultMode"].value == 256


def test_flow_colon_forms_are_valid_yaml():
    (node,) = load_text("args: [--input, s3://acme-ml/raw]\nraw: {container: {image: busybox:1.36}}\n", "l.yaml")
    assert node.items["args"].items[1].value == "s3://acme-ml/raw"
    assert node.items["raw"].items["container"].items["image"].value == "busybox:1.36"
