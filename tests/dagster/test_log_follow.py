"""podc.runtime.log_follow.JobLogFollower against a scripted transport: resuming a cut stream
neither loses nor repeats lines (with kubelet timestamps, and against a server that ignores
``timestamps``), the next Pod is followed, a Job that never started a container ends the
follower without a request, and stop() unblocks a blocked read."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from podc.runtime.diagnose import JobPhase
from podc.runtime.log_follow import JobLogFollower, split_timestamp
from podc.runtime.retry import ApiError


def _pod(name, state, created="2026-01-01T00:00:00Z"):
    return {"metadata": {"name": name, "creationTimestamp": created},
            "spec": {"containers": [{"name": "main"}]},
            "status": {"containerStatuses": [{"name": "main", "state": {state: {}}}]}}


class FakeRuntime:
    """The parts of Runtime the follower reads: records (pods, phase), the condition, the
    transport and the namespace."""

    def __init__(self, pods, phase=JobPhase.RUNNING):
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._records = {"job": SimpleNamespace(pods={p["metadata"]["name"]: p for p in pods},
                                                phase=phase)}
        self.namespace = "default"
        self.transport = self

        self.streams = []  # per request: list of lines, or an exception to raise after them
        self.queries = []

    def set_pod(self, pod, phase=None):
        with self._changed:
            self._records["job"].pods[pod["metadata"]["name"]] = pod
            if phase is not None:
                self._records["job"].phase = phase
            self._changed.notify_all()

    def stream(self, path, query=None):
        self.queries.append((path, dict(query or {})))
        script = self.streams.pop(0)
        return FakeStream(script, on_end=script.on_end if hasattr(script, "on_end") else None)


class Script(list):
    def __init__(self, lines, error=None, on_end=None):
        super().__init__(lines)
        self.error = error
        self.on_end = on_end


class FakeStream:
    def __init__(self, script, on_end=None):
        self.script, self.on_end = script, on_end
        self.closed = threading.Event()

    def __iter__(self):
        for line in self.script:
            yield line.encode()
        if self.on_end:
            self.on_end()
        if getattr(self.script, "error", None) is not None:
            raise self.script.error

    def close(self):
        self.closed.set()


def _collect(rt, **kw):
    lines = []
    follower = JobLogFollower(rt, "job", lines.append, **kw).start()
    return follower, lines


def test_split_timestamp():
    assert split_timestamp(b"2024-03-22T02:17:29.885548486Z hello world") == (
        "2024-03-22T02:17:29.885548486Z", b"hello world")
    assert split_timestamp(b"hello 2024") == (None, b"hello 2024")


def test_resume_with_timestamps_neither_loses_nor_repeats_lines():
    rt = FakeRuntime([_pod("p1", "running")])
    cut = ApiError(0, "stream interrupted: reset", kind="connection")
    rt.streams = [
        Script(["2026-01-01T00:00:01.000000001Z a", "2026-01-01T00:00:02.000000000Z b1",
                "2026-01-01T00:00:02.000000000Z b2"], error=cut),
        # resumed from 00:00:02 (second precision): b1, b2 again, then new lines
        Script(["2026-01-01T00:00:02.000000000Z b1", "2026-01-01T00:00:02.000000000Z b2",
                "2026-01-01T00:00:02.000000000Z b3", "2026-01-01T00:00:03.5Z c"],
               on_end=lambda: rt.set_pod(_pod("p1", "terminated"), JobPhase.SUCCEEDED)),
    ]
    follower, lines = _collect(rt)
    assert follower.join(5)
    assert lines == ["a", "b1", "b2", "b3", "c"]
    assert rt.queries[1][1]["sinceTime"] == "2026-01-01T00:00:02Z"
    assert follower.error is None


def test_resume_without_timestamps_skips_what_was_delivered():
    rt = FakeRuntime([_pod("p1", "running")])
    rt.streams = [Script(["one", "two"]),  # ends while the container still runs: a cut
                  Script(["one", "two", "three"],
                         on_end=lambda: rt.set_pod(_pod("p1", "terminated"), JobPhase.SUCCEEDED))]
    follower, lines = _collect(rt)
    assert follower.join(5)
    assert lines == ["one", "two", "three"]
    assert follower.reconnects == 1
    assert "sinceTime" not in {k for k, v in rt.queries[1][1].items() if v is not None}


def test_follows_the_next_pod_of_the_job():
    rt = FakeRuntime([_pod("p1", "terminated", "2026-01-01T00:00:00Z")])

    def second_pod_then_done():
        rt.set_pod(_pod("p2", "terminated", "2026-01-01T00:01:00Z"), JobPhase.FAILED)

    rt.streams = [Script(["first try"], on_end=lambda: rt.set_pod(
                      _pod("p2", "running", "2026-01-01T00:01:00Z"))),
                  Script(["second try"], on_end=second_pod_then_done)]
    follower, lines = _collect(rt)
    assert follower.join(5)
    assert lines == ["first try", "second try"]
    assert [q[0].rsplit("/", 2)[-2] for q in rt.queries] == ["p1", "p2"]


def test_a_job_that_never_started_a_container_ends_without_a_request():
    rt = FakeRuntime([_pod("p1", "waiting")])
    follower, lines = _collect(rt)
    time.sleep(0.1)
    rt.set_pod(_pod("p1", "waiting"), JobPhase.FAILED)  # e.g. ImagePullBackOff past its grace
    assert follower.join(5)
    assert lines == [] and rt.queries == []


def test_stop_unblocks_a_blocked_read():
    rt = FakeRuntime([_pod("p1", "running")])
    release = threading.Event()

    class Blocking(FakeStream):
        def __iter__(self):
            yield b"started"
            release.wait(10)  # a read that blocks until the stream is closed

        def close(self):
            release.set()

    rt.stream = lambda path, query=None: Blocking([])  # type: ignore[method-assign]
    follower, lines = _collect(rt)
    deadline = time.monotonic() + 5
    while not lines and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    follower.stop()
    assert follower.join(2)
    assert time.monotonic() - started < 1.5
    assert lines == ["started"]


def test_persistent_errors_end_the_follower_with_the_error():
    rt = FakeRuntime([_pod("p1", "running")])
    boom = ApiError(500, "internal error")
    rt.streams = [Script([], error=boom) for _ in range(10)]
    follower, _ = _collect(rt, max_reconnects=2)
    assert follower.join(10)
    assert follower.error is boom
    assert len(rt.queries) == 3


@pytest.mark.parametrize("line", [b"", b"x" * 10])
def test_lines_without_timestamps_pass_through(line):
    assert split_timestamp(line) == (None, line)


def test_a_long_line_cut_by_the_transport_is_joined_again():
    from podc.runtime.log_follow import LOG_PIECE

    message = '{"__dagster_pipes_version": "0.1", "x": "' + "y" * (2 * LOG_PIECE) + '"}'
    pieces = [message[i:i + LOG_PIECE] for i in range(0, len(message), LOG_PIECE)]
    assert len(pieces[0]) == LOG_PIECE and len(pieces) == 3
    rt = FakeRuntime([_pod("p1", "running")])
    rt.streams = [Script([*pieces, "after"],
                         on_end=lambda: rt.set_pod(_pod("p1", "terminated"), JobPhase.SUCCEEDED))]
    follower, lines = _collect(rt)
    assert follower.join(5)
    assert lines == [message, "after"]
