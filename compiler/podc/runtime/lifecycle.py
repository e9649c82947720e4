"""Starting and stopping a :class:`~podc.runtime.runtime.Runtime`: its three threads (two
watches and the worker), bounded both ways. ``rt`` is the Runtime (typed loosely: it imports
this module)."""

from __future__ import annotations

import threading
import time
from typing import Any

from podc.runtime.deadline import current_deadline, earliest, watchdog
from podc.runtime.tracker import FollowUp


def start(rt: Any, sync_timeout: float) -> None:
    """``Runtime.start``: start the threads, wait for both watches' first list."""
    with rt._lock:
        if rt._start_error is not None:
            raise rt._start_error
        if rt._closed:
            raise RuntimeError("the runtime is closed")
        if rt._started:
            return
        rt._started = True
    deadline = earliest(time.monotonic() + sync_timeout,
                        getattr(rt.transport, "deadline", None), current_deadline())
    try:
        rt._job_watch.start()
        rt._pod_watch.start()
        rt._worker.start()
        for what, w in (("Jobs", rt._job_watch), ("Pods", rt._pod_watch)):
            while not w.synced.wait(0.02):
                if w.fatal_error is not None:
                    raise w.fatal_error  # e.g. 403: the API's message, at once
                if rt._closed:
                    raise RuntimeError("the runtime was closed while starting")
                if deadline is not None and time.monotonic() >= deadline:
                    why = f": {w.last_error}" if w.last_error else ""
                    raise TimeoutError(f"could not list the run's {what} in namespace "
                                       f"{rt.namespace} in time{why}")
    except BaseException as exc:
        rt._start_error = exc if isinstance(exc, Exception) else \
            RuntimeError("the runtime's start was interrupted")
        rt.close()
        raise


def close(rt: Any, timeout: float) -> bool:
    """``Runtime.close``: stop the watches (closing their streams and interrupting their
    requests), the worker and open log streams; join all three threads within ``timeout``."""
    rt._closed = True
    rt._job_watch.stop()
    rt._pod_watch.stop()
    rt._followups.put(FollowUp("stop", ""))
    interrupt = getattr(rt.transport, "interrupt", None)
    if interrupt is not None and rt._worker.is_alive():
        interrupt(rt._worker)
    with rt._changed:
        streams = list(rt._streams)
        rt._changed.notify_all()
    for stream in streams:
        stream.close()
    end = time.monotonic() + timeout
    for thread in (rt._job_watch, rt._pod_watch, rt._worker):
        if thread.is_alive() and thread is not threading.current_thread():
            thread.join(max(0.0, end - time.monotonic()))
    watchdog.stop_if_idle(max(0.0, min(1.0, end - time.monotonic())))
    return not any(t.is_alive() for t in (rt._job_watch, rt._pod_watch, rt._worker))
