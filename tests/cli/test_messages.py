"""Messages a new user meets: they name the fix, at the right line, without regex dumps."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import podc


@pytest.fixture
def project(tmp_path: Path) -> Path:
    assert podc("init", "p", "-q", cwd=tmp_path).returncode == 0
    return tmp_path / "p"


def _job(project: Path, text: str) -> None:
    (project / "jobs" / "hello.yaml").write_text(text)


def test_uppercase_job_name_suggests_the_valid_name(project: Path):
    _job(project, "image: busybox:1.36\nname: MyJob\n")
    r = podc("compile", cwd=project)
    assert r.returncode == 2 and "did you mean 'myjob'?" in r.stderr and "regex" not in r.stderr


@pytest.mark.parametrize("text, key, parent", [
    ("image: busybox:1.36\nvolumes:\n  scratch:\n  emptyDir: {}\n", "emptyDir", "scratch"),
    ("image: busybox:1.36\nresources:\n  limits:\n  memory: 1Gi\n", "memory", "limits"),
])
def test_dedented_key_gets_an_indentation_hint(project: Path, text: str, key: str, parent: str):
    _job(project, text)
    for command in (["compile"], ["check"]):
        r = podc(*command, cwd=project)
        assert r.returncode == 2
        assert "indentation problem" in r.stderr and f"`{key}`" in r.stderr and f"`{parent}:`" in r.stderr
        assert "regex" not in r.stderr


def test_privileged_is_one_finding_at_its_own_line_with_a_fix_the_api_server_accepts(project: Path):
    _job(project, "image: busybox:1.36\nsecurityContext:\n  privileged: true\n")
    r = podc("compile", cwd=project)
    assert r.returncode == 1
    blamed = [line for line in r.stderr.splitlines() if "error[" in line]
    assert blamed and all(line.startswith("./jobs/hello.yaml:3:") for line in blamed), r.stderr
    assert "layers/base.yaml" not in r.stderr
    assert "remove `privileged: true`" in r.stderr
    assert "set securityContext.allowPrivilegeEscalation to false" not in r.stderr


def test_literal_secret_hint_suggests_forms_podc_accepts(project: Path):
    _job(project, "image: busybox:1.36\nenv:\n  DB_PASSWORD: hunter2\n")
    r = podc("check", cwd=project)
    assert r.returncode == 1 and "secretKeyRef: {name: <secret>, key: <key>}" in r.stdout
    assert "{secret: name/key}" not in r.stdout
    for fixed in ("env:\n  DB_PASSWORD: {secretKeyRef: {name: db, key: password}}\n",
                  "secrets:\n  db: {env: {DB_PASSWORD: password}}\n"):
        _job(project, "image: busybox:1.36\n" + fixed)
        ok = podc("check", cwd=project)
        assert ok.returncode == 0 and "literal-secret" not in ok.stdout, ok.stdout + ok.stderr


def test_missing_layer_file_is_reported_where_its_path_is_written(project: Path):
    text = (project / "podc.yaml").read_text()
    (project / "podc.yaml").write_text(text.replace("base: layers/base.yaml", "base: layers/nope.yaml"))
    lines = (project / "podc.yaml").read_text().splitlines()
    defined = next(i for i, line in enumerate(lines, 1) if "layers/nope.yaml" in line)
    used = next(i for i, line in enumerate(lines, 1) if "layers: [base]" in line)
    r = podc("compile", cwd=project)
    assert r.returncode == 2
    assert f"podc.yaml:{defined}:" in r.stderr.splitlines()[0] and "nope.yaml" in r.stderr
    assert f"podc.yaml:{used}:" in r.stderr and "used here" in r.stderr


def test_compile_summary_counts_warnings_and_notes_apart(project: Path):
    clean = podc("compile", cwd=project)  # the scaffold: one note (image not pinned), no warning
    assert clean.returncode == 0 and "policy" not in clean.stderr, clean.stderr
    _job(project, "image: busybox:1.36\nactiveDeadlineSeconds: null\n")
    base = project / "layers" / "base.yaml"
    base.write_text(base.read_text().replace("activeDeadlineSeconds: 3600          # no Job runs forever\n", ""))
    warned = podc("compile", cwd=project)
    assert warned.returncode == 0
    assert "podc: 1 policy warning and 1 note; run `podc check` to see them" in warned.stderr, warned.stderr
    verbose = podc("compile", "-v", cwd=project)
    assert "best-practices.active-deadline" in verbose.stderr and "image-digest" in verbose.stderr


def test_compile_says_how_many_violations_exceptions_suppressed(project: Path):
    _job(project, "image: busybox:1.36\nenv:\n  DB_PASSWORD: hunter2\n")
    assert podc("compile", cwd=project).returncode == 1
    text = (project / "podc.yaml").read_text()
    (project / "podc.yaml").write_text(text + "policies:\n  exceptions:\n"
                                       "    - {policy: best-practices, rule: literal-secret-env, reason: test fixture,"
                                       " targets: [hello]}\n")
    r = podc("compile", cwd=project)
    assert r.returncode == 0 and "podc: 1 policy violation suppressed by exceptions" in r.stderr, r.stderr
