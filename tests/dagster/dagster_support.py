"""Shared paths and helpers for tests/dagster (a uniquely named module: every test folder has its
own conftest.py, so importing "conftest" by name would be ambiguous)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "dagster_project"
PROJECT = EXAMPLE / "deploy" / "podc.yaml"

if str(EXAMPLE) not in sys.path:
    sys.path.insert(0, str(EXAMPLE))


def step_env(state_dir: Path) -> dict[str, str]:
    """Env the step subprocesses need: the example on PYTHONPATH and its state dir."""
    path = os.pathsep.join([str(EXAMPLE), str(REPO / "compiler"), os.environ.get("PYTHONPATH", "")])
    return {"PYTHONPATH": path.rstrip(os.pathsep), "PODC_EXAMPLE_STATE_DIR": str(state_dir)}
