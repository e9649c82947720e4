"""Admission inputs from files: located errors for bad policy files, the CLI flag, podc.yaml's
policies.admission (check and compile), and the report formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from _admission_util import JOB, load, policy, write

ROOT = Path(__file__).resolve().parents[3]

GOOD = policy("limits", '- expression: "object.spec.backoffLimit <= 3"\n  message: backoffLimit must be at most 3\n')


def line_of(path: Path, needle: str) -> int:
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {path}")


BAD_FILES = [
    ("unknown field", GOOD.replace("  validations:", "  validation:"), "validation:", "admission.unknown-field"),
    ("bad failurePolicy", GOOD.replace("spec:\n  matchConstraints", "spec:\n  failurePolicy: Never\n  matchConstraints"),
     "failurePolicy", "admission.invalid"),
    ("cel syntax", GOOD.replace("object.spec.backoffLimit <= 3", "object.spec.backoffLimit <="), "expression:",
     "admission.cel"),
    ("unknown function", GOOD.replace("object.spec.backoffLimit <= 3", "object.metadata.name.startWith('x')"),
     "expression:", "admission.cel"),
    ("params without paramKind", GOOD.replace("<= 3", "<= params.max"), "expression:", "admission.cel"),
    ("undeclared variable", GOOD.replace("object.spec.backoffLimit <= 3", "variables.max > 1"), "expression:",
     "admission.cel"),
    ("cost", GOOD.replace("object.spec.backoffLimit <= 3", "".join(
        f"object.spec.template.spec.containers.all({v}, " for v in "abcde") + "true" + ")" * 5), "expression:",
     "admission.cel-cost"),
    ("both Deny and Warn", GOOD.replace("validationActions: [Deny]", "validationActions: [Deny, Warn]"),
     "validationActions", "admission.invalid"),
    ("no actions", GOOD.replace("validationActions: [Deny]", "validationActions: []"), "validationActions",
     "admission.required"),
    ("bad action", GOOD.replace("validationActions: [Deny]", "validationActions: [Block]"), "validationActions",
     "admission.invalid"),
    ("no resourceRules", GOOD.replace('    resourceRules:\n    - apiGroups: ["batch"]\n      apiVersions: ["*"]\n'
                                      '      operations: ["CREATE"]\n      resources: ["jobs"]\n',
                                      "    resourceRules: []\n"), "matchConstraints", "admission.required"),
    ("bad operation", GOOD.replace('operations: ["CREATE"]', 'operations: ["CREAT"]'), "operations",
     "admission.invalid"),
    ("paramRef without action", GOOD.replace("  validationActions: [Deny]", "  validationActions: [Deny]\n"
                                             "  paramRef: {name: x}"), "paramRef", "admission.invalid"),
    ("no name", GOOD.replace("metadata:\n  name: limits\n", "metadata: {}\n", 1), "metadata: {}",
     "admission.name"),
    ("multi-line message", GOOD.replace("message: backoffLimit must be at most 3", 'message: "a\\nb"'), "message:",
     "admission.invalid"),
]


@pytest.mark.parametrize("text, needle, code", [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_bad_policy_files_get_located_errors(tmp_path, text, needle, code):
    path = write(tmp_path, "bad.yaml", text)
    _, diags = load([path], ok=False)
    errors = [d for d in diags.errors if d.code == code]
    assert errors, [(d.code, d.message) for d in diags]
    assert errors[0].pos.file == str(path)
    assert errors[0].pos.line == line_of(path, needle), (errors[0].message, errors[0].pos)
    assert errors[0].pos.col > 0


def test_cel_error_column_points_into_the_expression(tmp_path):
    path = write(tmp_path, "bad.yaml", GOOD.replace("object.spec.backoffLimit <= 3", "object.spec.backoffLimit <= +"))
    _, diags = load([path], ok=False)
    (d,) = diags.errors
    line = path.read_text().splitlines()[d.pos.line - 1]
    assert line[d.pos.col - 1] == "+" and "at 1:29" in d.message


def test_unbound_policy_and_unknown_policy_are_notices(tmp_path):
    text = GOOD.split("---")[0] + "---\n" + GOOD.split("---")[1].replace("policyName: limits", "policyName: limitz")
    _, diags = load([write(tmp_path, "a.yaml", text)])
    codes = {(d.code, d.severity) for d in diags}
    assert ("admission.unknown-policy", "warning") in codes and ("admission.unbound-policy", "info") in codes
    assert any(d.hint == "did you mean 'limits'?" for d in diags)


def test_folder_and_list_inputs(tmp_path):
    write(tmp_path, "policies/a.yaml", GOOD)
    write(tmp_path, "policies/nested/ns.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "batch", "labels": {"env": "prod"}}}]}))
    write(tmp_path, "policies/README.md", "not yaml")
    checker, _ = load([tmp_path / "policies"])
    assert [p.name for p in checker.policies] == ["limits"] and "batch" in checker.namespaces


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(ROOT / "compiler"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "podc", "check", *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env=env)


def job_file(tmp_path: Path, backoff: int) -> None:
    manifest = json.loads(json.dumps(JOB))
    manifest["spec"]["backoffLimit"] = backoff
    (tmp_path / "job.yaml").write_text(json.dumps(manifest, indent=2))


def test_cli_admission_flag_exit_codes_and_formats(tmp_path):
    write(tmp_path, "adm/limits.yaml", GOOD)
    job_file(tmp_path, 2)
    assert run_cli(tmp_path, "job.yaml", "--admission", "adm", "--pss", "none").returncode == 0
    job_file(tmp_path, 9)
    done = run_cli(tmp_path, "job.yaml", "--admission", "adm", "--pss", "none")
    assert done.returncode == 1 and "admission/limits/validation-0" in done.stdout
    assert "backoffLimit must be at most 3" in done.stdout
    report = json.loads(run_cli(tmp_path, "job.yaml", "--admission", "adm/limits.yaml", "--format", "json").stdout)
    found = [v for d in report["documents"] for v in d["violations"] if v["policy"] == "admission/limits"]
    assert found and found[0]["rule"] == "validation-0" and found[0]["source"]["file"] == "job.yaml"
    sarif = json.loads(run_cli(tmp_path, "job.yaml", "--admission", "adm", "--format", "sarif").stdout)
    assert any(r["ruleId"] == "admission/limits/validation-0" for r in sarif["runs"][0]["results"])
    junit = run_cli(tmp_path, "job.yaml", "--admission", "adm", "--format", "junit").stdout
    assert "admission/limits/validation-0" in junit


def test_cli_bad_admission_inputs_exit_2(tmp_path):
    job_file(tmp_path, 2)
    missing = run_cli(tmp_path, "job.yaml", "--admission", "nope.yaml")
    assert missing.returncode == 2 and "admission policy file not found" in missing.stderr
    write(tmp_path, "bad.yaml", GOOD.replace("object.spec.backoffLimit <= 3", "object.spec.+"))
    bad = run_cli(tmp_path, "job.yaml", "--admission", "bad.yaml")
    assert bad.returncode == 2 and "bad.yaml:" in bad.stderr and "Traceback" not in bad.stderr


PROJECT = """\
apiVersion: podc/v1
kind: Project
namespace: batch
targets:
  nightly:
    overrides:
      image: registry.corp/etl:1.2@sha256:{digest}
      backoffLimit: 9
