"""The suite itself: nothing left in the temp folder, no hypothesis database, no chance."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PROBE = '''
import podc.cli.main as m

def test_provokes_a_crash_log(monkeypatch):
    monkeypatch.setattr(m, "_dispatch", lambda args: 1 / 0)
    assert m.main(["compile"]) == 3

def test_hypothesis_is_derandomized_without_a_database():
    from hypothesis import settings
    assert settings.default.database is None and settings.default.derandomize
'''


def test_a_run_leaves_nothing_in_the_temp_folder(tmp_path: Path):
    probe_dir = tmp_path / "suite" / "tests"
    probe_dir.mkdir(parents=True)
    (probe_dir / "conftest.py").write_text((REPO / "tests" / "conftest.py").read_text())
    (probe_dir / "test_probe.py").write_text(PROBE)
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PODC_TEST_TMPDIR"}
    env.update(TMPDIR=str(temp), PYTHONPATH=str(REPO / "compiler"))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(probe_dir)],
                         cwd=tmp_path / "suite", env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert list(temp.iterdir()) == [], list(temp.iterdir())
    assert not (tmp_path / "suite" / ".hypothesis").exists()
