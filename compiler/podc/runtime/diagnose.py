"""Why a Job is where it is: a pure function from Job, Pod and Event dicts to a state and reason.

:func:`diagnose` never does I/O and never looks at a clock. Conditions that only become failures
when they last too long (an image that cannot be pulled, a Pod that cannot be scheduled, a Pod
that never starts) come back as :class:`Grace` entries: "fail with this reason if it still holds
after N seconds". The tracker measures how long each grace key has held and asks again with
Events when a grace wants them. Messages never include Secret or env values: only names, reasons
and the API's own messages (which name Secrets, never their data).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Any, Iterable, Sequence

__all__ = ["JobPhase", "Reason", "Grace", "Timeouts", "Observation", "diagnose", "pod_failure",
           "runtime_message"]


class JobPhase(str, enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in (JobPhase.SUCCEEDED, JobPhase.FAILED)


@dataclass(frozen=True)
class Reason:
    """A structured cause. ``code`` is the most specific cause (``OOMKilled``, ``ImagePullBackOff``,
    ``Unschedulable``, ``FailedCreate``, ``ExitCode``, ``StartError``, ``RunContainerError``,
    ``Evicted``, ``NodeLost``, ``DeadlineExceeded``, ``BackoffLimitExceeded``, ``NotStarted``,
    ``Cancelled``, ``JobDeleted``, …); ``job_condition`` is the Job's own failure reason when it
    has one."""

    code: str
    message: str
    pod: str | None = None
    container: str | None = None
    exit_code: int | None = None
    job_condition: str | None = None
    log_tail: tuple[str, ...] = ()

    def describe(self) -> str:
        text = self.message
        if self.job_condition and self.job_condition != self.code:
            text = f"{self.job_condition}: {text}"
        if self.log_tail:
            text += "\n  last log lines:\n" + "\n".join(f"    {line}" for line in self.log_tail)
        return text


@dataclass(frozen=True)
class Grace:
    """Fail with ``reason`` once the condition named ``key`` has held for ``seconds``."""

    key: str
    seconds: float
    reason: Reason
    wants_events: bool = False


@dataclass(frozen=True)
class Timeouts:
    """How long a condition may last before the runtime declares the Job failed (seconds)."""

    start: float = 600.0  # a Pod (or the first Pod) has not started running
    pending: float = 300.0  # a Pod is Unschedulable
    image_pull: float = 120.0  # ErrImagePull / ImagePullBackOff / InvalidImageName
    config_error: float = 60.0  # CreateContainerConfigError (missing Secret/ConfigMap/key), start errors
    failed_create: float = 30.0  # no Pod exists; then Events are read for FailedCreate


@dataclass(frozen=True)
class Observation:
    phase: JobPhase
    reason: Reason | None = None
    graces: tuple[Grace, ...] = ()
    wants_logs: tuple[str, str] | None = None  # (pod, container) whose log tail explains it


_IMAGE_REASONS = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull",
                  "RegistryUnavailable"}
_CONFIG_REASONS = {"CreateContainerConfigError", "CreateContainerError"}
# A container the runtime could not start (exit 128 from runc/containerd: a missing executable,
# a bad working dir, a mount failure). Its message is the only useful part: no logs exist.
_START_REASONS = {"StartError", "ContainerCannotRun", "RunContainerError"}
_RUNTIME_MESSAGE_LIMIT = 400
# Pod Events that explain a Pod stuck before its containers start.
_POD_EVENT_REASONS = ("FailedMount", "FailedAttachVolume", "FailedScheduling",
                      "FailedCreatePodSandBox", "FailedCreatePodContainer", "NetworkNotReady")
_NODE_LOST = {"NodeLost", "DeletionByTaintManager", "DeletionByPodGC", "NodeShutdown",
              "Shutdown", "Terminated"}


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


def _status(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("status") or {}


def _true_conditions(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c.get("type", ""): c for c in _status(obj).get("conditions") or []
            if str(c.get("status")) == "True"}


def _memory_limit(pod: dict[str, Any], container: str) -> str | None:
    spec = pod.get("spec") or {}
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if c.get("name") == container:
            return ((c.get("resources") or {}).get("limits") or {}).get("memory")
    return None


def _container_statuses(pod: dict[str, Any]) -> list[dict[str, Any]]:
    st = _status(pod)
    return list(st.get("initContainerStatuses") or []) + list(st.get("containerStatuses") or [])


def pod_failure(pod: dict[str, Any]) -> tuple[Reason | None, tuple[str, str] | None]:
    """Why a Pod failed (or None if it did not), and the container whose logs explain it."""
    name = _meta(pod).get("name")
    st = _status(pod)
    conds = _true_conditions(pod)
    pod_reason = st.get("reason") or ""
    msg = st.get("message") or ""
    if pod_reason == "Evicted":
        return Reason("Evicted", f"pod `{name}` was evicted: {msg or 'node pressure'}", pod=name), None
    if pod_reason == "DeadlineExceeded":
        return Reason("DeadlineExceeded", f"pod `{name}` exceeded its active deadline", pod=name), None
    disruption = conds.get("DisruptionTarget")
    if pod_reason in _NODE_LOST or (disruption and disruption.get("reason") in _NODE_LOST):
        why = msg or (disruption or {}).get("message") or "its node became unreachable"
        return Reason("NodeLost", f"pod `{name}` was lost with its node: {why}", pod=name), None
    if disruption and disruption.get("reason") == "PreemptionByScheduler":
        return Reason("Preempted", f"pod `{name}` was preempted: {disruption.get('message', '')}",
                      pod=name), None
    if disruption and disruption.get("reason") in ("EvictionByEvictionAPI", "TerminationByKubelet"):
        return Reason("Evicted", f"pod `{name}` was evicted: {disruption.get('message', '')}",
                      pod=name), None
    for cs in _container_statuses(pod):
        term = (cs.get("state") or {}).get("terminated") or (cs.get("lastState") or {}).get("terminated")
        if not term:
            continue
        cname = cs.get("name", "?")
        code = term.get("exitCode")
        if term.get("reason") == "OOMKilled":
            limit = _memory_limit(pod, cname)
            text = (f"OOMKilled: container `{cname}` exceeded its {limit} memory limit" if limit
                    else f"OOMKilled: container `{cname}` ran out of memory (no memory limit set)")
            return Reason("OOMKilled", text, pod=name, container=cname, exit_code=code), None
        if term.get("reason") in _START_REASONS:
            text = (f"{term['reason']}: container `{cname}` could not start (exit code {code}): "
                    f"{runtime_message(term.get('message'), pod)}")
            return Reason(term["reason"], text, pod=name, container=cname, exit_code=code), None
        if code not in (None, 0):
            extra = f" ({term['reason']})" if term.get("reason") not in (None, "", "Error") else ""
            if code == 137 and not extra:
                extra = " (killed by SIGKILL)"
            return (Reason("ExitCode", f"container `{cname}` exited with code {code}{extra}",
                           pod=name, container=cname, exit_code=code), (name, cname))
    if st.get("phase") == "Failed":
        return Reason(pod_reason or "PodFailed", f"pod `{name}` failed: {msg or 'no reason given'}",
                      pod=name), None
    return None, None


def runtime_message(message: Any, pod: dict[str, Any], default: str = "no message from the container runtime") -> str:
    """The kubelet's / container runtime's message, on one line, at most a few hundred characters.

    Go errors wrap outward ("failed to create task: ...: exec: \"dagster\": executable file not
    found in $PATH"), so the cause is at the end: a long message keeps its tail. The runtime
    expands ``$(VAR)`` in command and args before exec, so an env value can appear; the Pod's
    literal env values are masked, as API errors are (``podc.runtime.api.redact_env_values``)."""
    from podc.runtime.api import redact_env_values

    text = " ".join(str(message or "").split())
    if not text:
        return default
    text = redact_env_values(text, {"spec": {"template": {"spec": pod.get("spec") or {}}}})
    if len(text) > _RUNTIME_MESSAGE_LIMIT:
        text = "…" + text[-(_RUNTIME_MESSAGE_LIMIT - 1):]
    return text


def _ts(obj: dict[str, Any]) -> str:
    return _meta(obj).get("creationTimestamp") or ""


def _pending_issue(pod: dict[str, Any], t: Timeouts) -> Grace | None:
    """The reason an active Pod is not running, as a grace (or None if nothing is wrong yet)."""
    name = _meta(pod).get("name")
    for cs in _container_statuses(pod):
        waiting = (cs.get("state") or {}).get("waiting") or {}
        why = waiting.get("reason")
        cname = cs.get("name", "?")
        detail = waiting.get("message") or ""
        if why in _IMAGE_REASONS:
            image = cs.get("image") or "?"
            text = f"{why}: image `{image}` for container `{cname}` cannot be pulled"
            text += f": {detail}" if detail else ""
            return Grace(f"image:{name}/{cname}", t.image_pull,
                         Reason(why, text, pod=name, container=cname))
        if why in _CONFIG_REASONS:
            detail = runtime_message(detail, pod, "configuration error")
            text = f"{why}: container `{cname}` cannot be created: {detail}"
            return Grace(f"config:{name}/{cname}", t.config_error,
                         Reason(why, text, pod=name, container=cname))
        last = (cs.get("lastState") or {}).get("terminated") or {}
        if why in _START_REASONS or (why == "CrashLoopBackOff" and last.get("reason") in _START_REASONS):
            code = why if why in _START_REASONS else last["reason"]
            text = (f"{code}: container `{cname}` cannot be started: "
                    f"{runtime_message(detail if why in _START_REASONS else last.get('message'), pod)}")
            return Grace(f"start-error:{name}/{cname}", t.config_error,
                         Reason(code, text, pod=name, container=cname, exit_code=last.get("exitCode")))
    sched = next((c for c in _status(pod).get("conditions") or []
                  if c.get("type") == "PodScheduled" and str(c.get("status")) == "False"), None)
    if sched and sched.get("reason") == "Unschedulable":
        text = f"Unschedulable: pod `{name}` cannot be scheduled: {sched.get('message') or 'no fitting node'}"
        return Grace(f"unschedulable:{name}", t.pending, Reason("Unschedulable", text, pod=name))
    return None


def _event_reason(events: Sequence[dict[str, Any]], wanted: Iterable[str]) -> Reason | None:
    wanted = set(wanted)
    hits = [e for e in events if e.get("reason") in wanted and e.get("type", "Warning") == "Warning"]
    if not hits:
        return None
    last = max(hits, key=lambda e: (e.get("lastTimestamp") or e.get("eventTime") or "",
                                    (e.get("metadata") or {}).get("resourceVersion") or ""))
    return Reason(last["reason"], f"{last['reason']}: {last.get('message') or ''}".rstrip(": "))


def diagnose(job: dict[str, Any], pods: Sequence[dict[str, Any]], *,
             events: Sequence[dict[str, Any]] | None = None,
             timeouts: Timeouts = Timeouts(),
             last_failure: Reason | None = None) -> Observation:
    """The state of ``job`` given its current ``pods`` (and ``events`` once fetched).

    ``last_failure`` is a Pod failure the caller saw earlier (e.g. a Pod that has since been
    deleted); it explains a later Job failure when no remaining Pod does.
    """
    conds = _true_conditions(job)
    if "Complete" in conds or "SuccessCriteriaMet" in conds:
        return Observation(JobPhase.SUCCEEDED)
    failed = conds.get("Failed") or conds.get("FailureTarget")
    ordered = sorted(pods, key=_ts)
    if failed:
        return _failed(failed, ordered, last_failure)
    completions = (job.get("spec") or {}).get("completions", 1) or 1
    if int(_status(job).get("succeeded") or 0) >= completions and not conds:
        return Observation(JobPhase.SUCCEEDED)

    active = [p for p in ordered if _status(p).get("phase") not in ("Succeeded", "Failed")
              and not _meta(p).get("deletionTimestamp")]
    failures = [r for r, _ in (pod_failure(p) for p in ordered
                               if _status(p).get("phase") == "Failed") if r]
    recent_failure = failures[-1] if failures else last_failure
    graces: list[Grace] = []
    running = False
    reason: Reason | None = None
    for pod in active:
        issue = _pending_issue(pod, timeouts)
        if issue:
            graces.append(issue)
            reason = reason or issue.reason
        if _status(pod).get("phase") == "Running" and not issue:
            running = True
            continue
        started = any((cs.get("state") or {}).get("running") or (cs.get("state") or {}).get("terminated")
                      for cs in _container_statuses(pod))
        if not started:
            base = issue.reason if issue else None
            if base is None and events is not None:
                mine = [e for e in events
                        if (e.get("involvedObject") or {}).get("name") == _meta(pod).get("name")]
                base = _event_reason(mine, _POD_EVENT_REASONS)
            base = base or Reason("NotStarted", "no container has started")
            graces.append(Grace(f"start:{_meta(pod).get('name')}", timeouts.start,
                                _not_started(pod, base, timeouts.start),
                                wants_events=issue is None and events is None))
    if not active and not running:
        if events:
            created = _event_reason(events, ("FailedCreate",))
            if created:
                graces.append(Grace("no-pods", timeouts.failed_create, created))
        graces.append(Grace("no-pods", timeouts.failed_create,
                            Reason("NoPods", "no pod has been created for the Job"),
                            wants_events=events is None))
        graces.append(Grace("start:-", timeouts.start,
                            Reason("NotStarted", f"no pod was created within {timeouts.start:g}s"),
                            wants_events=events is None))
        if events is not None and not any(g.reason.code == "FailedCreate" for g in graces):
            # Events were read and explain nothing: only the start timeout fails the Job now.
            graces = [g for g in graces if g.key != "no-pods"]
        reason = reason or recent_failure or graces[0].reason
    phase = JobPhase.RUNNING if running else JobPhase.PENDING
    if reason is None and recent_failure is not None and not running:
        reason = recent_failure
    return Observation(phase, reason, tuple(graces))


def _not_started(pod: dict[str, Any], base: Reason, seconds: float) -> Reason:
    name = _meta(pod).get("name")
    return replace(base, message=f"pod `{name}` did not start within {seconds:g}s: {base.message}",
                   pod=name)


def _failed(cond: dict[str, Any], pods: Sequence[dict[str, Any]],
            last_failure: Reason | None) -> Observation:
    job_reason = cond.get("reason") or "Failed"
    job_msg = cond.get("message") or "the Job failed"
    cause: Reason | None = None
    logs: tuple[str, str] | None = None
    for pod in reversed(pods):
        cause, logs = pod_failure(pod)
        if cause:
            break
    cause = cause or last_failure
    if job_reason == "DeadlineExceeded":
        return Observation(JobPhase.FAILED, Reason(
            "DeadlineExceeded", f"DeadlineExceeded: {job_msg}", job_condition=job_reason,
            pod=cause.pod if cause else None))
    if cause is None:
        return Observation(JobPhase.FAILED, Reason(job_reason, f"{job_reason}: {job_msg}",
                                                   job_condition=job_reason))
    return Observation(JobPhase.FAILED, replace(cause, job_condition=job_reason), wants_logs=logs)
