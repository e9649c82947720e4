"""The policy gate holds against the job author (issue 9 §1, §2): exceptions are governed by the
project, suppressed violations are never silent, and schema/API-server rules always run."""

from __future__ import annotations

import io
import json
import os
import textwrap
import xml.etree.ElementTree as ET
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from _checkutil import line_of, run_cli

TODAY = "2026-11-24"

PRIVILEGED_JOB = """\
image: registry.corp/etl:1.2.3
command: [sh, -c, "echo hi"]
raw:
  podSpec:
    hostNetwork: true
  container:
    securityContext: {privileged: true}
"""


def project(root: Path, policies: str = "", job: str = PRIVILEGED_JOB, files: dict[str, str] | None = None) -> Path:
    (root / "jobs").mkdir(parents=True, exist_ok=True)
    (root / "jobs" / "etl.yaml").write_text(job)
    (root / "podc.yaml").write_text("targets:\n  etl: {file: jobs/etl.yaml}\n" + policies)
    for rel, text in (files or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return root


def compile_cli(root: Path, *args: str) -> tuple[int, str, str]:
    from podc.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    try:
        os.chdir(root)
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["compile", ".", *args])
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue()


LAYER_EXCEPTIONS = ("exceptions:\n  - {policy: pss, rule: privileged, reason: mine}\n"
                    "  - {policy: pss, rule: hostNamespaces, reason: mine}\n")


def test_a_job_file_cannot_except_itself(tmp_path):
    root = project(tmp_path, job=PRIVILEGED_JOB + LAYER_EXCEPTIONS)
    code, out, err = compile_cli(root, "--stdout")
    assert code == 2 and out == ""
    line = line_of(root / "jobs" / "etl.yaml", "exceptions:")
    assert f"jobs/etl.yaml:{line}:1: error[exception.not-allowed]" in err
    assert not (root / "build").exists()
    code, out, err = run_cli(cwd=root)
    assert code == 2 and "exception.not-allowed" in err


def test_opt_in_names_which_policies_layers_may_except(tmp_path):
    job = PRIVILEGED_JOB + ("exceptions:\n  - {policy: pss, rule: privileged, reason: mine}\n"
                            "  - {policy: best-practices, rule: image-digest, reason: pinned later}\n")
    root = project(tmp_path, "policies:\n  layerExceptions: [best-practices]\n", job=job)
    code, _, err = run_cli(cwd=root)
    assert code == 2
    line = line_of(root / "jobs" / "etl.yaml", "rule: privileged")
    assert f"jobs/etl.yaml:{line}:5: error: layer jobs/etl.yaml may not except pod-security/privileged" \
        in err.replace("[exception.not-allowed]", "")
    assert "image-digest" not in err  # the allowed one is fine
    # `true` opts in for every policy
    project(tmp_path, "policies:\n  layerExceptions: true\n  pss: restricted\n", job=job)
    code, out, err = run_cli("--format", "json", cwd=root)
    assert "exception.not-allowed" not in err
    rules = {(v["policy"], v["rule"]) for v in json.loads(out)["documents"][0]["suppressed"]}
    assert ("pod-security", "privileged") in rules


def test_unknown_policy_in_the_opt_in_is_located(tmp_path):
    root = project(tmp_path, "policies:\n  layerExceptions: [best-practises]\n", job=PRIVILEGED_JOB)
    code, _, err = run_cli(cwd=root)
    assert code == 2 and "unknown policy 'best-practises' in layerExceptions" in err
    assert "did you mean 'best-practices'?" in err and f"podc.yaml:{line_of(root / 'podc.yaml', 'layerExc')}:" in err


EXCEPTIONS_FILE = """\
exceptions:
  - policy: pod-security
    rule: privileged
    reason: GPU driver installer (SEC-1)
    expires: 2026-12-20
"""


def test_exception_files_listed_by_the_project_apply(tmp_path):
    root = project(tmp_path, "policies:\n  exceptionFiles: [security/exceptions.yaml]\n",
                   files={"security/exceptions.yaml": EXCEPTIONS_FILE})
    code, out, _ = run_cli("--format", "json", cwd=root)
    data = json.loads(out)
    doc = data["documents"][0]
    assert ("pod-security", "privileged") not in {(v["policy"], v["rule"]) for v in doc["violations"]}
    (sup,) = [s for s in doc["suppressed"] if s["rule"] == "privileged"]
    assert sup["exception"]["reason"] == "GPU driver installer (SEC-1)"
    assert sup["exception"]["expires"] == "2026-12-20"
    assert sup["exception"]["source"] == {"file": "security/exceptions.yaml", "line": 2, "column": 5}
    assert data["summary"]["suppressed"] == 1


