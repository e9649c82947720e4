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
from typing import Any, Sequence

from podc._record import record, replace

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


@record(frozen=True)
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


@record(frozen=True)
class Grace:
    """Fail with ``reason`` once the condition named ``key`` has held for ``seconds``."""

    key: str
    seconds: float
    reason: Reason
    wants_events: bool = False
    explainable: bool = False  # Events may say why (nothing else does): read them while waiting


@record(frozen=True)
class Timeouts:
    """How long a condition may last before the runtime declares the Job failed (seconds)."""

    start: float = 600.0  # a Pod (or the first Pod) has not started running
    pending: float = 300.0  # a Pod is Unschedulable
    image_pull: float = 120.0  # ErrImagePull / ImagePullBackOff / InvalidImageName
    config_error: float = 60.0  # CreateContainerConfigError (missing Secret/ConfigMap/key), start errors
    failed_create: float = 30.0  # no Pod exists; then Events are read for FailedCreate
    explain: float = 5.0  # a Pod (or the Job's first Pod) stuck this long: read Events to say why


@record(frozen=True)
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


def _sidecars(pod: dict[str, Any]) -> set[str]:
    """Restartable init containers (``restartPolicy: Always``, Kubernetes >= 1.28 sidecars)."""
    return {c.get("name", "") for c in (pod.get("spec") or {}).get("initContainers") or []
            if c.get("restartPolicy") == "Always"}


def _failure_order(pod: dict[str, Any]) -> list[dict[str, Any]]:
    """Container statuses in the order that explains a failed Pod: the main containers first,
    then init containers that run to completion, sidecars last — when the Pod ends, the kubelet
    stops its sidecars (exit 137/143), which never explains why the Pod failed."""
    st = _status(pod)
    sidecars = _sidecars(pod)
    inits = list(st.get("initContainerStatuses") or [])
    return (list(st.get("containerStatuses") or [])
            + [c for c in inits if c.get("name") not in sidecars]
            + [c for c in inits if c.get("name") in sidecars])


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
    sidecars = _sidecars(pod)
    for cs in _failure_order(pod):
        term = (cs.get("state") or {}).get("terminated") or (cs.get("lastState") or {}).get("terminated")
        if not term:
            continue
        cname = cs.get("name", "?")
        if cname in sidecars and term.get("exitCode") in (137, 143) \
                and term.get("reason") != "OOMKilled":
            continue  # stopped by the kubelet as the Pod ended
        kind = "init container" if cname not in {c.get("name") for c in
                                                 _status(pod).get("containerStatuses") or []} \
            and any(c.get("name") == cname for c in _status(pod).get("initContainerStatuses") or []) \
            else "container"
        code = term.get("exitCode")
        if term.get("reason") == "OOMKilled":
            limit = _memory_limit(pod, cname)
            text = (f"OOMKilled: {kind} `{cname}` exceeded its {limit} memory limit" if limit
                    else f"OOMKilled: {kind} `{cname}` ran out of memory (no memory limit set)")
            return Reason("OOMKilled", text, pod=name, container=cname, exit_code=code), None
        if term.get("reason") in _START_REASONS:
            text = (f"{term['reason']}: {kind} `{cname}` could not start (exit code {code}): "
                    f"{runtime_message(term.get('message'), pod)}")
            return Reason(term["reason"], text, pod=name, container=cname, exit_code=code), None
        if code not in (None, 0):
            extra = f" ({term['reason']})" if term.get("reason") not in (None, "", "Error") else ""
            if code == 137 and not extra:
                extra = " (killed by SIGKILL)"
            return (Reason("ExitCode", f"{kind} `{cname}` exited with code {code}{extra}",
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


def _event_reason(events: Sequence[dict[str, Any]], wanted: tuple[str, ...]) -> Reason | None:
    from podc.runtime.events import latest_event

    last = latest_event(events, wanted)
    if last is None:
        return None
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
    if (job.get("spec") or {}).get("suspend") is True or "Suspended" in conds:
        # Queued, not stuck: a queueing controller (Kueue) creates Jobs suspended and admits
        # them when quota frees up, possibly hours later. No start timeout while suspended.
        why = (conds.get("Suspended") or {}).get("message") or "Job suspended"
        return Observation(JobPhase.PENDING, Reason(
            "Suspended", f"the Job is suspended (queued, e.g. by Kueue, or paused by hand): {why}"))
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
            reason = reason or _crash_loop(pod)  # restarting in place (restartPolicy OnFailure)
            continue
        # A container that ran and is now waiting to restart (CrashLoopBackOff, also an init
        # container) has started: the Job's backoffLimit, not the start timeout, ends it.
        started = any((cs.get("state") or {}).get("running") or (cs.get("state") or {}).get("terminated")
                      or (cs.get("lastState") or {}).get("terminated") or cs.get("restartCount")
                      for cs in _container_statuses(pod))
        if started and not issue and reason is None:
            reason = _crash_loop(pod)
        if not started:
            gated = None if issue else _gated(pod)
            base = issue.reason if issue else gated
            if base is None and events is not None:
                mine = [e for e in events
                        if (e.get("involvedObject") or {}).get("name") == _meta(pod).get("name")]
                base = _event_reason(mine, _POD_EVENT_REASONS)
            if base is not None and issue is None:
                reason = reason or replace(base, pod=base.pod or _meta(pod).get("name"))  # say why
            base = base or Reason("NotStarted", "no container has started")
            graces.append(Grace(f"start:{_meta(pod).get('name')}", timeouts.start,
                                _not_started(pod, base, timeouts.start),
                                wants_events=issue is None and gated is None and events is None,
                                explainable=issue is None and gated is None))
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
                            wants_events=events is None, explainable=True))
        if events is not None and not any(g.reason.code == "FailedCreate" for g in graces):
            # Events were read and explain nothing: only the start timeout fails the Job now.
            graces = [g for g in graces if g.key != "no-pods"]
        reason = reason or recent_failure or graces[0].reason
    phase = JobPhase.RUNNING if running else JobPhase.PENDING
    if reason is None and recent_failure is not None and not running:
        reason = recent_failure
    return Observation(phase, reason, tuple(graces))


