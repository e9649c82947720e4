"""The runtime façade: submit a run's Jobs, watch them, diagnose, cancel, re-attach.

One :class:`Runtime` serves one run (``run_id``) in one namespace. It keeps exactly two watches
open (Jobs and Pods, both selected by the run label) whatever the number of Jobs, so a Job costs
one API request (its create) plus a share of the run's watches; Events and logs are read only to
explain a failure. Every Job of the run found by the watch is tracked, so a new process that
creates a Runtime with the same run id re-attaches to existing Jobs without resubmitting.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any, Callable, Iterable, Iterator

import podc.runtime.api as api
import podc.runtime.cancel as _cancel
import podc.runtime.followups as _followups
import podc.runtime.lifecycle as _lifecycle
import podc.runtime.logs as _logs
from podc.runtime.deadline import deadline_scope
from podc.runtime.diagnose import JobPhase, Reason, Timeouts
from podc.runtime.naming import (ANNOTATION_STEP_KEY, LABEL_ATTEMPT, LABEL_STEP_KEY, job_name,
                                 label_value, ownership_mismatch, prepare_job, run_selector)
from podc.runtime.results import CancelResult, JobConflict, RunCancelled
from podc.runtime.retry import ApiError, ExponentialBackoff, RetryPolicy
from podc.runtime.tracker import (FollowUp, JobRecord, JobState, evaluate, finalize, job_deleted,
                                  pod_deleted)
from podc.runtime.transport import Transport
from podc.runtime.watch import ListWatch

__all__ = ["Runtime", "RunCancelled", "JobConflict", "CancelResult"]

log = logging.getLogger("podc.runtime")


class Runtime:
    """Submit and monitor the Jobs of one run.

    ``transport`` comes from :func:`podc.runtime.connect`. ``retry`` (default
    :class:`ExponentialBackoff`) is used for API calls and paces watch reconnects.
    ``max_in_flight`` caps unfinished Jobs: :meth:`submit` blocks while the cap is reached.
    ``delete_failed`` deletes (Background) a Job the runtime itself declared failed (e.g. an
    image that cannot be pulled), so its Pods stop retrying. ``on_change`` is called (on a
    runtime thread) with every new :class:`JobState`.

    The runtime's threads are named ``podc-…``; :meth:`close` ends and joins all of them.
    """

    def __init__(self, transport: Transport, *, run_id: str, namespace: str = "default",
                 retry: RetryPolicy | None = None, timeouts: Timeouts = Timeouts(),
                 max_in_flight: int | None = None, propagation: str = "Background",
                 delete_failed: bool = True, tick: float = 0.1, log_tail_lines: int = 20,
                 on_change: Callable[[JobState], None] | None = None) -> None:
        if propagation not in ("Background", "Foreground"):
            raise ValueError("propagation must be 'Background' or 'Foreground'")
        self.transport = transport
        self.run_id = run_id
        self.namespace = namespace
        self.timeouts = timeouts
        self.max_in_flight = max_in_flight
        self.propagation = propagation
        self.delete_failed = delete_failed
        self.log_tail_lines = log_tail_lines
        self._retry = retry or getattr(transport, "retry", None) or ExponentialBackoff()
        if retry is not None and hasattr(transport, "retry"):
            transport.retry = retry  # type: ignore[attr-defined]
        self._backoff = getattr(self._retry, "backoff", ExponentialBackoff().backoff)
        self._tick = tick
        self._on_change = on_change
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._records: dict[str, JobRecord] = {}
        self._pending_pods: dict[str, dict[str, dict[str, Any]]] = {}
        self._by_step: dict[tuple[str, str], str] = {}  # (step label, attempt) -> job name
        self._pods_by_name: dict[str, str] = {}  # pod name -> job name
        self._followups: "queue.Queue[FollowUp]" = queue.Queue()
        self._cancelled = False
        self._creating = 0
        self._started = False
        self._closed = False
        selector = run_selector(run_id)
        self._start_error: BaseException | None = None
        self._streams: set[Any] = set()  # open log streams, closed by close()
        self._job_watch = ListWatch(transport, api.jobs_path(namespace), selector,
                                    self._on_job_event, backoff=self._backoff, retry=self._retry,
                                    name=f"podc-watch-jobs-{run_id[:16]}")
        self._pod_watch = ListWatch(transport, api.pods_path(namespace), selector,
                                    self._on_pod_event, backoff=self._backoff, retry=self._retry,
                                    name=f"podc-watch-pods-{run_id[:16]}")
        self._worker = threading.Thread(target=self._work, daemon=True,
                                        name=f"podc-runtime-{run_id[:16]}")

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self, sync_timeout: float = 30.0) -> None:
        """Open the run's watches and wait for their first list (idempotent).

        Bounded by ``sync_timeout`` and any deadline in force (the transport's, or the calling
        thread's :func:`~podc.runtime.deadline.deadline_scope`). An error that cannot heal (403,
        TLS, no credentials, retries exhausted) is raised at once. A failed start closes the
        runtime (its threads are gone) and every later call raises the same error.
        """
        _lifecycle.start(self, sync_timeout)

    def close(self, timeout: float = 5.0) -> bool:
        """Stop watching (Jobs keep running) and end the runtime's threads, waiting at most
        ``timeout`` seconds for them. True when every thread is gone. Safe to call twice."""
        return _lifecycle.close(self, timeout)

    def __enter__(self) -> "Runtime":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- submit / attach ----------------------------------------------------------------------
    def submit(self, manifest: dict[str, Any], *, step_key: str | None = None, attempt: int = 0,
               timeout: float | None = None) -> JobState:
        """Create the Job for ``step_key`` (default: the manifest's name), or adopt it.

        Idempotent: the Job name is derived from (run id, step key, attempt); if that Job is
        already tracked or the create answers 409 and the existing Job carries our labels, it is
        adopted (the returned state says ``adopted=True``). A 409 for a Job of another run/step
        raises :class:`JobConflict`. Blocks while ``max_in_flight`` unfinished Jobs exist; the
        whole call (slot, create, retries) ends within ``timeout`` seconds when given.
        """
        with deadline_scope(timeout):
            return self._submit(manifest, step_key, attempt, timeout)

    def _submit(self, manifest: dict[str, Any], step_key: str | None, attempt: int,
                timeout: float | None) -> JobState:
        self.start()
        step_key = step_key or ((manifest.get("metadata") or {}).get("name")) or "step"
        job = prepare_job(manifest, run_id=self.run_id, step_key=step_key, attempt=attempt,
                          namespace=self.namespace)
        name = job["metadata"]["name"]
        with self._changed:
            if name in self._records:
                rec = self._records[name]
                rec.adopted = rec.adopted or not rec.created
                return rec.state()
            self._wait_for_slot(timeout)
            if self._cancelled:
                raise RunCancelled(f"run {self.run_id} was cancelled")
            self._register(name, step_key, attempt)
            self._creating += 1
        adopted = False
        try:
            try:
                api.create_job(self.transport, self.namespace, job)
            except ApiError as err:
                if not err.conflict:
                    with self._changed:
                        rec = self._records.pop(name, None)
                        if rec:
                            self._by_step.pop((job["metadata"]["labels"][LABEL_STEP_KEY],
                                               str(attempt)), None)
                        self._changed.notify_all()
                    raise
                existing = api.get_job(self.transport, self.namespace, name)
                problem = ownership_mismatch(existing, job)
                if problem:
                    with self._changed:
                        self._records.pop(name, None)
                        self._changed.notify_all()
                    raise JobConflict(f"job/{name} already exists in namespace "
                                      f"{self.namespace} but is not this step's: {problem}") from err
                adopted = True
                self._on_job_event("MODIFIED", existing)
        finally:
            with self._changed:
                self._creating -= 1
                self._changed.notify_all()
        with self._lock:
            rec = self._records[name]
            rec.adopted, rec.created = rec.adopted or adopted, rec.created or not adopted
            return rec.state()

    def _wait_for_slot(self, timeout: float | None) -> None:
        if not self.max_in_flight:
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        while sum(1 for r in self._records.values() if not r.phase.terminal) >= self.max_in_flight:
            if self._cancelled:
                raise RunCancelled(f"run {self.run_id} was cancelled")
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError(f"{self.max_in_flight} Jobs still in flight")
            self._changed.wait(left if left is not None else 1.0)

    def attach(self) -> dict[str, JobState]:
        """Track the run's existing Jobs (found by label) without resubmitting anything.

        Best effort for Jobs already removed (TTL) before this process attached: if a Pod of
        such a Job is still there and succeeded, the step is reported succeeded (reason
        ``JobGone``). Usually the Pods are garbage-collected with the Job and the step is unknown.
        """
        self.start()
        with self._changed:
            for owner, pods in list(self._pending_pods.items()):
                done = [p for p in pods.values() if (p.get("status") or {}).get("phase") == "Succeeded"]
                if owner in self._records or not done:
                    continue
                meta = done[0].get("metadata") or {}
                labels = meta.get("labels") or {}
                step = (meta.get("annotations") or {}).get(ANNOTATION_STEP_KEY) \
                    or labels.get(LABEL_STEP_KEY) or owner
                rec = self._register(owner, step, int(labels.get(LABEL_ATTEMPT) or 0))
                rec.deleted = True
                finalize(rec, JobPhase.SUCCEEDED, Reason(
                    "JobGone", "the Job was removed (TTL?) before this process attached; "
                               f"its pod `{meta.get('name')}` succeeded"))
        return self.states()

    def _register(self, name: str, step_key: str, attempt: int) -> JobRecord:
        rec = self._records.get(name)
        if rec is None:
            rec = JobRecord(name, step_key, attempt)
            self._records[name] = rec
            self._by_step[(label_value(step_key), str(attempt))] = name
            for pod_name, pod in self._pending_pods.pop(name, {}).items():
                rec.pods[pod_name] = pod
                self._pods_by_name[pod_name] = name
        return rec

    # -- queries ------------------------------------------------------------------------------
    def states(self) -> dict[str, JobState]:
        with self._lock:
            return {name: rec.state() for name, rec in self._records.items()}

    def state(self, name: str) -> JobState:
        with self._lock:
            return self._records[name].state()

    def name_for(self, step_key: str, attempt: int = 0) -> str:
        return job_name(self.run_id, step_key, attempt)

    def wait(self, names: Iterable[str] | None = None,
             timeout: float | None = None) -> dict[str, JobState]:
        """Block until the named Jobs (default: all tracked) are terminal or ``timeout`` passes.

        Returns the states at that moment; check ``.terminal`` for a timeout.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while True:
                wanted = list(names) if names is not None else list(self._records)
                names = wanted
                recs = [self._records[n] for n in wanted if n in self._records]
                if all(r.phase.terminal for r in recs) or self._closed:
                    return {r.name: r.state() for r in recs}
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return {r.name: r.state() for r in recs}
                self._changed.wait(min(left, 1.0) if left is not None else 1.0)

    # -- watch handlers (watch threads) -------------------------------------------------------
    def _record_for_job(self, job: dict[str, Any]) -> JobRecord:
        meta = job.get("metadata") or {}
        name = meta["name"]
        if name not in self._records:
            labels = meta.get("labels") or {}
            step = (meta.get("annotations") or {}).get(ANNOTATION_STEP_KEY) \
                or labels.get(LABEL_STEP_KEY) or name
            attempt = int(labels.get(LABEL_ATTEMPT) or 0)
            self._register(name, step, attempt)
        return self._records[name]

    def _on_job_event(self, kind: str, job: dict[str, Any]) -> None:
        followup = None
        with self._changed:
            rec = self._record_for_job(job)
            if kind == "DELETED":
                changed = job_deleted(rec, job, self.timeouts)
            else:
                rec.job = job
                changed, followup = evaluate(rec, time.monotonic(), self.timeouts)
            self._after_change(rec, changed)
        if followup:
            self._followups.put(followup)

    def _job_of_pod(self, pod: dict[str, Any]) -> str | None:
        meta = pod.get("metadata") or {}
        for ref in meta.get("ownerReferences") or []:
            if ref.get("kind") == "Job":
                return ref.get("name")
        labels = meta.get("labels") or {}
        owner = labels.get("batch.kubernetes.io/job-name") or labels.get("job-name")
        if owner:
            return owner
        return self._by_step.get((labels.get(LABEL_STEP_KEY, ""), labels.get(LABEL_ATTEMPT, "0")))

    def _on_pod_event(self, kind: str, pod: dict[str, Any]) -> None:
        followup = None
        pod_name = (pod.get("metadata") or {}).get("name", "")
        with self._changed:
            owner = self._pods_by_name.get(pod_name) or self._job_of_pod(pod)
            if owner is None:
                return
            rec = self._records.get(owner)
            if rec is None:  # Pod seen before its Job: keep it until the Job shows up
                bucket = self._pending_pods.setdefault(owner, {})
                if kind == "DELETED":
                    bucket.pop(pod_name, None)
                else:
                    bucket[pod_name] = pod
                return
            if kind == "DELETED":
                self._pods_by_name.pop(pod_name, None)
                pod_deleted(rec, pod)
            else:
                self._pods_by_name[pod_name] = owner
                rec.pods[pod_name] = pod
            changed, followup = evaluate(rec, time.monotonic(), self.timeouts)
            self._after_change(rec, changed)
        if followup:
            self._followups.put(followup)

    def _after_change(self, rec: JobRecord, changed: bool) -> None:
        if not changed:
            return
        self._changed.notify_all()
        if self._on_change is not None:
            try:
                self._on_change(rec.state())
            except Exception:  # noqa: BLE001 - a callback bug must not break monitoring
                log.exception("on_change callback failed")

    # -- worker: timers and follow-ups (see podc.runtime.followups) -----------------------------
    def _work(self) -> None:
        _followups.work_loop(self)

    def _safe_tail(self, pod: str, container: str | None) -> list[str]:
        try:
            return api.pod_log_tail(self.transport, self.namespace, pod, container,
                                    self.log_tail_lines)
        except ApiError:
            return []

    # -- logs ---------------------------------------------------------------------------------
    def tail(self, name: str, lines: int = 20) -> list[str]:
        """The last ``lines`` log lines of the Job's newest Pod (main container)."""
        pod = self._newest_pod(name)
        return self._safe_tail(pod["metadata"]["name"], _logs.default_container(pod)) if pod else []

    def _newest_pod(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            rec = self._records.get(name)
            if rec is None or not rec.pods:
                return None
            return max(rec.pods.values(), key=lambda p: (p.get("metadata") or {}).get(
                "creationTimestamp") or "")

    def stream_logs(self, name: str, *, container: str | None = None,
                    timeout: float | None = None) -> Iterator[str]:
        """Follow the logs of the Job's Pod as it runs (waits for a started container). Ends
        when the container exits, after ``timeout`` seconds, or when the runtime is closed."""
        return _logs.follow_job_logs(self, name, container=container, timeout=timeout)

    # -- cancel -------------------------------------------------------------------------------
    def cancel(self, name: str, *, propagation: str | None = None,
               confirm_timeout: float = 30.0) -> CancelResult:
        """Delete one Job (and its Pods) and wait until the watches confirm both are gone."""
        with deadline_scope(confirm_timeout + 5.0):
            return _cancel.cancel_job(self, name, propagation or self.propagation, confirm_timeout)

    def cancel_run(self, *, propagation: str | None = None,
                   confirm_timeout: float = 30.0) -> CancelResult:
        """Stop submitting, delete every Job of the run by label, confirm no Job or Pod is left."""
        with deadline_scope(confirm_timeout + 5.0):
            return _cancel.cancel_run(self, propagation or self.propagation, confirm_timeout)
