"""`podc check` on a podc project: targets compiled in memory, violations located at the layer
line that set the value (or the nearest ancestor a layer set), project/layer exceptions,
policies settings, and the compiler hook."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from _checkutil import line_of, run_cli

BASE = """\
image: registry.corp/etl:1.2.3
resources:
  requests: {cpu: 500m}
  limits: {memory: 512Mi}
activeDeadlineSeconds: 3600
automountServiceAccountToken: false
securityContext:
  readOnlyRootFilesystem: true
"""

TEAM = """\
labels:
  team: data
securityContext:
  privileged: true
"""


def make_project(root: Path, policies: str = "", team: str = TEAM, base: str = BASE, extra_targets: str = "") -> Path:
    (root / "layers").mkdir(parents=True, exist_ok=True)
    (root / "layers" / "base.yaml").write_text(base)
    (root / "layers" / "team.yaml").write_text(team)
    (root / "podc.yaml").write_text(textwrap.dedent("""\
        apiVersion: podc/v1
        kind: Project
        namespace: batch
        layers:
          base: layers/base.yaml
          team: layers/team.yaml
        targets:
          gpu-train:
            layers: [base, team]
          etl:
            layers: [base]
        """) + extra_targets + policies)
    return root


def report(root: Path, *args: str):
    code, out, err = run_cli(*args, "--format", "json", cwd=root)
    assert out, err
    return code, json.loads(out)


def violations(data, target):
    doc = next(d for d in data["documents"] if d["target"] == target)
    return {(v["policy"], v["rule"]): v for v in doc["violations"]}


def test_violation_points_at_the_layer_line_that_set_the_value(tmp_path):
    root = make_project(tmp_path, "policies:\n  bestPractices:\n    disable: [image-digest]\n")
    code, data = report(root)
    assert code == 1
    docs = {d["target"]: d for d in data["documents"]}
    assert set(docs) == {"gpu-train", "etl"}
    assert docs["etl"]["violations"] == [] and docs["etl"]["file"] == "podc.yaml" and docs["etl"]["kind"] == "Job"
    priv = violations(data, "gpu-train")[("pod-security", "privileged")]
    assert priv["path"] == "/spec/template/spec/containers/0/securityContext/privileged"
    assert priv["source"]["file"] == "layers/team.yaml"
    assert priv["source"]["line"] == line_of(root / "layers" / "team.yaml", "privileged: true")


def test_absent_field_points_at_the_nearest_ancestor_a_layer_set(tmp_path):
    from podc.pipeline import compile_project

    base = BASE.replace("  limits: {memory: 512Mi}\n", "")
    root = make_project(tmp_path, "policies:\n  bestPractices:\n    disable: [image-digest]\n", base=base)
    code, data = report(root)
    mem = violations(data, "etl")[("best-practices", "memory-limit")]
    assert mem["path"] == "/spec/template/spec/containers/0/resources"
    # the resources mapping was written by the base layer: that is where the limit belongs
    assert mem["source"]["file"] == "layers/base.yaml"
    base_file = root / "layers" / "base.yaml"
    assert line_of(base_file, "resources:") <= mem["source"]["line"] <= line_of(base_file, "requests:")
    job = next(j for j in compile_project(root).jobs if j.target == "etl")
    assert job.locate(mem["path"]).pos.line == mem["source"]["line"]


def test_field_missing_under_podc_defaults_points_at_the_users_target_not_podcs_install(tmp_path):
    # /spec exists only because podc's secure defaults created it: a missing
    # activeDeadlineSeconds belongs to the user's target, not to podc's defaults file.
    base = BASE.replace("activeDeadlineSeconds: 3600\n", "")
    root = make_project(tmp_path, "policies:\n  bestPractices:\n    disable: [image-digest]\n", base=base)
    code, data = report(root)
    deadline = violations(data, "etl")[("best-practices", "active-deadline")]
    assert deadline["path"] == "/spec"
    assert deadline["source"]["file"] == "podc.yaml"
    assert deadline["source"]["line"] == line_of(root / "podc.yaml", "etl:")


def test_project_check_honours_pss_none_and_rule_severity(tmp_path):
    policies = ("policies:\n  pss: none\n  bestPractices:\n    disable: [image-digest]\n"
                "    severity: {read-only-root-filesystem: error}\n")
    team = TEAM + "  readOnlyRootFilesystem: false\n"
    root = make_project(tmp_path, policies, team=team)
    code, data = report(root)
    got = violations(data, "gpu-train")
    assert not any(policy == "pod-security" for policy, _ in got)
    assert got[("best-practices", "read-only-root-filesystem")]["severity"] == "error"
    assert code == 1


def test_project_exceptions_apply_per_target_and_expire(tmp_path):
    policies = """\
