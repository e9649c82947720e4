"""One shared watch over every run worker Job, per namespace.

``PodcRunLauncher`` keeps a single :class:`podc.runtime.Runtime` per namespace whose "run" is
all of the launcher's run workers (label ``podc.dev/run-id=dagster-run-workers``); each Dagster
run is a "step" of it (``podc.dev/step-key=<run id>``, ``podc.dev/attempt=<resume attempt>``).
So a process that launches or monitors a thousand runs keeps two watches per namespace, a
health check is a dictionary lookup, and a new process (the monitoring daemon) finds every
existing worker with one list. Run worker Jobs also carry ``dagster/run-id`` like step and
Pipes Jobs, which is what :func:`sweep_run` deletes by.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from podc.dagster.launcher_config import LauncherSettings
from podc.runtime.naming import job_name, label_value

__all__ = ["RunWorkers", "WORKERS_RUN_ID", "worker_job_name", "sweep_run", "timeouts_for"]

WORKERS_RUN_ID = "dagster-run-workers"
FORGET_EVERY = 600.0  # seconds

RuntimeFactory = Callable[[str, Callable[[Any], None]], Any]  # (namespace, on_change) -> Runtime


def worker_job_name(run_id: str, attempt: int = 0) -> str:
    """``podc-<run id>-<hash>``: deterministic per (run, resume attempt)."""
    return job_name(WORKERS_RUN_ID, run_id, attempt)


def timeouts_for(pending_timeout: float | None) -> Any:
    """The runtime's graces, all bounded by ``pending_timeout`` when it is set."""
    from podc.runtime.diagnose import Timeouts

    base = Timeouts()
    if not pending_timeout:
        return base
    p = float(pending_timeout)
    return Timeouts(start=max(p, 1.0), pending=p, image_pull=p,
                    config_error=min(p, base.config_error), failed_create=min(p, base.failed_create))


def _default_factory(settings: LauncherSettings) -> RuntimeFactory:
    def factory(namespace: str, on_change: Callable[[Any], None]) -> Any:
        from podc.runtime.cluster import connect
        from podc.runtime.runtime import Runtime

        cfg = settings.compile
        transport = connect(kubeconfig=cfg.kubeconfig_file, context=cfg.context,
                            in_cluster=True if cfg.load_incluster_config else None)
        runtime = Runtime(transport, run_id=WORKERS_RUN_ID, namespace=namespace,
                          timeouts=timeouts_for(cfg.pending_timeout), on_change=on_change)
        runtime.start()
        return runtime

    return factory


class RunWorkers:
    """The run worker Jobs of one launcher: submit, look up, cancel. Thread-safe."""

    def __init__(self, settings: LauncherSettings, on_change: Callable[[Any], None],
                 factory: RuntimeFactory | None = None) -> None:
        self.settings = settings
        self._on_change = on_change
        self._factory = factory or _default_factory(settings)
        self._runtimes: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._default_ns: str | None = None
        self._forgotten_at = time.monotonic()

    def default_namespace(self) -> str:
        if self._default_ns is None:
            from podc.runtime.cluster import default_namespace

            cfg = self.settings.compile
            self._default_ns = default_namespace(cfg.kubeconfig_file, cfg.context)
        return self._default_ns

    def runtime(self, namespace: str) -> Any:
        with self._lock:
            rt = self._runtimes.get(namespace)
            if rt is None:
                rt = self._factory(namespace, self._on_change)
                self._runtimes[namespace] = rt
            return rt

    def submit(self, namespace: str, manifest: dict[str, Any], run_id: str, attempt: int) -> Any:
        rt = self.runtime(namespace)
        self._forget_gone(rt)
        return rt.submit(manifest, step_key=run_id, attempt=attempt)

    def _forget_gone(self, rt: Any) -> None:
        """Workers whose Job finished and is gone (TTL) are forgotten, at most every
        ``FORGET_EVERY`` seconds: a daemon launches runs for months."""
        from podc.runtime.retention import forget_gone

        now = time.monotonic()
        if now - self._forgotten_at >= FORGET_EVERY:
            self._forgotten_at = now
            forget_gone(rt, older_than=FORGET_EVERY)

    def state(self, namespace: str, run_id: str, attempt: int) -> Any:
        """The worker's state from the watch cache; None if no such Job exists. A Job missing
        from the cache is confirmed with one GET (the watch may lag a create by milliseconds)."""
        from podc.runtime import api
        from podc.runtime.retry import ApiError

        rt = self.runtime(namespace)
        self._forget_gone(rt)
        name = worker_job_name(run_id, attempt)
        try:
            return rt.state(name)
        except KeyError:
            pass
        try:
            api.get_job(rt.transport, namespace, name)
        except ApiError as err:
            if err.not_found:
                return None
            raise
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:  # it exists: the watch delivers it in a moment
            time.sleep(0.05)
            try:
                return rt.state(name)
            except KeyError:
                continue
        from podc.runtime.diagnose import JobPhase
        from podc.runtime.tracker import JobState

        return JobState(name, run_id, attempt, JobPhase.PENDING)

    def tail(self, namespace: str, run_id: str, attempt: int, lines: int = 20) -> list[str]:
        return self.runtime(namespace).tail(worker_job_name(run_id, attempt), lines)

    def cancel(self, namespace: str, run_id: str, attempt: int, timeout: float) -> Any:
        """Delete the worker Job (its Pod gets SIGTERM and its grace period) and confirm on the
        watch that the Job and its Pods are gone."""
        return self.runtime(namespace).cancel(worker_job_name(run_id, attempt),
                                              confirm_timeout=timeout)

    def close(self) -> None:
        with self._lock:
            runtimes, self._runtimes = list(self._runtimes.values()), {}
        for rt in runtimes:
            rt.close()


def sweep_run(transport: Any, namespace: str, run_id: str, timeout: float,
              poll: float = 0.2) -> tuple[int, int]:
    """Delete every Job and Pod labelled ``dagster/run-id=<run id>`` (step Jobs of
    ``podc_executor``, Pipes Jobs) and wait until a list shows none; returns what is left.
    Runs once per terminated run, so a short poll is cheaper than opening watches."""
    from podc.runtime import api
    from podc.runtime.watch import list_all

    selector = f"dagster/run-id={label_value(run_id)}"

    def left() -> tuple[int, int]:
        jobs = list_all(transport, api.jobs_path(namespace), {"labelSelector": selector})
        pods = list_all(transport, api.pods_path(namespace), {"labelSelector": selector})
        return len(jobs.get("items") or []), len(pods.get("items") or [])

    jobs, pods = left()
    if not jobs and not pods:
        return 0, 0
    api.delete_jobs(transport, namespace, selector, "Background")
    deadline = time.monotonic() + timeout
    swept_pods = False
    while True:
        time.sleep(poll)
        jobs, pods = left()
        if not jobs and not pods:
            return 0, 0
        if not jobs and not swept_pods:  # Pods whose Job is gone and nobody deletes (no GC)
            api.delete_pods(transport, namespace, selector)
            swept_pods = True
        if time.monotonic() >= deadline:
            return jobs, pods
