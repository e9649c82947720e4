from __future__ import annotations

from pathlib import Path

import pytest

from compiler_helpers import SIMPLE, write_files


@pytest.fixture
def simple_project(tmp_path: Path) -> Path:
    return write_files(tmp_path / "proj", SIMPLE)
