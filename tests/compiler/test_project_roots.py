"""The project stays inside its root (issue 9 §6) and a foreign file's content is never echoed (§5)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import podc
from podc.errors import PodcError

LAYER = "image: registry.corp/etl:1.2.3\ncommand: [run]\n"


def _project(root: Path, targets: str, extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "podc.yaml").write_text("targets:\n" + targets + extra)
    return root


def _codes(root: Path) -> list[tuple[str, str]]:
    with pytest.raises(PodcError) as info:
        podc.compile_project(root)
    return [(d.code, d.message) for d in info.value.diagnostics]


@pytest.mark.parametrize("ref", ["../shared/base.yaml", "ABS"])
def test_file_paths_leaving_the_project_are_refused(tmp_path, ref):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "base.yaml").write_text(LAYER)
    ref = str(tmp_path / "shared" / "base.yaml") if ref == "ABS" else ref
    root = _project(tmp_path / "proj", f"  etl: {{file: '{ref}'}}\n")
    (code, message), = _codes(root)
    assert code == "project.outside-root" and "outside the project folder" in message


def test_layers_and_extends_leaving_the_project_are_refused(tmp_path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "base.yaml").write_text(LAYER)
    root = _project(tmp_path / "proj", "  etl: {layers: [team]}\n", "layers:\n  team: layers/team.yaml\n")
    (root / "layers").mkdir()
    (root / "layers" / "team.yaml").write_text("extends: ../../shared/base.yaml\nlabels: {team: data}\n")
    assert [c for c, _ in _codes(root)] == ["project.outside-root"]


def test_a_symlink_pointing_out_is_outside(tmp_path):
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "creds.yaml").write_text(LAYER)
    root = _project(tmp_path / "proj", "  etl: {file: link/creds.yaml}\n")
    os.symlink(tmp_path / "secret", root / "link")
    assert [c for c, _ in _codes(root)] == ["project.outside-root"]


def test_a_file_symlink_pointing_out_is_outside_next_to_files_already_read(tmp_path):
    """The folder of a layer file is resolved once per run; each file is still checked for a link."""
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "creds.yaml").write_text(LAYER)
    root = _project(tmp_path / "proj", "  etl: {layers: [a, inner, out]}\n",
                    "layers:\n  a: layers/a.yaml\n  inner: layers/inner.yaml\n  out: layers/out.yaml\n")
    (root / "layers").mkdir()
    (root / "layers" / "a.yaml").write_text(LAYER)
    (root / "real.yaml").write_text("labels: {team: data}\n")
    os.symlink(root / "real.yaml", root / "layers" / "inner.yaml")
    os.symlink(tmp_path / "secret" / "creds.yaml", root / "layers" / "out.yaml")
    assert [c for c, _ in _codes(root)] == ["project.outside-root"]
    os.remove(root / "layers" / "out.yaml")
    os.symlink(root / "real.yaml", root / "layers" / "out.yaml")
    assert podc.compile_project(root).jobs[0].manifest["metadata"]["labels"]["team"] == "data"


def test_named_allowed_roots_are_admitted(tmp_path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "base.yaml").write_text(LAYER)
    root = _project(tmp_path / "proj", "  etl: {file: ../shared/base.yaml}\n", "allowedRoots:\n  shared: ../shared\n")
    result = podc.compile_project(root)
    assert result.jobs[0].manifest["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.corp/etl:1.2.3"


def test_an_allowed_root_must_be_a_folder(tmp_path):
    root = _project(tmp_path / "proj", "  etl: {file: a.yaml}\n", "allowedRoots:\n  shared: ../nope\n")
    (root / "a.yaml").write_text(LAYER)
    assert [c for c, _ in _codes(root)] == ["project.allowed-root"]


def test_a_credentials_file_is_not_printed_as_unknown_fields(tmp_path):
    root = _project(tmp_path / "proj", "  etl: {file: netrc}\n")
    (root / "netrc").write_text("machine: api.corp\nlogin: bob\npassword: hunter2-hunter2\n"
                                "AKIAIOSFODNN7EXAMPLE: wJalrXUtnFEMI\n")
    diags = _codes(root)
    assert [c for c, _ in diags] == ["layer.not-a-layer"]
    text = repr(diags)
    for secret in ("hunter2", "AKIAIOSFODNN7EXAMPLE", "login", "wJalrXUtnFEMI"):
        assert secret not in text


def test_a_layer_with_typos_still_gets_did_you_mean(tmp_path):
    root = _project(tmp_path / "proj", "  etl: {file: a.yaml}\n")
    (root / "a.yaml").write_text("imagee: x\n")
    assert [c for c, _ in _codes(root)] == ["layer.unknown-field"]


def test_a_declared_layer_outside_the_project_is_refused_even_unused(tmp_path):
    """A `layers:` entry is checked where it is written, whether or not a target uses it (it
    was only checked when a target read it)."""
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "base.yaml").write_text(LAYER)
    root = _project(tmp_path / "proj", "  etl: {file: job.yaml}\n", "layers:\n  shared: ../shared/base.yaml\n")
    (root / "job.yaml").write_text(LAYER)
    with pytest.raises(PodcError) as info:
        podc.compile_project(root)
    (d,) = info.value.diagnostics
    assert d.code == "project.outside-root" and (d.pos.line, d.pos.col) == (4, 11)
    (root / "podc.yaml").write_text((root / "podc.yaml").read_text() + "allowedRoots: {shared: ../shared}\n")
    assert podc.compile_project(root).jobs[0].target == "etl"
