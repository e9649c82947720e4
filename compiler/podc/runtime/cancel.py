"""Cancellation: delete with a propagation policy, then confirm nothing is left.

The watches usually confirm deletion within milliseconds; the final word is one authoritative
list (Jobs and Pods by label), and Pods that outlive their Job (no garbage collector, a race
with a Pod being created) are deleted by label too, so no orphan is left behind.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import podc.runtime.api as api
from podc.runtime.diagnose import JobPhase, Reason
from podc.runtime.naming import LABEL_ATTEMPT, LABEL_STEP_KEY, label_value, run_selector
from podc.runtime.results import CancelResult
from podc.runtime.retry import ApiError
from podc.runtime.tracker import finalize
from podc.runtime.watch import list_all

# ``rt`` is always the podc.runtime.runtime.Runtime being cancelled (typed loosely: that module
# imports this one).
Runtime = Any

_CANCELLED = Reason("Cancelled", "cancelled: the Job was deleted on request")


def _wait(rt: "Runtime", done: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    with rt._changed:
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            rt._changed.wait(min(left, 0.5))
    return True


def _count(rt: "Runtime", selector: str) -> tuple[int, int]:
    jobs = list_all(rt.transport, api.jobs_path(rt.namespace),
                    {"labelSelector": selector}).get("items") or []
    pods = list_all(rt.transport, api.pods_path(rt.namespace),
                    {"labelSelector": selector}).get("items") or []
    # A Job being deleted in the foreground still exists until its Pods are gone.
    return len(jobs), len(pods)


def _cached_pods(rt: "Runtime", names: Callable[[], list[str]] | None) -> list[dict]:
    if names is None:
        pods = [p for r in rt._records.values() for p in r.pods.values()]
        pods += [p for bucket in rt._pending_pods.values() for p in bucket.values()]
        return pods
    return [p for n in names() if n in rt._records for p in rt._records[n].pods.values()]


def _confirm(rt: "Runtime", selector: str, jobs_gone: Callable[[], bool],
             names: Callable[[], list[str]] | None, timeout: float) -> tuple[int, int]:
    """Wait (on the watches, no polling) until the Jobs and their Pods are gone.

    Pods nobody is deleting once their Job is gone (no garbage collector, an orphaning delete,
    a Pod created during the delete) are deleted by label. One authoritative list decides.
    """
    deadline = time.monotonic() + timeout
    gone_since: float | None = None
    swept = False

    def done() -> bool:
        return jobs_gone() and not _cached_pods(rt, names)

    while time.monotonic() < deadline:
        if _wait(rt, done, min(0.25, max(0.0, deadline - time.monotonic()))):
            break
        with rt._lock:
            idle = jobs_gone() and all(not (p.get("metadata") or {}).get("deletionTimestamp")
                                       for p in _cached_pods(rt, names))
        if not idle:
            gone_since = None
            continue
        gone_since = gone_since or time.monotonic()
        if not swept and time.monotonic() - gone_since >= 0.5:
            api.delete_pods(rt.transport, rt.namespace, selector)  # orphans: delete by label
            swept = True
    jobs, pods = _count(rt, selector)
    if pods and not jobs and not swept:
        api.delete_pods(rt.transport, rt.namespace, selector)
        _wait(rt, done, max(0.0, deadline - time.monotonic()))
        jobs, pods = _count(rt, selector)
    return jobs, pods


def _cached_names(rt: "Runtime", names: list[str] | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(Jobs, Pods) the watches know of, before a delete: what the delete removes."""
    with rt._lock:
        recs = [r for n, r in rt._records.items() if names is None or n in names]
        jobs = tuple(sorted(r.name for r in recs if r.job is not None and not r.deleted))
        pods = {p for r in recs for p in r.pods}
        if names is None:
            pods |= {p for bucket in rt._pending_pods.values() for p in bucket}
    return jobs, tuple(sorted(pods))


def cancel_job(rt: "Runtime", name: str, propagation: str, timeout: float) -> CancelResult:
    with rt._changed:
        rec = rt._records.get(name)
        if rec is not None:
            rec.cancelled = True
        step_key, attempt = (rec.step_key, rec.attempt) if rec else (None, 0)
    seen = _cached_names(rt, [name])
    existed = api.delete_job(rt.transport, rt.namespace, name, propagation)
    if step_key is None:
        # Not a Job of this run (the run's watch tracks every one): nothing of the run to
        # confirm, and a sweep by the run's labels would delete the Pods of its other steps.
        return CancelResult(0, 0) if not existed else CancelResult(*_gone_by_name(rt, name))
    selector = run_selector(rt.run_id)
    selector += f",{LABEL_STEP_KEY}={label_value(step_key)},{LABEL_ATTEMPT}={attempt}"

    def job_gone() -> bool:
        r = rt._records.get(name)
        return r is None or r.deleted or r.job is None

    jobs, pods = _confirm(rt, selector, job_gone, lambda: [name], timeout)
    with rt._changed:
        r = rt._records.get(name)
        if r is not None and finalize(r, JobPhase.FAILED, _CANCELLED):
            rt._after_change(r, True)
    return CancelResult(jobs, pods, seen[0] if not jobs else (), seen[1] if not pods else ())


def _gone_by_name(rt: "Runtime", name: str, timeout: float = 5.0) -> tuple[int, int]:
    """(1, 0) while a deleted foreign Job is still there after ``timeout``, else (0, 0)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            api.get_job(rt.transport, rt.namespace, name)
        except ApiError as err:
            if err.not_found:
                return 0, 0
            raise
        if time.monotonic() >= deadline:
            return 1, 0
        time.sleep(0.1)


def cancel_run(rt: "Runtime", propagation: str, timeout: float) -> CancelResult:
    """No new submissions; wait for creates in flight; delete all the run's Jobs by label."""
    rt.start()
    with rt._changed:
        rt._cancelled = True
        rt._changed.notify_all()
        # A create in flight would otherwise land after the delete and leave an orphan.
        deadline = time.monotonic() + timeout
        while rt._creating and time.monotonic() < deadline:
            rt._changed.wait(0.1)
        for rec in rt._records.values():
            rec.cancelled = True
    selector = run_selector(rt.run_id)
    seen = _cached_names(rt, None)
    api.delete_jobs(rt.transport, rt.namespace, selector, propagation)

    def jobs_gone() -> bool:
        return all(r.deleted or r.job is None for r in rt._records.values())

    jobs, pods = _confirm(rt, selector, jobs_gone, None, timeout)
    with rt._changed:
        for r in rt._records.values():
            if finalize(r, JobPhase.FAILED, _CANCELLED):
                rt._after_change(r, True)
    return CancelResult(jobs, pods, seen[0] if not jobs else (), seen[1] if not pods else ())