policies:
  bestPractices: {disable: [image-digest]}
  exceptions:
    - policy: pod-security
      rule: privileged
      targets: [gpu-*]
      reason: the GPU driver needs it (SEC-7)
    - policy: pod-security
      rule: allowPrivilegeEscalation
      reason: was needed for the old driver
      expires: 2020-01-31
"""
    root = make_project(tmp_path, policies)
    code, data = report(root)
    got = violations(data, "gpu-train")
    assert ("pod-security", "privileged") not in got
    assert ("pod-security", "allowPrivilegeEscalation") in got  # expired: applies no more
    assert data["summary"]["suppressed"] == 1
    (notice,) = [n for n in data["notices"] if n["code"] == "exception.expired"]
    assert notice["severity"] == "warning" and "2020-01-31" in notice["message"]
    assert notice["source"]["file"] == "podc.yaml"
    assert notice["source"]["line"] == line_of(root / "podc.yaml", "rule: allowPrivilegeEscalation") - 1


def test_layer_exception_only_covers_targets_built_from_that_layer(tmp_path):
    team = TEAM + "exceptions:\n  - {policy: best-practices, rule: required-labels, reason: team label comes later}\n"
    policies = "policies:\n  bestPractices:\n    disable: [image-digest]\n    requiredLabels: [cost-center]\n" \
               "  pss: privileged\n  layerExceptions: [best-practices]\n"
    root = make_project(tmp_path, policies, team=team)
    code, data = report(root)
    assert ("best-practices", "required-labels") not in violations(data, "gpu-train")
    assert ("best-practices", "required-labels") in violations(data, "etl")
    assert data["summary"]["pss"] is None


def test_unknown_ids_in_policies_are_located_with_suggestions(tmp_path):
    root = make_project(tmp_path, "policies:\n  bestPractices:\n    disable: [image-digets]\n")
    code, out, err = run_cli(cwd=root)
    assert code == 2
    assert f"podc.yaml:{line_of(root / 'podc.yaml', 'image-digets')}:" in err
    assert "did you mean 'image-digest'?" in err
    root = make_project(tmp_path, "policies:\n  exceptions:\n    - {policy: pod-security, rule: privilegd, reason: x}\n")
    code, out, err = run_cli(cwd=root)
    assert code == 2 and "did you mean 'privileged'?" in err
    assert f"podc.yaml:{line_of(root / 'podc.yaml', 'privilegd')}:" in err


def test_custom_policy_from_project_matches_targets(tmp_path):
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "deadline.yaml").write_text(textwrap.dedent("""\
        policy: short-training
        match: {targets: ["gpu-*"]}
        params: {max: 600}
        rules:
          - id: deadline
            message: "training jobs must finish within {{ max }}s"
            cel: "object.spec.activeDeadlineSeconds <= params.max"
            path: /spec/activeDeadlineSeconds
        """))
    root = make_project(tmp_path, "policies:\n  pss: privileged\n  bestPractices: false\n  custom: [policies/deadline.yaml]\n")
    code, data = report(root)
    got = violations(data, "gpu-train")
    assert list(got) == [("short-training", "deadline")]
    v = got[("short-training", "deadline")]
    assert v["message"] == "training jobs must finish within 600s"
    assert v["source"]["file"] == "layers/base.yaml"
    assert v["source"]["line"] == line_of(root / "layers" / "base.yaml", "activeDeadlineSeconds")
    assert violations(data, "etl") == {}


def test_fail_on_from_project_and_cli_override(tmp_path):
    root = make_project(tmp_path, "policies:\n  pss: privileged\n  failOn: info\n", team="labels: {team: data}\n")
    code, data = report(root)
    assert code == 1 and {v["rule"] for d in data["documents"] for v in d["violations"]} == {"image-digest"}
    assert run_cli("--fail-on", "error", cwd=root)[0] == 0


def test_compile_hook_reports_located_diagnostics(tmp_path):
    from podc import compile_project
    from podc.check.projects import check_compiled

    root = make_project(tmp_path, "policies:\n  bestPractices: false\n")
    result = compile_project(root, check=True)
    found = [d for d in result.diagnostics if d.code == "check.pod-security.privileged"]
    assert len(found) == 1 and found[0].severity == "error"
    assert found[0].pos.file.endswith("team.yaml")
    assert found[0].pos.line == line_of(root / "layers" / "team.yaml", "privileged: true")
    # failOn: warning turns warnings into a failed compile via one located error
    root = make_project(tmp_path, "policies:\n  pss: privileged\n  failOn: warning\n",
                        base=BASE.replace("activeDeadlineSeconds: 3600\n", ""), team="labels: {team: data}\n")
    compiled = compile_project(root)
    diags = check_compiled(compiled.jobs, compiled.project)
    assert {d.code for d in diags} >= {"check.best-practices.active-deadline", "check.failed"}
    failed = next(d for d in diags if d.code == "check.failed")
    assert failed.pos.line == line_of(root / "podc.yaml", "failOn: warning")


def _check_gpu_train(root: Path):
    from podc.check.projects import check_jobs
    from podc.pipeline import compile_project

    compiled = compile_project(root, targets=["gpu-train"])
    result = check_jobs(compiled.jobs, compiled.project, layers=compiled.layers)
    return result, {(v.policy, v.rule) for v in result.violations()}


def _rewrite(path: Path, text: str) -> None:
    """Write and move the mtime forward, as an editor saving a second later would."""
    import os

    before = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))


def test_layer_exceptions_come_from_the_compiles_layers_not_a_second_read(tmp_path, monkeypatch):
    import podc.source.reader

    policies = "policies:\n  bestPractices: {requiredLabels: [cost-center]}\n  layerExceptions: true\n"
    root = make_project(tmp_path, policies)
    team = root / "layers" / "team.yaml"
    reads: list[str] = []
    real_load = podc.source.reader.load_single
    monkeypatch.setattr(podc.source.reader, "load_single",
                        lambda path, *a, **k: (reads.append(str(path)), real_load(path, *a, **k))[1])
    rule = ("best-practices", "required-labels")
    for _ in range(3):
        assert rule in _check_gpu_train(root)[1]
    # compile_project reads each layer once per run; the checker reads no layer file itself
    runs_reading_team = sum(1 for r in reads if r.endswith("team.yaml"))
    assert runs_reading_team == 3, reads

    _rewrite(team, TEAM + "exceptions:\n  - {policy: best-practices, rule: required-labels, reason: later}\n")
    result, found = _check_gpu_train(root)
    assert rule not in found and result.suppressed == 1
    result, found = _check_gpu_train(root)  # from the cache: a fresh exception, same outcome
    assert rule not in found and result.suppressed == 1

    _rewrite(team, TEAM)
    assert rule in _check_gpu_train(root)[1]


def test_bad_layer_exception_is_reported_on_every_check(tmp_path):
    """The compiler validates a layer's exceptions' shape; the checker knows the rule ids. A cached
    exception still gets its located error on every check."""
    from podc.errors import PodcError

    team = TEAM + "exceptions:\n  - {policy: pod-security, rule: privilegd, reason: driver installer}\n"
    root = make_project(tmp_path, "policies:\n  layerExceptions: true\n", team=team)
    for _ in range(2):
        with pytest.raises(PodcError) as err:
            _check_gpu_train(root)
        unknown = [d for d in err.value.diagnostics if d.code == "exception.unknown-rule"]
        assert len(unknown) == 1 and unknown[0].pos.file.endswith("team.yaml")
        assert unknown[0].pos.line == line_of(root / "layers" / "team.yaml", "privilegd")
        assert "did you mean 'privileged'?" in unknown[0].hint
