"""Following a Job's container logs from a thread, resumable and stoppable.

:meth:`Runtime.stream_logs` is a generator for the caller's own thread. Readers that must keep
up with a Pod while the caller waits on something else (Dagster Pipes messages arrive in the log)
need more: a thread that

* waits (on the runtime's watch, no requests) for a Pod of the Job whose container started, and
  stops by itself when the Job ends without one (image pull failure, unschedulable, ...);
* reconnects when the stream breaks while the container still runs, without losing or repeating
  lines: with ``timestamps=true`` (what a kubelet answers) it resumes from ``sinceTime`` and skips
  what it saw at that instant; against a server that ignores ``timestamps`` it re-reads the log
  and skips the lines already delivered;
* follows the next Pod when the Job starts another one (``backoffLimit`` > 0);
* stops promptly on :meth:`JobLogFollower.stop` (the open stream is closed, unblocking its read).
"""

from __future__ import annotations

import re
import threading
import time
from typing import TYPE_CHECKING, Any, Callable

from podc.runtime import api
from podc.runtime.logs import default_container
from podc.runtime.retry import ApiError

if TYPE_CHECKING:
    from podc.runtime.runtime import Runtime

__all__ = ["JobLogFollower", "split_timestamp"]

# podc.runtime.transport cuts a log line longer than this into pieces of exactly this size; a
# Pipes message can be longer (large metadata), so the pieces are joined again here.
LOG_PIECE = 64 * 1024
_MAX_JOINED = 16 * 1024 * 1024  # a "line" beyond this is delivered in parts: memory stays bounded

