"""Fixtures: a temporary Dagster instance (SQLite) and the example project on sys.path."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dagster_support  # noqa: E402,F401  (puts the example project on sys.path)


@pytest.fixture
def dagster_home(tmp_path: Path) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        "storage:\n"
        "  sqlite:\n"
        f"    base_dir: {home}\n"
        "telemetry:\n"
        "  enabled: false\n"
    )
    return home


@pytest.fixture
def instance(dagster_home: Path, monkeypatch: pytest.MonkeyPatch):
    from dagster import DagsterInstance

    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    with DagsterInstance.from_config(str(dagster_home)) as inst:
        yield inst


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    d = tmp_path / "state"
    d.mkdir()
    return d