@pytest.mark.parametrize("files, code_, where", [
    ({}, "policy.missing-file", "podc.yaml"),
    ({"security/exceptions.yaml": "rules: []\n"}, "exception.file-shape", "security/exceptions.yaml"),
])
def test_bad_exception_files_are_located(tmp_path, files, code_, where):
    root = project(tmp_path, "policies:\n  exceptionFiles: [security/exceptions.yaml]\n", files=files)
    code, _, err = run_cli(cwd=root)
    assert code == 2 and f"error[{code_}]" in err and err.startswith("./" + where + ":")


@pytest.mark.parametrize("key", ["exceptionFiles", "custom"])
def test_exception_and_policy_files_stay_inside_the_project(tmp_path, key):
    (tmp_path / "outside.yaml").write_text(EXCEPTIONS_FILE)
    root = project(tmp_path / "proj", f"policies:\n  {key}: [../outside.yaml]\n")
    code, _, err = run_cli(cwd=root)
    assert code == 2 and "error[project.outside-root]" in err


@pytest.mark.parametrize("expiry, exc_tail, code_", [
    ("{required: true}", "", "exception.expiry-required"),
    ("{maxDays: 30}", ", expires: 2027-06-01", "exception.expiry-too-far"),
])
def test_project_requires_and_caps_expiry(tmp_path, monkeypatch, expiry, exc_tail, code_):
    policies = (f"policies:\n  exceptionExpiry: {expiry}\n  exceptions:\n"
                f"    - {{policy: pss, rule: privileged, reason: r{exc_tail}}}\n")
    root = project(tmp_path, policies)
    code, _, err = run_cli(cwd=root)
    assert code == 2 and f"error[{code_}]" in err
    assert f"podc.yaml:{line_of(root / 'podc.yaml', 'rule: privileged')}:" in err


def test_expiry_within_the_cap_is_accepted(tmp_path):
    import datetime as dt

    soon = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    policies = ("policies:\n  exceptionExpiry: {required: true, maxDays: 30}\n  exceptions:\n"
                f"    - {{policy: pss, rule: privileged, reason: r, expires: {soon}}}\n")
    code, _, err = run_cli(cwd=project(tmp_path, policies))
    assert "expiry" not in err and code == 1  # hostNetwork is still reported


def _suppressing_project(tmp_path: Path) -> Path:
    return project(tmp_path, "policies:\n  exceptions:\n    - {policy: pss, rule: privileged, reason: SEC-1 driver}\n"
                             "    - {policy: pss, rule: hostNamespaces, reason: SEC-2 network}\n")


def test_suppressed_violations_are_never_silent(tmp_path):
    root = _suppressing_project(tmp_path)
    code, out, _ = run_cli(cwd=root)
    assert "(2 suppressed by exceptions; --show-suppressed lists them)" in out
    assert "SEC-1 driver" not in out
    code, out, _ = run_cli("--show-suppressed", cwd=root)
    assert "suppressed by exceptions" in out and "pod-security/privileged" in out and "SEC-1 driver" in out
    # compile counts them too
    code, _, err = compile_cli(root, "--stdout")
    assert "2 policy violations suppressed by exceptions" in err


def test_sarif_carries_suppressions_with_the_reason(tmp_path):
    root = _suppressing_project(tmp_path)
    code, out, _ = run_cli("--format", "sarif", cwd=root)
    results = json.loads(out)["runs"][0]["results"]
    priv = [r for r in results if r["ruleId"] == "pod-security/privileged"]
    assert len(priv) == 1
    (sup,) = priv[0]["suppressions"]
    assert sup["status"] == "accepted" and sup["kind"] == "external" and sup["justification"] == "SEC-1 driver"
    assert sup["location"]["physicalLocation"]["region"]["startLine"] == line_of(root / "podc.yaml", "SEC-1")
    assert all("suppressions" not in r for r in results if r["ruleId"].startswith("best-practices"))


def test_sarif_with_suppressions_is_schema_valid(tmp_path):
    import jsonschema

    schema = json.loads((Path(__file__).parent / "sarif-schema-2.1.0.json").read_text())
    _, out, _ = run_cli("--format", "sarif", cwd=_suppressing_project(tmp_path))
    jsonschema.validate(json.loads(out), schema)


def test_junit_reports_suppressed_rules_as_skipped(tmp_path):
    _, out, _ = run_cli("--format", "junit", cwd=_suppressing_project(tmp_path))
    root = ET.fromstring(out)
    suite = root.find("testsuite")
    skipped = {c.get("name"): c.find("skipped") for c in suite.iter("testcase") if c.find("skipped") is not None}
    assert set(skipped) == {"pod-security/privileged (suppressed)", "pod-security/hostNamespaces (suppressed)"}
    assert "SEC-1 driver" in skipped["pod-security/privileged (suppressed)"].get("message")
    assert suite.get("skipped") == "2" and root.get("skipped") == "2"


