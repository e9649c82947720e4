"""The CLI contract under bad input: a located error with a hint, exit 2, never a traceback or an
"internal error", nothing written, the user's files untouched, secrets never printed.

The table lives in ``_cases.py``; this module runs it, adds the cases that need a patched
environment (permission denied, failing writes) and fuzzes ``podc compile`` / ``podc check``
with random and mutated YAML.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ._cases import CASES
from ._harness import (JOB, SECRET, USER_NOTE, Case, assert_contract, make_project, run_inprocess, run_subprocess,
                       snapshot)


def _param(case: Case):
    marks = [pytest.mark.xfail(strict=True, reason=case.bug)] if case.bug else []
    if case.name == "out-not-writable" and not os.path.isdir("/proc/self"):
        marks.append(pytest.mark.skip(reason="needs Linux /proc"))
    return pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_input_contract(case: Case, tmp_path: Path):
    root = make_project(tmp_path / "p", case.files)
    if "sparse" in case.extra:  # a huge file without writing its bytes: the size check comes first
        with open(root / case.extra["sparse"], "wb") as f:
            f.truncate(case.extra["size"])
    if "symlink" in case.extra:
        link, target = case.extra["symlink"]
        os.symlink(target, root / link)
    before = snapshot(root)
    if case.subprocess:
        (tmp_path / "tmp").mkdir()
        run = run_subprocess(case.argv, root, tmp_path / "tmp", case.extra.get("env"))
        assert not list((tmp_path / "tmp").glob("podc-crash-*")), "a crash log was written"
    else:
        run = run_inprocess(case.argv, root)
    assert_contract(case, run, before, snapshot(root))


def test_table_is_big_enough():
    assert len(CASES) >= 60
    assert sum(c.subprocess for c in CASES) >= 20


# --- cases that need a patched environment --------------------------------------------------------


def _denied(path_part: str, real_open=open):
    def fake_open(file, *args, **kwargs):
        if path_part in os.fspath(file):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(file))
        return real_open(file, *args, **kwargs)

    return fake_open


def test_permission_denied_layer_is_located(tmp_path: Path, monkeypatch):
    import podc.source.guards

    root = make_project(tmp_path / "p", {})
    before = snapshot(root)
    monkeypatch.setattr(podc.source.guards, "open", _denied("hello.yaml"), raising=False)
    run = run_inprocess(["compile"], root)
    case = Case("permission-denied", {}, ["compile"], where=r"jobs/hello\.yaml", says=("permission denied",),
                hint=False)
    assert_contract(case, run, before, snapshot(root))


def test_permission_denied_manifest_for_check(tmp_path: Path, monkeypatch):
    import podc.source.guards

    root = make_project(tmp_path / "p", {"m.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"})
    before = snapshot(root)
    monkeypatch.setattr(podc.source.guards, "open", _denied("m.yaml"), raising=False)
    run = run_inprocess(["check", "m.yaml"], root)
    case = Case("permission-denied-check", {}, ["check"], where=r"m\.yaml", says=("permission denied",), hint=False)
    assert_contract(case, run, before, snapshot(root))


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads and writes anything")
def test_real_unreadable_file_and_unwritable_output(tmp_path: Path):
    root = make_project(tmp_path / "p", {})
    os.chmod(root / "jobs/hello.yaml", 0)
    try:
        run = run_subprocess(["compile"], root, tmp_path)
        assert run.code == 2 and "permission denied" in run.err and "Traceback" not in run.text
    finally:
        os.chmod(root / "jobs/hello.yaml", 0o644)
    os.chmod(root / "build", 0o555)
    try:
        run = run_subprocess(["compile", "--no-policy"], root, tmp_path)
        assert run.code == 2 and "cannot write" in run.err and "Traceback" not in run.text, run.text
    finally:
        os.chmod(root / "build", 0o755)


@pytest.mark.parametrize("err", [errno.EACCES, errno.EROFS, errno.ENOSPC])
def test_failing_write_is_a_clear_error_and_keeps_user_files(tmp_path: Path, monkeypatch, err: int):
    import podc.emit

    root = make_project(tmp_path / "p", {})

    def failing_write(path, data, **_):
        raise OSError(err, os.strerror(err), str(path))

    monkeypatch.setattr(podc.emit.outputs, "_write_temp", failing_write)
    run = run_inprocess(["compile", "--no-policy"], root)
    assert run.code == 2, run.text
    assert "cannot write" in run.err and "build" in run.err and os.strerror(err) in run.err, run.err
    assert "Traceback" not in run.text and "internal error" not in run.text
    assert (root / USER_NOTE[0]).read_bytes() == USER_NOTE[1]


def test_check_internal_error_goes_to_a_log(tmp_path: Path, monkeypatch):
    """A podc bug inside `podc check` reports like every command: a short line and a log path."""
    import podc.check.engine

    root = make_project(tmp_path / "p", {"m.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"})

    def boom(*_, **__):
        raise RuntimeError(f"bug with {SECRET}")

    monkeypatch.setattr(podc.check.engine, "check_manifests", boom)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    run = run_inprocess(["check", "m.yaml"], root)
    assert run.code == 3
    assert "podc: internal error" in run.err and "Traceback" not in run.err and SECRET not in run.err
    logs = list(tmp_path.glob("podc-crash-*.log"))
    assert len(logs) == 1 and str(logs[0]) in run.err and "RuntimeError" in logs[0].read_text()


# --- fuzzing --------------------------------------------------------------------------------------

LAYER_SEED = (JOB + "env:\n  TZ: UTC\n  API_TOKEN: {secretKeyRef: {name: api, key: token}}\n"
              "resources:\n  limits: {memory: 1Gi, cpu: '2'}\nvolumes:\n  scratch: {emptyDir: {}, mountPath: /s}\n"
              "labels: {team: ml}\nbackoffLimit: 2\nraw:\n  podSpec: {hostNetwork: false}\n")
MANIFEST_SEED = ("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: x\n  labels: {team: ml}\nspec:\n  backoffLimit: 1\n"
                 "  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: main\n"
                 "        image: busybox:1.36\n        resources: {limits: {memory: 1Gi}}\n"
                 "        env: [{name: A, value: b}]\n")
FIELDS = ["image", "env", "resources", "limits", "memory", "volumes", "secrets", "extends", "raw", "podSpec",
          "labels", "command", "args", "backoffLimit", "initContainers", "sidecars", "kind", "apiVersion", "spec",
          "metadata", "containers", "name", "items", "tolerations", "$patch", "<<", "mountPath", "emptyDir"]
SCALARS = ["", "~", "null", "true", "no", "0", "-1", "1e400", ".nan", "-.inf", "0x1F", "0o17", "99999999999999999999",
           "2GB", "500m", "'quoted'", '"esc\\x00"', "ü", "a: b", "- x", "[", "{", "*a", "&a x", "!replace", "!delete",
           "!!binary AAAA", "!!python/object:os.system", "|", ">", "---", "...", "%YAML 1.1", "#c", "\t", "\r", "\ufeff"]


@st.composite
def yaml_texts(draw, seed: str):
    """Mostly-YAML: generated mappings, or the seed with a few lines/characters mutated."""
    if draw(st.booleans()):
        lines = []
        for _ in range(draw(st.integers(0, 12))):
            indent = "  " * draw(st.integers(0, 3))
            key = draw(st.sampled_from(FIELDS) | st.text(min_size=1, max_size=6))
            value = draw(st.sampled_from(SCALARS) | st.text(max_size=8))
            lines.append(f"{indent}{key}: {value}" if draw(st.booleans()) else f"{indent}- {value}")
        return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n"]))
    text = seed
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace-line", "duplicate-line"]))
        if op == "insert":
            text = text[:at] + draw(st.sampled_from(SCALARS + list(":[]{}-&*!|>'\"#%@`,?\n ")) ) + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 10)):]
        else:
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            if op == "duplicate-line":
                lines.insert(i, lines[i])
            else:
                lines[i] = lines[i][: len(lines[i]) - len(lines[i].lstrip())] + draw(st.sampled_from(FIELDS)) + ": " \
                    + draw(st.sampled_from(SCALARS))
            text = "\n".join(lines)
    return text


def _assert_sane(run, text: str) -> None:
    assert run.code in (0, 1, 2), f"exit {run.code} for input:\n{text!r}\n{run.text}"
    assert "Traceback" not in run.text and "internal error" not in run.text, f"input:\n{text!r}\n{run.text}"
    if run.code == 2:
        assert "error" in run.err, run.err


_FUZZ = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def fuzz_root():
    with tempfile.TemporaryDirectory(prefix="podc-fuzz-") as d:
        yield make_project(Path(d) / "p", {})


@_FUZZ
@given(text=yaml_texts(LAYER_SEED))
def test_fuzz_compile_layer(fuzz_root: Path, text: str):
    (fuzz_root / "jobs/hello.yaml").write_text(text, encoding="utf-8", newline="")
    _assert_sane(run_inprocess(["compile", "--stdout"], fuzz_root), text)


@_FUZZ
@given(text=yaml_texts(MANIFEST_SEED))
def test_fuzz_check_manifest(fuzz_root: Path, text: str):
    (fuzz_root / "m.yaml").write_text(text, encoding="utf-8", newline="")
    _assert_sane(run_inprocess(["check", "m.yaml", "--format", "json"], fuzz_root), text)
