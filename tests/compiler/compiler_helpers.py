"""Helpers for the compiler tests: throw-away projects and running the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
PLATFORM = EXAMPLES / "platform"


def write_files(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


SIMPLE = {
    "podc.yaml": """
        kind: Project
        namespace: jobs
        layers:
          base: layers/base.yaml
          dev: layers/dev.yaml
          prod: layers/prod.yaml
        profiles:
          dev: [dev]
          prod: [prod]
        defaultProfile: dev
        targets:
          hello:
            layers: [base]
            file: jobs/hello.yaml
          other:
            layers: [base]
            file: jobs/other.yaml
        """,
    "layers/base.yaml": """
        env:
          TZ: UTC
        labels:
          team: core
        """,
    "layers/dev.yaml": """
        env:
          ENVIRONMENT: dev
        """,
    "layers/prod.yaml": """
        env:
          ENVIRONMENT: prod
        """,
    "jobs/hello.yaml": """
        image: busybox:1.36
        command: [echo, hello]
        """,
    "jobs/other.yaml": """
        image: busybox:1.36
        command: [echo, other]
        """,
}


def run_podc(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = dict(os.environ)
    full_env.pop("NO_COLOR", None)
    if env:
        full_env.update(env)
    return subprocess.run([sys.executable, "-m", "podc", *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=120)


def tree_snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
