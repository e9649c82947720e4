"""Every YAML example in docs/format.md is a valid layer or project file."""

import re
from pathlib import Path

import pytest

from podc.errors import Diagnostics, format_diagnostics
from podc.model import validate_layer, validate_project
from podc.normalize import normalize_layer
from podc.source import load_text

DOC = Path(__file__).resolve().parents[2] / "docs" / "format.md"
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_there_are_examples():
    assert len(BLOCKS) >= 10


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_example_is_valid(index):
    text = BLOCKS[index]
    if text.lstrip().startswith("# yaml-language-server"):
        return
    node = load_text(text, f"format.md#{index}", layer="doc")[0]
    diags = Diagnostics()
    if "kind: Project" in text:
        assert validate_project(node, diags) is not None, format_diagnostics(diags)
    else:
        assert normalize_layer(node, diags), format_diagnostics(diags)