# RFC 3339 as the kubelet writes it with timestamps=true: 2024-03-22T02:17:29.885548486Z
_STAMP = re.compile(rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ")


def split_timestamp(line: bytes) -> tuple[str | None, bytes]:
    """(kubelet timestamp, rest) — (None, line) when the line carries none."""
    match = _STAMP.match(line)
    if not match:
        return None, line
    return match.group(1).decode(), line[match.end():]


def _stamp_key(stamp: str) -> str:
    """Timestamps compare as text once their fraction has a fixed width."""
    head, _, frac = stamp.rstrip("Z").partition(".")
    return f"{head}.{frac.ljust(9, '0')[:9]}"


def _container_state(pod: dict[str, Any], container: str | None) -> str | None:
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        if cs.get("name") == container:
            state = cs.get("state") or {}
            return next((k for k in ("terminated", "running", "waiting")
                         if state.get(k) is not None), None)
    return None


class JobLogFollower:
    """Calls ``on_line(text)`` for every log line of the Job's Pods' main container, in order."""

    def __init__(self, rt: "Runtime", name: str, on_line: Callable[[str], None], *,
                 container: str | None = None, max_reconnects: int = 5) -> None:
        self._rt = rt
        self._name = name
        self._on_line = on_line
        self._container = container
        self._max_reconnects = max_reconnects
        self._stop = threading.Event()
        self._stream: Any = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"podc-logs-{name[:40]}")
        self.lines = 0  # lines delivered
        self.reconnects = 0
        self.error: BaseException | None = None  # why following ended early, if it did

    def start(self) -> "JobLogFollower":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.close()
        with self._rt._changed:
            self._rt._changed.notify_all()

    def join(self, timeout: float | None = None) -> bool:
        """True when the thread has ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- the thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        followed: set[str] = set()
        try:
            while not self._stop.is_set():
                pod = self._next_pod(followed)
                if pod is None:
                    return
                followed.add(pod["metadata"]["name"])
                self._follow_pod(pod)
        except BaseException as exc:  # noqa: BLE001 - reported to the owner through .error
            self.error = exc

    def _next_pod(self, followed: set[str]) -> dict[str, Any] | None:
        """The newest Pod not yet followed whose container started; None when the Job is over
        (or stopping) and no such Pod exists."""
        rt = self._rt
        with rt._changed:
            while not self._stop.is_set():
                rec = rt._records.get(self._name)
                if rec is not None:
                    pods = sorted(rec.pods.values(), key=lambda p: (p.get("metadata") or {}).get(
                        "creationTimestamp") or "")
                    for pod in pods:
                        name = pod["metadata"]["name"]
                        container = self._container or default_container(pod)
                        if name not in followed and _container_state(pod, container) in (
                                "running", "terminated"):
                            return pod
                    if rec.phase.terminal:
                        return None
                rt._changed.wait(0.5)
        return None

    def _pod_done(self, pod_name: str, container: str | None) -> bool:
        rt = self._rt
        with rt._lock:
            rec = rt._records.get(self._name)
            pod = rec.pods.get(pod_name) if rec is not None else None
            if pod is None or (pod.get("metadata") or {}).get("deletionTimestamp"):
                return True
            return _container_state(pod, container) == "terminated" or rec.phase.terminal

    @staticmethod
    def _joined(stream: Any) -> Any:
        """Lines of ``stream`` with the transport's pieces of long lines joined back."""
        pending = bytearray()
        for piece in stream:
            pending += piece
            if len(piece) == LOG_PIECE and len(pending) < _MAX_JOINED:
                continue  # a cut piece: the rest of the line follows
            yield bytes(pending)
            pending = bytearray()
        if pending:
            yield bytes(pending)

    def _wait_pod_done(self, pod_name: str, container: str | None, timeout: float) -> bool:
        """A log stream ends when its container exits; the watch reports the exit a moment
        later. Wait for it (no requests) before deciding the stream was cut."""
        deadline = time.monotonic() + timeout
        with self._rt._changed:
            while not self._pod_done(pod_name, container):
                left = deadline - time.monotonic()
                if left <= 0 or self._stop.is_set():
                    return self._pod_done(pod_name, container)
                self._rt._changed.wait(min(left, 0.1))
        return True

    def _follow_pod(self, pod: dict[str, Any]) -> None:
        pod_name = pod["metadata"]["name"]
        container = self._container or default_container(pod)
        seen = 0  # lines delivered from this Pod (resume by count when no timestamps come)
        last_key: str | None = None  # newest kubelet timestamp delivered (resume by time)
        since: str | None = None
        at_last = 0  # lines delivered carrying exactly last_key (several lines share an instant)
        failures = 0
        while not self._stop.is_set():
            query: dict[str, Any] = {"follow": True, "container": container, "timestamps": True,
                                     "sinceTime": since}
            skip_count = seen if last_key is None else 0
            skip_at_last = at_last
            index = 0
            try:
                stream = self._rt.transport.stream(api.pod_log_path(self._rt.namespace, pod_name),
                                                   query=query)
                with self._lock:
                    self._stream = stream
                if self._stop.is_set():
                    stream.close()
                    return
                for raw in self._joined(stream):
                    stamp, body = split_timestamp(raw)
                    index += 1
                    if stamp is None:
                        if index <= skip_count:
                            continue
                    else:
                        key = _stamp_key(stamp)
                        if last_key is not None and key < last_key:
                            continue
                        if key == last_key:
                            if skip_at_last > 0:
                                skip_at_last -= 1
                                continue
                            at_last += 1
                        else:
                            last_key, at_last, skip_at_last = key, 1, 0
                            # sinceTime has second precision: resume from the start of it
                            since = stamp[:19] + "Z" if stamp.endswith("Z") else stamp
                    seen += 1
                    self.lines += 1
                    self._on_line(body.decode("utf-8", errors="replace").rstrip("\r"))
            except ApiError as err:
                if self._stop.is_set():
                    return
                # 400 "waiting to start": the status we saw was ahead of the log endpoint
                if err.not_found or (err.status != 400 and self._pod_done(pod_name, container)):
                    return
                failures += 1
                if failures > self._max_reconnects:
                    raise
                self._stop.wait(min(0.2 * 2 ** failures, 5.0))
                continue
            finally:
                with self._lock:
                    self._stream = None
            if self._wait_pod_done(pod_name, container, 1.0):
                return
            # The stream ended while the container runs (a proxy or the kubelet cut it): resume.
            self.reconnects += 1
            failures = 0 if index else failures + 1
            if failures > self._max_reconnects:
                return
            self._stop.wait(0.05 if index else min(0.2 * 2 ** failures, 5.0))
