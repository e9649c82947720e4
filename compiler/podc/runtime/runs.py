"""The podc runs present in a cluster, found by label: what ``podc runs`` lists.

A run is every Job carrying ``podc.dev/run-id`` (its full value is in the annotation of the same
name; the label holds a sanitised copy). A Job's state here comes from its own status only (no
Pods, no Events): succeeded / failed from its conditions, running while it has active Pods,
pending otherwise. ``podc submit --wait`` and :class:`~podc.runtime.Runtime` give the precise
reasons.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from podc._record import record
from podc.runtime.api import jobs_path
from podc.runtime.diagnose import JobPhase
from podc.runtime.naming import (ANNOTATION_RUN_ID, ANNOTATION_STEP_KEY, LABEL_ATTEMPT,
                                 LABEL_MANAGED_BY, LABEL_RUN_ID, LABEL_STEP_KEY, run_selector)
from podc.runtime.transport import Transport, encode_path
from podc.runtime.watch import list_all

__all__ = ["RunJob", "RunSummary", "list_runs", "run_jobs", "job_phase"]

_PODC_JOBS = f"{LABEL_MANAGED_BY}=podc,{LABEL_RUN_ID}"


@record(frozen=True)
class RunJob:
    name: str
    namespace: str
    step_key: str
    attempt: int
    phase: JobPhase
    created: str  # RFC 3339, as the API server wrote it ("" if unknown)


@record(frozen=True)
class RunSummary:
    run_id: str
    namespace: str
    jobs: tuple[RunJob, ...]

    @property
    def created(self) -> str:
        """When the run's first Job was created (RFC 3339)."""
        return min((j.created for j in self.jobs if j.created), default="")

    def count(self, phase: JobPhase) -> int:
        return sum(1 for j in self.jobs if j.phase is phase)

    def age_seconds(self, now: datetime | None = None) -> float | None:
        return _age(self.created, now)


def job_phase(job: dict[str, Any]) -> JobPhase:
    """A Job's phase from its status alone."""
    status = job.get("status") or {}
    true = {c.get("type") for c in status.get("conditions") or [] if str(c.get("status")) == "True"}
    if true & {"Complete", "SuccessCriteriaMet"}:
        return JobPhase.SUCCEEDED
    if true & {"Failed", "FailureTarget"}:
        return JobPhase.FAILED
    return JobPhase.RUNNING if int(status.get("active") or 0) > 0 else JobPhase.PENDING


def _run_job(job: dict[str, Any]) -> tuple[str, RunJob]:
    meta = job.get("metadata") or {}
    labels, notes = meta.get("labels") or {}, meta.get("annotations") or {}
    run_id = str(notes.get(ANNOTATION_RUN_ID) or labels.get(LABEL_RUN_ID) or "?")
    try:
        attempt = int(labels.get(LABEL_ATTEMPT) or 0)
    except ValueError:
        attempt = 0
    return run_id, RunJob(str(meta.get("name") or "?"), str(meta.get("namespace") or ""),
                          str(notes.get(ANNOTATION_STEP_KEY) or labels.get(LABEL_STEP_KEY) or "?"),
                          attempt, job_phase(job), str(meta.get("creationTimestamp") or ""))


def list_runs(transport: Transport, namespace: str | None) -> list[RunSummary]:
    """Every podc run with Jobs in ``namespace`` (None: all namespaces), newest first."""
    path = jobs_path(namespace) if namespace else encode_path("apis", "batch", "v1", "jobs")
    items = list_all(transport, path, {"labelSelector": _PODC_JOBS}).get("items") or []
    runs: dict[tuple[str, str], list[RunJob]] = {}
    for job in items:
        run_id, one = _run_job(job)
        runs.setdefault((one.namespace, run_id), []).append(one)
    out = [RunSummary(run_id, ns, tuple(sorted(jobs, key=lambda j: (j.step_key, j.attempt, j.name))))
           for (ns, run_id), jobs in runs.items()]
    return sorted(out, key=lambda r: (r.created, r.namespace, r.run_id), reverse=True)


def run_jobs(transport: Transport, namespace: str, run_id: str) -> list[dict[str, Any]]:
    """The Job objects of one run (the full run id must match where the annotation is set)."""
    items = list_all(transport, jobs_path(namespace), {"labelSelector": run_selector(run_id)}).get("items") or []
    return [j for j in items
            if ((j.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION_RUN_ID, run_id) == run_id]


def _age(stamp: str, now: datetime | None) -> float | None:
    if not stamp:
        return None
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, ((now or datetime.now(timezone.utc)) - when).total_seconds())


def format_age(seconds: float | None) -> str:
    """kubectl's short ages: 45s, 12m, 3h, 5d."""
    if seconds is None:
        return "?"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * (2 if unit != "m" else 1):
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"
