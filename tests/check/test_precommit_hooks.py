"""The shipped pre-commit hooks, through `pre-commit try-repo` in a temporary git repository:
both pass on a clean project; podc-compile fails when outputs are out of date; podc-check
fails on a Pod Security violation. pre-commit installs podc from a copy of this repository
(pip, deps from PyPI), so this is slow; it runs in CI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

LAYER = """\
image: registry.corp/etl:1.2.3@sha256:{digest}
resources:
  requests: {{cpu: 500m}}
  limits: {{memory: 512Mi}}
activeDeadlineSeconds: 3600
automountServiceAccountToken: false
securityContext:
  readOnlyRootFilesystem: true
""".format(digest="c" * 64)


def git(cwd: Path, *args: str) -> None:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com")
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory) -> Path:
    """A committed copy of podc (what a user's `repo:` entry would point at)."""
    dest = tmp_path_factory.mktemp("podc-repo")
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(REPO / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("compiler", "schemas", "policies"):
        shutil.copytree(REPO / folder, dest / folder, ignore=ignore)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "podc")
    return dest


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")  # shared: podc is installed once per module


@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / "layers").mkdir()
    (tmp_path / "layers" / "base.yaml").write_text(LAYER)
    (tmp_path / "podc.yaml").write_text(textwrap.dedent("""\
        apiVersion: podc/v1
        kind: Project
        namespace: batch
        layers:
          base: layers/base.yaml
        targets:
          nightly-etl:
            layers: [base]
        """))
    subprocess.run([sys.executable, "-m", "podc", "compile"], cwd=tmp_path, check=True, capture_output=True)
    assert (tmp_path / "build" / "nightly-etl.yaml").is_file()
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "project")
    return tmp_path


def try_repo(project: Path, hooks_repo: Path, home: Path, hook: str | None) -> subprocess.CompletedProcess:
    """try-repo installs podc into a fresh environment on every call (~30 s): call it sparingly."""
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never")
    env.pop("VIRTUAL_ENV", None)
    exe = Path(sys.executable).parent / "pre-commit"
    args = [str(exe), "try-repo", str(hooks_repo)] + ([hook] if hook else []) + ["--all-files", "--verbose"]
    return subprocess.run(args, cwd=project, capture_output=True, text=True, env=env, timeout=900)


def test_hooks_pass_on_a_clean_project(project, hooks_repo, pre_commit_home):
    proc = try_repo(project, hooks_repo, pre_commit_home, None)  # every hook of the repo
    assert proc.returncode == 0, proc.stdout + proc.stderr
    passed = [line for line in proc.stdout.splitlines() if line.rstrip().endswith("Passed")]
    assert len(passed) == 2 and any("podc compile" in l for l in passed) and any("podc check" in l for l in passed)


def test_podc_compile_hook_fails_on_out_of_date_output(project, hooks_repo, pre_commit_home):
    layer = project / "layers" / "base.yaml"
    layer.write_text(layer.read_text().replace("activeDeadlineSeconds: 3600", "activeDeadlineSeconds: 7200"))
    git(project, "add", "-A")
    proc = try_repo(project, hooks_repo, pre_commit_home, "podc-compile")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "out of date" in proc.stdout and "nightly-etl.yaml" in proc.stdout


def test_podc_check_hook_fails_on_a_pod_security_violation(project, hooks_repo, pre_commit_home):
    layer = project / "layers" / "base.yaml"
    layer.write_text(layer.read_text() + "  privileged: true\n")
    git(project, "add", "-A")
    proc = try_repo(project, hooks_repo, pre_commit_home, "podc-check")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "pod-security/privileged" in proc.stdout
    assert "layers/base.yaml" in proc.stdout
