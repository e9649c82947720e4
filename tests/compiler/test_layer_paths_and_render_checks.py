"""Layer paths that name no file (a folder, a Windows path) and render checks reported once."""

from __future__ import annotations

from pathlib import Path

import pytest

import podc
from compiler_helpers import write_files
from podc.errors import PodcError

PROJECT = """
    kind: Project
    layers:
      base: {base}
    targets:
      t:
        layers: [base]
        file: job.yaml
    """
LAYER = "labels: {team: core}\n"
JOB = "image: busybox:1.36\n"


def errors_of(root: Path) -> list:
    with pytest.raises(PodcError) as e:
        podc.compile_project(root)
    return [d for d in e.value.diagnostics if d.severity == "error"]


def test_a_directory_as_a_layer_file_says_directory(tmp_path: Path):
    root = write_files(tmp_path / "p", {"podc.yaml": PROJECT.format(base="layers"), "layers/base.yaml": LAYER,
                                        "job.yaml": JOB})
    (d,) = errors_of(root)
    assert d.code == "input.not-a-file"
    assert "expected a layer file, found a directory: layers (layer `base`)" in d.message
    assert (d.pos.line, d.pos.col) == (3, 9)  # where `layers:` writes the path (the line to fix)…
    assert [(p.line, p.col) for p, _ in d.related] == [(6, 14)]  # …and where the target uses `base`


def test_extends_a_directory_says_directory(tmp_path: Path):
    root = write_files(tmp_path / "p", {"podc.yaml": PROJECT.format(base="layers/base.yaml"),
                                        "layers/base.yaml": LAYER, "job.yaml": "extends: [layers]\n" + JOB})
    (d,) = errors_of(root)
    assert d.code == "input.not-a-file" and "found a directory: layers" in d.message
    assert d.pos.file.endswith("job.yaml") and (d.pos.line, d.pos.col) == (1, 11)


def test_windows_separator_names_the_written_path_and_the_fix(tmp_path: Path):
    root = write_files(tmp_path / "p", {"podc.yaml": PROJECT.format(base="layers\\base.yaml"),
                                        "layers/base.yaml": LAYER, "job.yaml": JOB})
    (d,) = errors_of(root)
    assert d.code == "input.missing-file"
    assert d.message == "layer file not found: layers\\base.yaml (layer `base`)"
    assert "use `/` on every OS" in d.hint and "`layers/base.yaml`" in d.hint


def test_windows_separator_in_extends_is_fixed_relative_to_the_layer(tmp_path: Path):
    root = write_files(tmp_path / "p", {"podc.yaml": PROJECT.format(base="layers/base.yaml"),
                                        "layers/base.yaml": LAYER, "sub/job.yaml": "extends: [..\\layers\\base.yaml]\n"
                                        + JOB})
    (root / "podc.yaml").write_text((root / "podc.yaml").read_text().replace("file: job.yaml", "file: sub/job.yaml"))
    (d,) = errors_of(root)
    assert "..\\layers\\base.yaml" in d.message and "`../layers/base.yaml`" in d.hint


def test_a_plain_missing_file_keeps_the_usual_hint(tmp_path: Path):
    root = write_files(tmp_path / "p", {"podc.yaml": PROJECT.format(base="layers/nope.yaml"), "job.yaml": JOB})
    (d,) = errors_of(root)
    assert d.message == "layer file not found: layers/nope.yaml (layer `base`)"
    assert d.hint == "paths are relative to the file that names them"


def test_a_bad_label_copied_into_the_pod_template_is_reported_once(tmp_path: Path):
    root = write_files(tmp_path / "p", {"podc.yaml": PROJECT.format(base="layers/base.yaml"),
                                        "layers/base.yaml": "labels: {'bad key!': 'also bad!'}\n", "job.yaml": JOB})
    errors = errors_of(root)
    keys = [(d.code, d.message, d.pos.line, d.pos.col) for d in errors]
    assert len(keys) == len(set(keys)), keys
    assert sum("label key" in d.message for d in errors) == 1, keys
    assert sum("value of label" in d.message for d in errors) == 1, keys
    assert all(d.pos.file.endswith("base.yaml") for d in errors)


def test_distinct_label_problems_at_different_places_are_all_kept(tmp_path: Path):
    root = write_files(tmp_path / "p", {"podc.yaml": PROJECT.format(base="layers/base.yaml"),
                                        "layers/base.yaml": "jobLabels: {'a b': x}\npodLabels: {'c d': y}\n",
                                        "job.yaml": JOB})
    errors = [d for d in errors_of(root) if "label key" in d.message]
    assert sorted(d.pos.line for d in errors) == [1, 2]
