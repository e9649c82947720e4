"""Custom policies: pattern and CEL rules, matching, params, messages, and located file errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from podc.check.custom import evaluate, load_policy_files, match_pattern
from podc.errors import Diagnostics

from _checkutil import clean_job, container, document, line_of

REGISTRY_POLICY = """\
policy: corp-images
description: images come from the corporate registry
match:
  kinds: [Job, CronJob]
  namespaces: ["batch*"]
  labels: {team: "data*"}
params:
  registry: registry.corp
  maxRetries: 3
rules:
  - id: approved-registry
    severity: error
    message: "images must come from {{ registry }}"
    pattern: {spec: {template: {spec: {containers: [{image: "registry.corp/*"}]}}}}
  - id: bounded-retries
    severity: warning
    message: "backoffLimit must be at most {{ maxRetries }}"
    cel: "object.spec.backoffLimit <= params.maxRetries"
    path: /spec/backoffLimit
"""


def load(tmp_path: Path, text: str, name: str = "policy.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    diags = Diagnostics()
    policies = load_policy_files([str(path)], diags)
    return path, policies, diags


def run(policies, manifest, target=None):
    return evaluate(document(manifest, target=target), policies)


def test_pattern_and_cel_rules_pass_on_a_compliant_job(tmp_path):
    _, policies, diags = load(tmp_path, REGISTRY_POLICY)
    assert not diags
    assert run(policies, clean_job()) == []


def test_pattern_rule_reports_each_offending_item_with_param_message(tmp_path):
    _, policies, _ = load(tmp_path, REGISTRY_POLICY)
    job = clean_job()
    second = dict(container(job), name="side", image="docker.io/evil:1")
    job["spec"]["template"]["spec"]["containers"].append(second)
    (v,) = run(policies, job)
    assert (v.policy, v.rule, v.severity) == ("corp-images", "approved-registry", "error")
    assert v.message.startswith("images must come from registry.corp")
    assert v.path == "/spec/template/spec/containers/1/image"
    assert v.pos.line > 0


def test_cel_rule_with_params_and_location(tmp_path):
    _, policies, _ = load(tmp_path, REGISTRY_POLICY)
    (v,) = run(policies, clean_job(backoffLimit=5))
    assert (v.rule, v.severity, v.path) == ("bounded-retries", "warning", "/spec/backoffLimit")
    assert v.message == "backoffLimit must be at most 3"


@pytest.mark.parametrize("change", [
    lambda j: j.update(kind="Deployment"),
    lambda j: j["metadata"].update(namespace="web"),
    lambda j: j["metadata"]["labels"].update(team="frontend"),
    lambda j: j["metadata"].pop("labels"),
], ids=["kind", "namespace", "label-value", "label-missing"])
def test_match_selectors_exclude_other_objects(tmp_path, change):
    _, policies, _ = load(tmp_path, REGISTRY_POLICY)
    job = clean_job(backoffLimit=9)
    container(job)["image"] = "docker.io/evil:1"
    assert len(run(policies, job)) == 2
    change(job)
    assert run(policies, job) == []


def test_match_by_target_only_applies_to_project_targets(tmp_path):
    _, policies, _ = load(tmp_path, """\
        policy: nightly-deadline
        match: {targets: ["nightly-*"]}
        rules:
          - id: short-deadline
            cel: "has(object.spec.activeDeadlineSeconds) && object.spec.activeDeadlineSeconds <= 600"
        """)
    job = clean_job()  # deadline 3600
    assert [v.rule for v in run(policies, job, target="nightly-etl")] == ["short-deadline"]
    assert run(policies, job, target="hourly-etl") == []
    assert run(policies, job, target=None) == []  # a plain manifest has no target


def test_pattern_semantics():
    value = {"a": {"b": [{"image": "x/1"}, {"image": "y/2"}]}, "flag": True, "n": 3}
    assert list(match_pattern({"a": {"b": [{"image": "?/*"}]}}, value, "")) == []
    assert [p for p, _ in match_pattern({"a": {"b": [{"image": "x/*"}]}}, value, "")] == ["/a/b/1/image"]
    # several pattern items: every list item must match at least one of them
    assert list(match_pattern({"a": {"b": [{"image": "x/*"}, {"image": "y/*"}]}}, value, "")) == []
    assert [p for p, _ in match_pattern({"missing": 1}, value, "")] == [""]
    assert list(match_pattern({"missing?": 1}, value, "")) == []   # optional key
    assert [p for p, _ in match_pattern({"flag?": False}, value, "")] == ["/flag"]
    assert list(match_pattern({"n": 3, "flag": True}, value, "")) == []
    assert [p for p, _ in match_pattern({"n": "!3"}, value, "")] == ["/n"]  # negated glob
    assert [p for p, _ in match_pattern({"flag": 1}, value, "")] == ["/flag"]  # True is not 1


def test_cel_missing_field_fails_the_rule_with_explanation(tmp_path):
    _, policies, _ = load(tmp_path, """\
        policy: p
        rules:
          - id: needs-priority
            message: set a priority class
            cel: "object.spec.template.spec.priorityClassName == 'batch'"
        """)
    (v,) = run(policies, clean_job())
    assert "set a priority class" in v.message and "priorityClassName" in v.message


@pytest.mark.parametrize("text, needle, code", [
    ("policy: p\nrulez: []\n", "rulez", "policy.unknown-key"),
    ("policy: p\nrules:\n  - id: r\n    cel: \"object.spec.x >\"\n", "cel:", "policy.cel"),
    ("policy: p\nrules:\n  - id: r\n    cel: \"objekt.spec.x > 1\"\n", "cel:", "policy.cel"),
    ("policy: p\nrules:\n  - id: r\n    pattern: \"registry/*\"\n", "pattern:", "policy.pattern"),
    ("policy: p\nrules:\n  - id: r\n    pattern: {spec: {containers: []}}\n", "pattern:", "policy.pattern"),
    ("policy: p\nrules:\n  - id: r\n    pattern: {a: 1}\n    cel: \"true\"\n", "- id: r", "policy.rule"),
    ("policy: p\nrules:\n  - id: r\n    severity: fatal\n    pattern: {a: 1}\n", "fatal", "policy.severity"),
    ("policy: p\nrules:\n  - id: r\n    message: \"{{ nope }}\"\n    pattern: {a: 1}\n", "message:", "policy.unknown-param"),
    ("policy: p\nmatch: {kindz: [Job]}\nrules:\n  - id: r\n    pattern: {a: 1}\n", "kindz", "policy.unknown-key"),
], ids=["unknown-key", "cel-syntax", "cel-variable", "pattern-not-map", "pattern-empty-list", "both",
        "severity", "message-param", "match-key"])
def test_policy_file_errors_are_located(tmp_path, text, needle, code):
    path, policies, diags = load(tmp_path, text)
    assert policies == []
    errors = [d for d in diags if d.code == code]
    assert errors, [(d.code, d.message) for d in diags]
    assert errors[0].pos.file == str(path)
    assert errors[0].pos.line == line_of(path, needle)


def test_unknown_key_suggests_the_right_one(tmp_path):
    _, _, diags = load(tmp_path, "policy: p\nrulse:\n  - id: r\n    pattern: {a: 1}\n")
    assert any(d.hint == "did you mean 'rules'?" for d in diags)


def test_cel_syntax_error_message_names_the_column(tmp_path):
    _, _, diags = load(tmp_path, "policy: p\nrules:\n  - id: r\n    cel: \"object.spec.x >\"\n")
    (d,) = [d for d in diags if d.code == "policy.cel"]
    assert "does not compile" in d.message and "1:16" in d.message


def test_cel_interpreter_is_imported_only_when_a_policy_uses_cel(tmp_path):
    pattern_only = tmp_path / "p.yaml"
    pattern_only.write_text("policy: p\nrules:\n  - id: r\n    pattern: {kind: Job}\n")
    with_cel = tmp_path / "c.yaml"
    with_cel.write_text("policy: c\nrules:\n  - id: r\n    cel: \"true\"\n")
    code = ("import sys; from podc.errors import Diagnostics; from podc.check.custom import load_policy_files;"
            "load_policy_files([sys.argv[1]], Diagnostics()); print('podc.check.cel' in sys.modules)")
    out = [subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, text=True, check=True).stdout.strip()
           for p in (pattern_only, with_cel)]
    assert out == ["False", "True"]
