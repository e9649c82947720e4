"""Per-Job bookkeeping: the last seen Job and Pods, grace clocks, and the reported state.

A :class:`JobRecord` is mutable and owned by the runtime (guarded by its lock). :func:`evaluate`
turns a record into a state transition plus an optional follow-up (fetch Events, fetch a log
tail, delete a Job the runtime declared failed). Follow-ups need I/O, so the runtime runs them
outside the lock. States only move forward: once succeeded or failed, a record never changes,
so a Job removed by its TTL after success stays succeeded.
"""

from __future__ import annotations

import time
from typing import Any

from podc._record import field, record, replace
from podc.runtime.diagnose import JobPhase, Observation, Reason, Timeouts, diagnose, pod_failure

__all__ = ["JobState", "JobRecord", "FollowUp", "evaluate", "finalize", "pod_deleted",
           "job_deleted"]

EVENTS_TTL = 10.0  # Events older than this are fetched again before they decide anything
# Jobs and Pods arrive on two watches: a Job may say Failed before its Pod's failure arrives.
# A failure no Pod explains yet waits this long for the Pod watch to catch up.
SETTLE_SECONDS = 1.0


@record(frozen=True)
class JobState:
    """What the runtime reports about one Job."""

    name: str
    step_key: str
    attempt: int
    phase: JobPhase
    reason: Reason | None = None
    observed_at: float = 0.0  # time.time() when this phase was first observed
    adopted: bool = False  # submit() found the Job already there (re-attach), did not create it

    @property
    def terminal(self) -> bool:
        return self.phase.terminal

    @property
    def succeeded(self) -> bool:
        return self.phase is JobPhase.SUCCEEDED

    def describe(self) -> str:
        head = f"{self.step_key} (job/{self.name}): {self.phase.value}"
        return f"{head}: {self.reason.describe()}" if self.reason else head


@record
class JobRecord:
    name: str
    step_key: str
    attempt: int
    job: dict[str, Any] | None = None
    pods: dict[str, dict[str, Any]] = field(default_factory=dict)
    phase: JobPhase = JobPhase.PENDING
    reason: Reason | None = None
    observed_at: float = field(default_factory=time.time)
    first_seen: dict[str, float] = field(default_factory=dict)
    next_deadline: float | None = None
    last_failure: Reason | None = None
    events: list[dict[str, Any]] | None = None
    events_at: float = 0.0
    log_tail: list[str] | None = None  # fetched once, for the Pod/container that explains it
    deleted: bool = False
    cancelled: bool = False
    followup_pending: bool = False
    created: bool = False  # this runtime's create made the Job
    adopted: bool = False
    events_fetches: int = 0  # explaining a stuck Job re-reads its Events less and less often

    def state(self) -> JobState:
        return JobState(self.name, self.step_key, self.attempt, self.phase, self.reason,
                        self.observed_at, self.adopted)

    def events_ttl(self) -> float:
        """How long fetched Events stay current: 10 s, then 20, 40, 60 s while a Job stays
        stuck, so a thousand pending Jobs do not read Events every few seconds."""
        return min(60.0, EVENTS_TTL * 2 ** max(0, self.events_fetches - 2))


@record(frozen=True)
class FollowUp:
    kind: str  # "events" | "logs" | "delete"
    name: str
    pod: str | None = None
    container: str | None = None
    reason: Reason | None = None


def finalize(rec: JobRecord, phase: JobPhase, reason: Reason | None) -> bool:
    """Move ``rec`` to a terminal phase. False if it already was terminal (no change)."""
    if rec.phase.terminal:
        return False
    rec.phase = phase
    rec.reason = reason
    rec.observed_at = time.time()
    rec.next_deadline = None
    rec.first_seen.clear()
    return True