def _gated(pod: dict[str, Any]) -> Reason | None:
    """A Pod held back by ``spec.schedulingGates`` (a queueing or topology controller has not
    released it): not the scheduler's fault, so not Unschedulable; the start timeout applies."""
    sched = next((c for c in _status(pod).get("conditions") or []
                  if c.get("type") == "PodScheduled" and str(c.get("status")) == "False"), None)
    gates = [g.get("name", "?") for g in (pod.get("spec") or {}).get("schedulingGates") or []]
    if (sched or {}).get("reason") != "SchedulingGated" and not gates:
        return None
    names = ", ".join(gates) or "unknown"
    return Reason("SchedulingGated", f"SchedulingGated: waiting for the scheduling gates to be "
                                     f"removed: {names}", pod=_meta(pod).get("name"))


def _crash_loop(pod: dict[str, Any]) -> Reason | None:
    """A container restarting in place (restartPolicy OnFailure; ``Init:CrashLoopBackOff``):
    its last termination explains the Pod while the Job still retries."""
    for cs in _failure_order(pod):
        waiting = (cs.get("state") or {}).get("waiting") or {}
        last = (cs.get("lastState") or {}).get("terminated") or {}
        if waiting.get("reason") == "CrashLoopBackOff" and last:
            failure, _ = pod_failure({**pod, "status": {**_status(pod), "phase": "Running",
                                                        "reason": None, "conditions": []}})
            if failure is not None:
                restarts = cs.get("restartCount") or 0
                return replace(failure, message=f"{failure.message} (CrashLoopBackOff, "
                                                f"{restarts} restart{'s' if restarts != 1 else ''})")
    return None


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