def test_library_compile_reports_suppressed_as_info(tmp_path):
    import podc

    result = podc.compile_project(_suppressing_project(tmp_path), check=True)
    sup = [d for d in result.diagnostics if d.code == "check.suppressed"]
    assert len(sup) == 2 and all(d.severity == "info" for d in sup)
    assert any("SEC-1 driver" in (d.hint or "") for d in sup)


BAD_RAW = """\
image: registry.corp/etl:1.2.3
command: [sh, -c, "echo hi"]
raw:
  podSpec:
    hostNetwork: 'yes'
    restartPolicy: Always
    bogusField: 1
"""


def test_no_policy_still_runs_schema_and_api_rules(tmp_path):
    root = project(tmp_path, job=BAD_RAW)
    code, out, err = compile_cli(root, "--no-policy", "--stdout")
    assert code == 1 and out == ""
    for rule in ("schema.type", "api.enum", "schema.unknown-field"):
        assert f"check.schema.{rule}" in err
    assert "--no-policy" not in err  # no hint to skip what cannot be skipped
    assert "pod-security" not in err  # policy packs are skipped
    code, _, err = compile_cli(root, "--no-policy")
    assert code == 1 and not (root / "build").exists()


def test_no_policy_skips_policy_packs_only(tmp_path):
    code, out, err = compile_cli(project(tmp_path), "--no-policy", "--stdout")
    assert code == 0 and "hostNetwork: true" in out


def test_schema_errors_cannot_be_excepted(tmp_path):
    policies = ("policies:\n  exceptions:\n    - {policy: schema, rule: schema.type, reason: nope}\n"
                "    - {policy: schema, rule: api.enum, reason: nope}\n")
    code, _, err = compile_cli(project(tmp_path, policies, job=BAD_RAW), "--stdout")
    assert code == 1 and "check.schema.schema.type" in err and "check.schema.api.enum" in err


def test_exceptions_in_a_targets_inline_overrides_apply_to_that_target(tmp_path):
    root = project(tmp_path, "  other: {file: jobs/etl.yaml}\n")
    text = (root / "podc.yaml").read_text().replace(
        "  etl: {file: jobs/etl.yaml}\n",
        "  etl:\n    file: jobs/etl.yaml\n    overrides:\n      exceptions:\n"
        "        - {policy: pss, rule: privileged, reason: inline SEC-3}\n")
    (root / "podc.yaml").write_text(text)
    code, out, err = run_cli("--format", "json", cwd=root)
    docs = {d["target"]: d for d in json.loads(out)["documents"]}
    assert [s["rule"] for s in docs["etl"]["suppressed"]] == ["privileged"]
    assert "privileged" in {v["rule"] for v in docs["other"]["violations"]}


def test_exceptions_in_a_targets_profile_layer_apply_with_that_profile_only(tmp_path):
    """podc.yaml is the platform team's: a target's `profiles.<p>` inline layer may hold
    exceptions, as `overrides` may; they apply to that target when <p> is compiled (they were
    silently ignored). Malformed ones are errors even when their profile is not selected."""
    root = project(tmp_path)
    text = (root / "podc.yaml").read_text().replace(
        "  etl: {file: jobs/etl.yaml}\n",
        "  etl:\n    file: jobs/etl.yaml\n    profiles:\n      legacy:\n        exceptions:\n"
        "          - {policy: pss, rule: privileged, reason: old host agent}\n      dev: {}\n")
    (root / "podc.yaml").write_text("profiles: {legacy: [], dev: []}\ndefaultProfile: dev\n" + text)
    _, out, _ = run_cli("--format", "json", "--profile", "legacy", cwd=root)
    doc = json.loads(out)["documents"][0]
    assert [s["rule"] for s in doc["suppressed"]] == ["privileged"]
    _, out, _ = run_cli("--format", "json", cwd=root)  # dev: the legacy layer's exception does not apply
    doc = json.loads(out)["documents"][0]
    assert doc["suppressed"] == [] and "privileged" in {v["rule"] for v in doc["violations"]}
    code, _, err = compile_cli(root, "--stdout", "--profile", "legacy")
    assert "1 policy violation suppressed by exceptions" in err
    import podc

    result = podc.compile_project(str(root), profile="legacy", check=True)
    assert any(d.code == "check.suppressed" for d in result.diagnostics)

    (root / "podc.yaml").write_text((root / "podc.yaml").read_text().replace("reason: old host agent", "why: x"))
    code, _, err = compile_cli(root, "--stdout")  # dev selected; the legacy entry is still read
    assert code == 2 and "reason" in err