policies:
  pss: none
  bestPractices: false
  admission: [cluster/]
"""


def project(tmp_path: Path, extra: str = "") -> None:
    (tmp_path / "podc.yaml").write_text(PROJECT.replace("{digest}", "a" * 64) + extra)
    write(tmp_path, "cluster/limits.yaml", GOOD)


def test_project_policies_admission_in_check_and_compile(tmp_path):
    project(tmp_path)
    done = run_cli(tmp_path)
    assert done.returncode == 1, done.stderr
    assert "admission/limits/validation-0" in done.stdout and "podc.yaml" in done.stdout
    env = {"PYTHONPATH": str(ROOT / "compiler"), "PATH": "/usr/bin:/bin"}
    compiled = subprocess.run([sys.executable, "-m", "podc", "compile"], cwd=tmp_path, capture_output=True, text=True,
                              timeout=60, env=env)
    assert compiled.returncode != 0 and "check.admission/limits.validation-0" in compiled.stderr
    assert "podc.yaml:8:" in compiled.stderr  # the backoffLimit line of the target


def test_project_exception_accepts_an_admission_rule(tmp_path):
    project(tmp_path, "  exceptions:\n  - policy: admission/limits\n    rule: validation-0\n"
                      "    reason: legacy retries (TICKET-9)\n")
    done = run_cli(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    project(tmp_path, "  exceptions:\n  - policy: admission/limits\n    rule: validation-7\n    reason: x\n")
    assert run_cli(tmp_path).returncode == 2


def test_project_missing_admission_path_is_located(tmp_path):
    (tmp_path / "podc.yaml").write_text(PROJECT.replace("{digest}", "a" * 64).replace("[cluster/]", "[missing/]"))
    done = run_cli(tmp_path)
    assert done.returncode == 2 and "podc.yaml:12:" in done.stderr and "not found" in done.stderr