def evaluate(rec: JobRecord, now: float, timeouts: Timeouts) -> tuple[bool, FollowUp | None]:
    """Re-diagnose ``rec``. Returns (state changed, follow-up to run outside the lock)."""
    if rec.phase.terminal or rec.job is None or rec.followup_pending:
        return False, None
    events = rec.events if rec.events is not None and now - rec.events_at < rec.events_ttl() else None
    obs: Observation = diagnose(rec.job, list(rec.pods.values()), events=events,
                                timeouts=timeouts, last_failure=rec.last_failure)
    if obs.phase.terminal:
        if _pod_news_pending(rec, obs, now):
            return False, None
        if obs.wants_logs and rec.log_tail is None:
            rec.followup_pending = True
            return False, FollowUp("logs", rec.name, obs.wants_logs[0], obs.wants_logs[1],
                                   obs.reason)
        # Re-diagnosed after the log fetch, so a Pod update that landed meanwhile (the kubelet
        # may write a Pod's reason after its container states) still shapes the final reason.
        reason = obs.reason
        if obs.wants_logs and rec.log_tail and reason is not None:
            reason = replace(reason, log_tail=tuple(rec.log_tail))
        return finalize(rec, obs.phase, reason), None
    keys = {g.key for g in obs.graces}
    for stale in [k for k in rec.first_seen if k not in keys]:
        # "no-pods" comes and goes as Events are read (present only when they explain it);
        # its clock keeps running while the Job still has no Pod.
        if not (stale == "no-pods" and "start:-" in keys):
            del rec.first_seen[stale]
    deadline: float | None = None
    for grace in obs.graces:
        since = rec.first_seen.setdefault(grace.key, now)
        due = since + grace.seconds
        if now >= due:
            if grace.wants_events:
                rec.followup_pending = True
                return False, FollowUp("events", rec.name)
            finalize(rec, JobPhase.FAILED, grace.reason)
            return True, FollowUp("delete", rec.name, reason=grace.reason)
        deadline = due if deadline is None else min(deadline, due)
    explain = _explain_due(rec, obs, timeouts)
    if explain is not None and now >= explain:
        # Not failing yet, but stuck for a while: read the Events that say why (FailedMount,
        # FailedScheduling, FailedCreate: quota), so the pending state explains itself.
        rec.followup_pending = True
        _set(rec, obs)
        return False, FollowUp("events", rec.name)
    if explain is not None:
        deadline = explain if deadline is None else min(deadline, explain)
    rec.next_deadline = deadline
    return _set(rec, obs), None


def _set(rec: JobRecord, obs: Observation) -> bool:
    changed = obs.phase is not rec.phase or obs.reason != rec.reason
    if obs.phase is not rec.phase:
        rec.observed_at = time.time()
    rec.phase, rec.reason = obs.phase, obs.reason
    return changed


def _explain_due(rec: JobRecord, obs: Observation, timeouts: Timeouts) -> float | None:
    """When to read Events for a Job that is stuck unexplained (None: nothing to explain)."""
    waiting = [g for g in obs.graces if g.explainable]
    if obs.phase is not JobPhase.PENDING or not waiting:
        return None
    since = min(rec.first_seen.get(g.key, float("inf")) for g in waiting)
    due = since + timeouts.explain
    if rec.events is not None:
        due = max(due, rec.events_at + rec.events_ttl())
    return due


def _pod_news_pending(rec: JobRecord, obs: Observation, now: float) -> bool:
    reason = obs.reason
    if obs.phase is not JobPhase.FAILED or reason is None or reason.code != reason.job_condition \
            or reason.code == "DeadlineExceeded":
        return False
    failed_count = int(((rec.job or {}).get("status") or {}).get("failed") or 0)
    # No Pod seen at all although the Job counts failed ones: the Pod watch lags the Job watch
    # (a fast failure, a loaded API server). Give it the same moment to catch up.
    unseen = not rec.pods and rec.last_failure is None and failed_count > 0
    if not unseen and not any((p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
                              for p in rec.pods.values()):
        return False
    since = rec.first_seen.setdefault("settle", now)
    if now - since >= SETTLE_SECONDS:
        return False
    rec.next_deadline = since + SETTLE_SECONDS
    return True


def pod_deleted(rec: JobRecord, pod: dict[str, Any]) -> None:
    """A Pod vanished. If it had not finished, remember why (it may explain a later failure)."""
    name = (pod.get("metadata") or {}).get("name", "?")
    rec.pods.pop(name, None)
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed") or rec.cancelled:
        if phase == "Failed":
            rec.last_failure = pod_failure(pod)[0] or rec.last_failure
        return
    reason, _ = pod_failure(pod)
    rec.last_failure = reason or Reason(
        "PodDeleted", f"pod `{name}` was deleted before it finished (node lost, preempted or "
                      "deleted by hand)", pod=name)


def job_deleted(rec: JobRecord, job: dict[str, Any], timeouts: Timeouts) -> bool:
    """The Job is gone (TTL, cancellation, someone else). Returns True if the state changed."""
    rec.deleted = True
    if rec.phase.terminal:
        return False  # e.g. TTL after success: stays succeeded
    obs = diagnose(job, list(rec.pods.values()), timeouts=timeouts, last_failure=rec.last_failure)
    if obs.phase.terminal:
        return finalize(rec, obs.phase, obs.reason)
    if rec.cancelled:
        return finalize(rec, JobPhase.FAILED, Reason("Cancelled", "cancelled: the Job was deleted"))
    done = [p for p in rec.pods.values() if (p.get("status") or {}).get("phase") == "Succeeded"]
    if done:  # its final status was missed (watch gap) but its Pod shows success (best effort)
        return finalize(rec, JobPhase.SUCCEEDED, Reason(
            "JobGone", f"the Job was removed; its pod `{done[-1]['metadata'].get('name')}` succeeded"))
    return finalize(rec, JobPhase.FAILED, Reason(
        "JobDeleted", "the Job was deleted before it finished (by someone else?)"))


def with_logs(reason: Reason | None, lines: list[str]) -> Reason | None:
    if reason is None or not lines:
        return reason
    return replace(reason, log_tail=tuple(lines))
