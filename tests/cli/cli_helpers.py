"""Running podc as a user does: a subprocess with the worktree's package on the path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def podc(*args: str, cwd: Path | str | None = None, input: str | None = None, env: dict | None = None,
         timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(REPO / "compiler"), **(env or {})}
    full_env.pop("FORCE_COLOR", None) if env is None or "FORCE_COLOR" not in env else None
    return subprocess.run([sys.executable, "-m", "podc", *args], cwd=cwd, input=input, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
