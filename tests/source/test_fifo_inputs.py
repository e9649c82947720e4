"""A project, layer or manifest path that is a named pipe never blocks podc (issue 11 §1)."""

from __future__ import annotations

import os
import threading
import time

import pytest

from podc.errors import PodcError
from podc.source import read_text

JOB = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: a}\n"


def test_a_fifo_without_writer_reads_as_empty_at_once(tmp_path):
    fifo = tmp_path / "jobs.yaml"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    assert read_text(fifo) == ""
    assert time.monotonic() - t0 < 2


def test_a_fifo_with_a_writer_is_read(tmp_path):
    fifo = tmp_path / "jobs.yaml"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "w") as fh:  # blocks until podc opens the pipe
            time.sleep(0.2)
            fh.write(JOB)

    writer = threading.Thread(target=write)
    writer.start()
    deadline = time.monotonic() + 5
    text = ""
    while not text and time.monotonic() < deadline:  # podc may open before the writer does
        text = read_text(fifo)
    writer.join(5)
    assert text == JOB


def test_a_silent_writer_is_given_up_on(tmp_path, monkeypatch):
    import podc._pipes as pipes

    monkeypatch.setattr(pipes, "IDLE_SECONDS", 0.5)
    fifo = tmp_path / "jobs.yaml"
    os.mkfifo(fifo)
    keep = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # a writer that never writes
    try:
        t0 = time.monotonic()
        with pytest.raises(PodcError) as info:
            read_text(fifo)
        assert time.monotonic() - t0 < 3
        assert info.value.diagnostics[0].code == "input.pipe-stalled"
    finally:
        os.close(keep)


@pytest.mark.parametrize("argv", [["check", "{fifo}"], ["compile", "{dir}"]])
def test_cli_on_a_fifo_returns(tmp_path, argv):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    (tmp_path / "proj").mkdir()
    os.mkfifo(tmp_path / "proj" / "podc.yaml")
    os.mkfifo(tmp_path / "m.yaml")
    args = [a.format(fifo=tmp_path / "m.yaml", dir=tmp_path / "proj") for a in argv]
    done = subprocess.run([sys.executable, "-m", "podc", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(root / "compiler")})
    assert done.returncode in (0, 2), done.stderr
    assert "Traceback" not in done.stderr
