"""The output folder: all-or-nothing writes, a manifest that cannot delete user files, locking."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest

import podc.emit.outputs as emit
from cli_helpers import REPO, podc


def _plan_and_apply(out: Path, contents: dict[str, str], prune: bool = True) -> emit.OutputPlan:
    plan = emit.plan_outputs(out, contents, prune=prune)
    emit.apply_plan(plan)
    return plan


def test_json_outputs_are_recognised_by_hash_and_a_stale_entry_never_deletes_a_user_file(tmp_path: Path):
    out = tmp_path / "build"
    _plan_and_apply(out, {"a.json": '{"a": 1}\n', "b.json": '{"b": 1}\n'})
    manifest = json.loads((out / emit.MANIFEST_NAME).read_text())
    assert manifest["files"] == ["a.json", "b.json"] and set(manifest["sha256"]) == {"a.json", "b.json"}
    (out / "b.json").unlink()  # the user deletes an output by hand…
    (out / "b.json").write_text('{"mine": true}\n')  # …and later writes their own file of that name
    plan = _plan_and_apply(out, {"a.json": '{"a": 2}\n'})  # target b is gone: prune
    assert plan.remove == [] and (out / "b.json").read_text() == '{"mine": true}\n'
    with pytest.raises(emit.PodcError):
        emit.plan_outputs(out, {"b.json": '{"b": 2}\n'})  # and compile refuses to overwrite it
    assert "b.json" not in json.loads((out / emit.MANIFEST_NAME).read_text())["files"]


def test_generated_json_that_changed_by_hand_is_not_podcs(tmp_path: Path):
    out = tmp_path / "build"
    _plan_and_apply(out, {"a.json": '{"a": 1}\n'})
    (out / "a.json").write_text('{"edited": 1}\n')
    with pytest.raises(emit.PodcError):
        emit.plan_outputs(out, {"a.json": '{"a": 2}\n'})


def test_old_manifest_without_hashes_still_works(tmp_path: Path):
    out = tmp_path / "build"
    out.mkdir()
    (out / "a.json").write_text("{}\n")
    (out / emit.MANIFEST_NAME).write_text('{"generator": "podc", "files": ["a.json"]}\n')
    plan = _plan_and_apply(out, {"a.json": '{"a": 1}\n'})
    assert plan.write == ["a.json"] and (out / "a.json").read_text() == '{"a": 1}\n'


def test_a_failed_write_leaves_the_whole_folder_as_it_was(tmp_path: Path, monkeypatch):
    out = tmp_path / "build"
    _plan_and_apply(out, {"a.json": "1\n", "b.json": "1\n", "c.json": "1\n"})
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real = emit._write_temp
    calls = []

    def disk_full_on_the_second(path, data, **kw):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(path))
        return real(path, data, **kw)

    monkeypatch.setattr(emit, "_write_temp", disk_full_on_the_second)
    with pytest.raises(OSError):
        _plan_and_apply(out, {"a.json": "2\n", "b.json": "2\n", "c.json": "2\n"})
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing written, no temp files


def test_concurrent_partial_compiles_keep_every_manifest_entry(tmp_path: Path):
    out = tmp_path / "build"
    out.mkdir()
    names = [f"t{i}.json" for i in range(8)]
    barrier = threading.Barrier(len(names))

    def one(name: str) -> None:
        plan = emit.plan_outputs(out, {name: "{}\n"}, prune=False)
        barrier.wait()
        emit.apply_plan(plan)

    threads = [threading.Thread(target=one, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert json.loads((out / emit.MANIFEST_NAME).read_text())["files"] == sorted(names)


def test_check_reads_a_compiled_folder(tmp_path: Path):
    dest = tmp_path / "platform"
    shutil.copytree(REPO / "examples" / "platform", dest)
    assert podc("compile", str(dest), "--format", "json", "--out", str(dest / "json")).returncode == 0
    r = podc("check", str(dest / "json"))
    assert r.returncode == 0 and "no kind" not in r.stdout + r.stderr, r.stdout + r.stderr
