"""Report formats: the JSON shape, SARIF 2.1.0 validity and locations, JUnit structure, determinism."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from _checkutil import clean_job, container, line_of, run_cli, write_yaml

HERE = Path(__file__).parent


@pytest.fixture
def repo(tmp_path):
    """A git-like repo with one clean and one violating Job in k8s/jobs.yaml."""
    (tmp_path / ".git").mkdir()
    bad = clean_job("bad")
    container(bad)["image"] = "busybox"
    container(bad)["securityContext"]["privileged"] = True
    write_yaml(tmp_path / "k8s" / "jobs.yaml", clean_job("good"), bad)
    return tmp_path


def test_json_shape(repo):
    code, out, _ = run_cli("k8s/jobs.yaml", "--format", "json", cwd=repo)
    assert code == 1
    data = json.loads(out)
    assert list(data) == ["version", "summary", "documents", "notices"]
    assert data["version"] == 1
    assert set(data["summary"]) == {"documents", "violations", "error", "warning", "info", "suppressed",
                                    "failOn", "failed", "kubernetesVersion", "pss"}
    assert data["summary"]["documents"] == 2 and data["summary"]["violations"] == 2
    good, bad = data["documents"]
    assert {k: good[k] for k in ("file", "index", "kind", "name", "violations")} == {
        "file": "k8s/jobs.yaml", "index": 0, "kind": "Job", "name": "good", "violations": []}
    assert "target" not in good
    for v in bad["violations"]:
        assert set(v) - {"hint"} == {"policy", "rule", "severity", "message", "path", "source"}
        assert set(v["source"]) == {"file", "line", "column"} and v["path"].startswith("/spec/")
    assert sorted(v["rule"] for v in bad["violations"]) == ["image-tag", "privileged"]


def test_sarif_is_valid_and_located_relative_to_repo_root(repo):
    code, out, _ = run_cli("jobs.yaml", "--format", "sarif", cwd=repo / "k8s")
    assert code == 1
    data = json.loads(out)
    schema = json.loads((HERE / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker()).validate(data)
    run = data["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} == {"best-practices/image-tag", "pod-security/privileged"}
    image_rule = next(r for r in rules if r["id"] == "best-practices/image-tag")
    assert image_rule["fullDescription"]["text"] and image_rule["help"]["text"]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    priv = by_rule["pod-security/privileged"]
    assert priv["level"] == "error"
    loc = priv["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "k8s/jobs.yaml"
    assert loc["region"]["startLine"] == line_of(repo / "k8s" / "jobs.yaml", '"privileged": true')
    assert loc["region"]["startColumn"] > 1
    assert rules[priv["ruleIndex"]]["id"] == "pod-security/privileged"


def test_sarif_of_a_clean_run_is_valid_with_no_results(repo):
    write_yaml(repo / "k8s" / "jobs.yaml", clean_job())
    code, out, _ = run_cli("k8s/jobs.yaml", "--format", "sarif", cwd=repo)
    data = json.loads(out)
    schema = json.loads((HERE / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(data)
    assert code == 0 and data["runs"][0]["results"] == []


def test_junit_is_parseable_with_one_suite_per_document(repo):
    code, out, _ = run_cli("k8s/jobs.yaml", "--format", "junit", cwd=repo)
    assert code == 1
    root = ET.fromstring(out)
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["k8s/jobs.yaml#0 Job/good", "k8s/jobs.yaml#1 Job/bad"]
    assert [c.get("name") for c in suites[0]] == ["policies"] and suites[0].find("testcase/failure") is None
    failures = suites[1].findall("testcase/failure")
    assert {f.get("type") for f in failures} == {"error"}
    assert root.get("failures") == "2" and suites[1].get("failures") == "2"
    assert any("privileged" in (f.text or "") and "k8s/jobs.yaml:" in f.text for f in failures)


def test_junit_below_fail_on_is_not_a_failure(repo):
    job = clean_job()
    container(job)["image"] = "registry.corp/etl:1.0"  # only image-digest (info)
    write_yaml(repo / "k8s" / "jobs.yaml", job)
    code, out, _ = run_cli("k8s/jobs.yaml", "--format", "junit", cwd=repo)
    root = ET.fromstring(out)
    assert code == 0 and root.get("failures") == "0"
    assert "not pinned by digest" in root.find("testsuite/testcase/system-out").text


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit"])
def test_output_is_deterministic(repo, fmt):
    first = run_cli("k8s/jobs.yaml", "--format", fmt, cwd=repo)
    second = run_cli("k8s/jobs.yaml", "--format", fmt, cwd=repo)
    assert first == second and first[1]
