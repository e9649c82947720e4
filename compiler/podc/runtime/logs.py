"""Following a step Pod's container logs as they are written."""

from __future__ import annotations

import time
from typing import Any, Iterator

import podc.runtime.api as api
from podc.runtime.deadline import watchdog
from podc.runtime.retry import ApiError


def _started(pod: dict, container: str | None) -> bool:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    for cs in statuses:
        if container and cs.get("name") != container:
            continue
        state = cs.get("state") or {}
        if state.get("running") or state.get("terminated"):
            return True
    return (pod.get("status") or {}).get("phase") in ("Running", "Succeeded", "Failed")


def default_container(pod: dict) -> str | None:
    """The container whose log ``kubectl logs`` shows: the one named by the
    ``kubectl.kubernetes.io/default-container`` annotation, else the first. The API server
    itself refuses a log request without ``container`` when the Pod has several containers
    (a sidecar as a regular container, a service mesh proxy), so the runtime always names one."""
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    names = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or [] if c.get("name")]
    wanted = annotations.get("kubectl.kubernetes.io/default-container")
    if wanted in names:
        return wanted
    return names[0] if names else None


def follow_job_logs(rt: Any, name: str, *, container: str | None = None,
                    timeout: float | None = None) -> Iterator[str]:
    """Yield log lines of the Job's newest Pod, following until the container exits.

    ``rt`` is the :class:`~podc.runtime.runtime.Runtime` (typed loosely: it imports this module).
    Waits (on the watch, no polling requests) for a Pod whose container has started; stops early
    when the Job reaches a terminal state without ever starting one (nothing to show). The whole
    iteration ends by ``timeout`` and when the runtime is closed: the stream is closed under it.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    pod_name = None
    with rt._changed:
        while not rt._closed:
            rec = rt._records.get(name)
            if rec is not None:
                pods = sorted(rec.pods.values(),
                              key=lambda p: (p.get("metadata") or {}).get("creationTimestamp") or "")
                ready = [p for p in pods if _started(p, container or default_container(p))]
                if ready:
                    pod_name = ready[-1]["metadata"]["name"]
                    container = container or default_container(ready[-1])
                    break
                if rec.phase.terminal:
                    return
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return
            rt._changed.wait(0.5 if left is None else min(left, 0.5))
    if pod_name is None:
        return
    try:
        stream = rt.transport.stream(api.pod_log_path(rt.namespace, pod_name),
                                     query={"follow": True, "container": container})
    except ApiError:
        return
    ticket = watchdog.schedule(deadline, stream.close) if deadline is not None else None
    with rt._changed:
        closed = rt._closed
        rt._streams.add(stream)
    try:
        if closed:
            return
        for line in stream:
            yield line.decode("utf-8", errors="replace").rstrip("\r")
    except ApiError:
        return
    finally:
        if ticket is not None:
            ticket.cancel()
        with rt._changed:
            rt._streams.discard(stream)
        stream.close()
