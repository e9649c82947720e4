"""Hostile input ends in a located exit-2 error within 20 s and 1.5 GB, never a crash or a hang.

Each case runs `podc compile` in a child process with a 1.5 GB address-space limit
(RLIMIT_AS) and a 20 s timeout: a segfault (the C parser recursing), a RecursionError
traceback, a blocked open() of a FIFO or an endless read of a device all fail the test.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "kind: Project\nnamespace: batch\ntargets:\n  t:\n    file: job.yaml\n"
IMG = "image: busybox:1.36\n"
LIMIT_AS = 1536 * 1024 * 1024


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_AS, LIMIT_AS))


def run_compile(root: Path, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "compiler"))
    return subprocess.run([sys.executable, "-m", "podc", "compile", str(root), *extra], capture_output=True,
                          text=True, timeout=20, env=env, preexec_fn=_limit)


def project(tmp_path: Path, job: str, files: dict[str, str] | None = None) -> Path:
    root = tmp_path / "p"
    root.mkdir()
    (root / "podc.yaml").write_text(PROJECT)
    (root / "job.yaml").write_text(job)
    for name, text in (files or {}).items():
        (root / name).write_text(text)
    return root


def assert_located(run: subprocess.CompletedProcess, where: str, says: str) -> None:
    assert run.returncode == 2, (run.returncode, run.stderr[-2000:])
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout
    assert where in run.stderr and says in run.stderr, run.stderr[-2000:]


CASES = {
    "flow-nesting-50000": (IMG + "args: " + "[" * 50_000 + "]" * 50_000 + "\n", "job.yaml:2:", "nesting deeper"),
    "map-nesting-50000": (IMG + "raw: {job: " + "{a: " * 50_000 + "1" + "}" * 50_001 + "\n", "job.yaml:2:",
                          "nesting deeper"),
    "dash-chain-50000": (IMG + "args:\n" + "- " * 50_000 + "x\n", "job.yaml:3:1", "nesting deeper"),
    "int-tag-on-text": (IMG + "backoffLimit: !!int abc\n", "job.yaml:2:15", "!!int 'abc' is not an integer"),
    "bool-tag-on-maybe": (IMG + "suspend: !!bool maybe\n", "job.yaml:2:10", "!!bool 'maybe' is not true or false"),
    "empty-int-tag": (IMG + "backoffLimit: !!int\n", "job.yaml:2:15", "!!int an empty value is not an integer"),
    "5000-digit-integer": (IMG + "backoffLimit: " + "7" * 5000 + "\n", "job.yaml:2:15", "more than 100 digits"),
    "inf": (IMG + "backoffLimit: .inf\n", "job.yaml:2:15", ".inf is not a number"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_yaml_is_a_located_exit_2(tmp_path: Path, name: str):
    text, where, says = CASES[name]
    root = project(tmp_path, text)
    run = run_compile(root)
    assert_located(run, where, says)
    assert not (root / "build").exists()  # nothing written


def test_extends_chain_2000_long_is_read_iteratively(tmp_path: Path):
    files = {f"l{i}.yaml": f"extends: l{i + 1}.yaml\nlabels: {{l{i}: x}}\n" for i in range(2000)}
    files["l2000.yaml"] = "extends: missing.yaml\n"
    root = project(tmp_path, "extends: l0.yaml\n" + IMG, files)
    run = run_compile(root)
    assert_located(run, "l2000.yaml:1:10", "missing.yaml")


def test_extends_chain_2000_long_compiles(tmp_path: Path):
    files = {f"l{i}.yaml": f"extends: l{i + 1}.yaml\nlabels: {{depth: l{i}}}\n" for i in range(2000)}
    files["l2000.yaml"] = "backoffLimit: 3\n"
    root = project(tmp_path, "extends: l0.yaml\n" + IMG, files)
    run = run_compile(root, "--stdout", "--no-policy")
    assert run.returncode == 0, run.stderr[-2000:]
    # depth-first: l2000 first, l0 (extended by the job) last
    assert "depth: l0" in run.stdout and "backoffLimit: 3" in run.stdout


@pytest.mark.parametrize("kind", ["fifo-layer", "fifo-project", "device-layer"])
def test_fifo_or_device_is_refused_without_blocking(tmp_path: Path, kind: str):
    root = project(tmp_path, "extends: l.yaml\n" + IMG)
    if kind == "fifo-layer":
        os.mkfifo(root / "l.yaml")
        where = "l.yaml"
    elif kind == "device-layer":
        # /dev is outside the project: allow it, so the reader (not the root check) meets the device
        (root / "podc.yaml").write_text((root / "podc.yaml").read_text() + "allowedRoots: {dev: /dev}\n")
        (root / "job.yaml").write_text("extends: /dev/zero\n" + IMG)
        where = "/dev/zero"
    else:
        (root / "podc.yaml").unlink()
        os.mkfifo(root / "podc.yaml")
        where = "podc.yaml"
    run = run_compile(root)
    says = "found a device" if kind == "device-layer" else "named pipe (FIFO)"
    assert_located(run, where, says)
