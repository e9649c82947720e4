"""podc._data_cache: never changes a value, rebuilds on a changed input or a damaged entry, and
runs without a cache folder (missing, read-only, turned off)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from podc import _data_cache as data_cache


@pytest.fixture
def cache(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("PODC_CACHE_DIR", str(folder))
    return folder


def counting(value):
    calls = []

    def build():
        calls.append(1)
        return value

    return build, calls


def test_second_read_comes_from_disk_and_equals_the_built_value(cache: Path):
    value = {"b": [1, 2.5, None, True], "a": ("x", frozenset({"y"})), "code": compile("x = 1", "<t>", "exec")}
    build, calls = counting(value)
    first = data_cache.cached("t", [b"input"], build)
    second = data_cache.cached("t", [b"input"], build)
    assert len(calls) == 1 and len(list(cache.iterdir())) == 1
    assert list(second) == list(value) == list(first)  # key order kept
    assert second["b"] == value["b"] and second["a"] == value["a"] and second["code"] == value["code"]


def test_a_changed_input_is_another_entry(cache: Path):
    build, calls = counting([1])
    data_cache.cached("t", [b"v1"], build)
    data_cache.cached("t", [b"v2"], build)
    assert len(calls) == 2 and len(list(cache.iterdir())) == 2


@pytest.mark.parametrize("damage", [lambda b: b[:-3], lambda b: b[:20], lambda b: b[:-1] + b"\x00", lambda b: b""])
def test_a_damaged_entry_is_rebuilt_and_replaced(cache: Path, damage):
    build, calls = counting({"k": list(range(50))})
    data_cache.cached("t", [b"in"], build)
    (entry,) = cache.iterdir()
    entry.write_bytes(damage(entry.read_bytes()))
    assert data_cache.cached("t", [b"in"], build) == {"k": list(range(50))}
    assert data_cache.cached("t", [b"in"], build) == {"k": list(range(50))}
    assert len(calls) == 2  # rebuilt once, then the rewritten entry is read


def test_unwritable_or_disabled_cache_still_gives_the_value(tmp_path: Path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("PODC_CACHE_DIR", str(blocker / "sub"))  # cannot be created
    assert data_cache.cached("t", [b"x"], lambda: [1, 2]) == [1, 2]
    monkeypatch.setenv("PODC_CACHE_DIR", "")  # turned off
    assert data_cache.cache_dir() is None
    assert data_cache.cached("t", [b"x"], lambda: [3]) == [3]


def test_default_folder_and_no_home(monkeypatch, tmp_path: Path):
    monkeypatch.delenv("PODC_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert data_cache.cache_dir() == tmp_path / "podc"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setattr(os.path, "expanduser", lambda p: p)  # no home folder at all
    assert data_cache.cache_dir() is None


def test_values_marshal_cannot_store_are_returned_uncached(cache: Path):
    value = object()
    assert data_cache.cached("t", [b"x"], lambda: value) is value
    assert not cache.exists() or not list(cache.iterdir())


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_folder(tmp_path: Path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        monkeypatch.setenv("PODC_CACHE_DIR", str(folder))
        assert data_cache.cached("t", [b"x"], lambda: {"a": 1}) == {"a": 1}
    finally:
        folder.chmod(0o700)


def _compile_output(project: Path, env: dict) -> tuple[int, bytes, bytes]:
    proc = subprocess.run([sys.executable, "-m", "podc", "compile", str(project), "--stdout"], env=env,
                          capture_output=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def test_compile_output_is_the_same_with_cold_warm_damaged_and_no_cache(tmp_path: Path):
    """The policy step's findings and the manifests do not depend on the cache's state."""
    project = tmp_path / "p"
    project.mkdir()
    (project / "podc.yaml").write_text("kind: Project\nnamespace: batch\ntargets:\n  one:\n    file: job.yaml\n")
    (project / "job.yaml").write_text("image: app:1\nresources:\n  requests: {cpu: 500m, memory: 1Gi}\n")
    env = dict(os.environ, PODC_CACHE_DIR=str(tmp_path / "cache"))
    cold = _compile_output(project, env)
    entries = sorted(p.name.split("-")[0] for p in (tmp_path / "cache").iterdir())
    assert len(entries) >= 3  # schema kinds and predicate, Pod Security pack, best-practices pack
    warm = _compile_output(project, env)
    for entry in (tmp_path / "cache").iterdir():
        entry.write_bytes(entry.read_bytes()[:-7])
    damaged = _compile_output(project, env)
    off = _compile_output(project, dict(env, PODC_CACHE_DIR=""))
    assert cold == warm == damaged == off
    assert cold[0] == 0 and b"kind: Job" in cold[1]
