"""Bad input through the CLI: a located message (file:line:col), exit 2, no traceback, nothing written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from compiler_helpers import run_podc, write_files

PROJECT = "kind: Project\ntargets:\n  t:\n    layers: [layer.yaml]\n"


def bad_layer(text: str):
    return {"podc.yaml": PROJECT, "layer.yaml": text}


def deep_nesting() -> str:
    depth = 150
    return "image: x\nraw:\n  podSpec:\n" + "".join("  " * (i + 2) + f"k{i}:\n" for i in range(depth)) + "  " * (depth + 2) + "v: 1\n"


def alias_bomb() -> str:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 10) + "]")
    return "image: x\nraw:\n  podSpec:\n" + "\n".join("    " + ln for ln in lines) + "\n"


CASES = {
    # name: (files, expected file, line, col or None, text in message)
    "malformed-yaml": (bad_layer("image: x\nenv: [a, b\nargs: [c]\n"), "layer.yaml", None, None, "invalid YAML"),
    "unclosed-at-end": (bad_layer("image: [unclosed\n"), "layer.yaml", 2, 1, "not closed"),
    "duplicate-key": (bad_layer("image: x\nenv: {A: a}\nenv: {B: b}\n"), "layer.yaml", 3, 1, "duplicate key 'env'"),
    "unknown-field": (bad_layer("image: x\nimagePullPolicyy: Always\n"), "layer.yaml", 2, 1, "imagePullPolicy"),
    "wrong-type": (bad_layer("image: x\ncommand: echo\n"), "layer.yaml", 2, 10, "list"),
    "bad-quantity": (bad_layer("image: x\nresources:\n  limits:\n    memory: 1GB\n"), "layer.yaml", 4, 13, "quantity"),
    "missing-file": ({"podc.yaml": PROJECT}, "podc.yaml", 4, 14, "not found"),
    "extends-cycle": (
        {"podc.yaml": PROJECT, "layer.yaml": "extends: [b.yaml]\nimage: x\n", "b.yaml": "extends: [layer.yaml]\n"},
        "b.yaml", 1, 11, "layer.yaml → b.yaml → layer.yaml"),
    "alias-bomb": (bad_layer(alias_bomb()), "layer.yaml", None, None, "alias bomb"),
    "deep-nesting": (bad_layer(deep_nesting()), "layer.yaml", None, None, "deeper than"),
    "huge-file": (bad_layer("image: x\n" + "# padding\n" * 4_000_000), "layer.yaml", 0, None, "podc reads at most"),
    "bad-project-field": ({"podc.yaml": PROJECT + "outptu: x\n", "layer.yaml": "image: x\n"}, "podc.yaml", 5, 1,
                          "output"),
    "bad-target-name": ({"podc.yaml": PROJECT.replace("  t:", "  ../evil:"), "layer.yaml": "image: x\n"},
                        "podc.yaml", 3, 3, "invalid target name"),
    "unknown-layer-name": ({"podc.yaml": PROJECT.replace("layer.yaml", "bse"), "layer.yaml": "image: x\n"}, "podc.yaml",
                           4, 14, "unknown layer"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_reported_at_its_position(name: str, tmp_path: Path):
    files, file, line, col, text = CASES[name]
    root = write_files(tmp_path / "p", files)
    result = run_podc("compile", str(root))
    assert result.returncode == 2, result.stderr
    err = result.stderr
    assert "Traceback" not in err and "internal error" not in err, err
    assert text in err, err
    where = re.escape(file) + (f":{line}" if line else r"(:\d+)?") + (f":{col}" if col else r"(:\d+)?")
    assert re.search(where + r": error", err), err
    assert not (root / "build").exists()
    assert result.stdout == ""


def test_missing_project(tmp_path: Path):
    result = run_podc("compile", str(tmp_path))
    assert result.returncode == 2 and "no podc.yaml here" in result.stderr and "Traceback" not in result.stderr


def test_output_path_that_is_a_file(tmp_path: Path):
    root = write_files(tmp_path / "p", {"podc.yaml": PROJECT, "layer.yaml": "image: busybox:1.36\n",
                                        "build": "not a folder"})
    result = run_podc("compile", str(root))
    assert result.returncode == 2 and "is not a folder" in result.stderr and "Traceback" not in result.stderr


def test_usage_error_exit_2(tmp_path: Path):
    result = run_podc("compile", "--format", "xml")
    assert result.returncode == 2 and "invalid choice" in result.stderr
