"""A tiny valid podc project to break, and two ways to run the CLI on it.

Every case starts from the same project (one layer, one target) plus a hand-written file in the
output folder, applies its edits, runs podc, and compares the whole tree before and after: a
failing run must leave every byte where it was (nothing half-written, no temp files, the
user's own files untouched).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

DIR = object()  # a file edit: make this path a directory
DELETE = None  # a file edit: remove this path

PROJECT = """\
kind: Project
namespace: batch
layers:
  base: layers/base.yaml
profiles:
  dev: [base]
defaultProfile: dev
targets:
  hello:
    file: jobs/hello.yaml
"""
BASE_LAYER = """\
labels: {team: qa}
resources:
  requests: {cpu: 100m, memory: 64Mi}
  limits: {memory: 64Mi}
backoffLimit: 1
activeDeadlineSeconds: 600
ttlSecondsAfterFinished: 600
automountServiceAccountToken: false
securityContext:
  readOnlyRootFilesystem: true
"""
JOB = "image: busybox:1.36\ncommand: [echo, hi]\n"
USER_NOTE = ("build/NOTES.md", b"# my notes: podc must never touch this\n")
BASE_FILES: dict[str, str | bytes] = {"podc.yaml": PROJECT, "layers/base.yaml": BASE_LAYER, "jobs/hello.yaml": JOB,
                                      USER_NOTE[0]: USER_NOTE[1]}
SECRET = "hunter2-Sup3rS3cr3t-value"  # a literal that must never be printed


@dataclass(frozen=True)
class Case:
    name: str
    files: dict  # relative path -> str | bytes | DIR | DELETE, applied over BASE_FILES
    argv: Sequence[str]  # podc arguments, run from the project folder
    exit: int = 2
    where: str | None = None  # a regex for the position, e.g. r"jobs/hello\.yaml:2:1"
    says: tuple[str, ...] = ()  # texts the output must contain (message, hint, suggestion)
    hint: bool = True  # stderr must carry a `hint:` line
    subprocess: bool = False  # run through `python -m podc` (the real process contract)
    bug: str | None = None  # "see qa-compiler-bugs.md #N": a known bug, marked xfail(strict)
    writes: bool = False  # a successful run that is expected to write outputs
    extra: dict = field(default_factory=dict)


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def make_project(root: Path, edits: dict) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    files = {**BASE_FILES, **edits}
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is DELETE:
            continue
        if content is DIR:
            path.mkdir(exist_ok=True)
            continue
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return root


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file (bytes) and folder (None) below root."""
    out: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = None
        for f in filenames:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, root)] = (Path(p).read_bytes() if os.path.isfile(p)
                                             else f"-> {os.readlink(p)}" if os.path.islink(p) else None)
    return out


def run_subprocess(argv: Sequence[str], cwd: Path, tmp: Path, extra_env: dict | None = None) -> Run:
    env = {**os.environ, "NO_COLOR": "1", "TMPDIR": str(tmp), "PYTHONHASHSEED": "0", **(extra_env or {})}
    env.pop("PYTHONWARNINGS", None)
    p = subprocess.run([sys.executable, "-m", "podc", *argv], cwd=cwd, env=env, capture_output=True, timeout=120)
    return Run(p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"))


def run_inprocess(argv: Sequence[str], cwd: Path) -> Run:
    from podc.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(argv))
    finally:
        os.chdir(old)
    return Run(code, out.getvalue(), err.getvalue())


def assert_contract(case: Case, run: Run, before: dict, after: dict) -> None:
    """The promises every run keeps, whatever the input."""
    assert "Traceback" not in run.text, run.text
    assert "internal error" not in run.text, run.text
    assert run.code == case.exit, f"exit {run.code}, expected {case.exit}\n{run.text}"
    assert SECRET not in run.text, "a secret value was printed"
    if case.where:
        import re

        assert re.search(case.where + r"(:|\b)", run.err), f"no position {case.where!r} in:\n{run.err}"
    for text in case.says:
        assert text in run.text, f"{text!r} not in:\n{run.text}"
    if case.exit == 2 and case.hint:
        assert "hint:" in run.err or "usage:" in run.err, run.err
    if case.exit != 0:
        assert not run.out.strip() or case.argv[0] == "check", f"output on stdout after a failure:\n{run.out}"
    if case.writes:
        assert after[USER_NOTE[0]] == USER_NOTE[1]
        changed = {k for k in before if before[k] != after.get(k)}
        assert not changed, f"files changed or removed: {changed}"
    else:
        assert after == before, _diff(before, after)


def _diff(before: dict, after: dict) -> str:
    added = sorted(set(after) - set(before))
    gone = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    return f"the run changed the tree: added {added}, removed {gone}, changed {changed}"
