"""The Job controller (and the TTL-after-finished controller), modelled on kube-controller-manager.

Counts finished pods once (by uid, so a deleted pod stays counted), creates pods up to
``parallelism``, applies ``podFailurePolicy``, ``backoffLimit`` and ``activeDeadlineSeconds``,
and writes the k8s >= 1.31 condition sequence: ``SuccessCriteriaMet`` then ``Complete``, or
``FailureTarget`` then ``Failed`` (reasons BackoffLimitExceeded / DeadlineExceeded / PodFailurePolicy).
"""

from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING, Any

from podc._record import field, record
from podc.testing._util import dig, now_iso, parse_iso, set_condition
from podc.testing.api_errors import ApiError

from podc.testing.compat import Compat

if TYPE_CHECKING:
    from podc.testing.api import Api
    from podc.testing.events import EventRecorder

INDEX_KEY = "batch.kubernetes.io/job-completion-index"
_FAILED_CREATE_RETRY = 0.5  # the real controller backs off exponentially from 1 s


@record
class _JobTracking:
    succeeded: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    ignored: set[str] = field(default_factory=set)
    failure: tuple[str, str] | None = None  # (reason, message) once the job is doomed
    running: set[str] = field(default_factory=set)  # uids of pods last seen unfinished
    succeeded_indexes: set[int] = field(default_factory=set)  # completionMode: Indexed
    last_failed_create: float = 0.0


def _cond(type_: str, reason: str, message: str) -> dict[str, Any]:
    now = now_iso()
    return {"type": type_, "status": "True", "lastProbeTime": now, "lastTransitionTime": now,
            "reason": reason, "message": message}


def is_finished(job: dict[str, Any]) -> bool:
    return any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
               for c in dig(job, "status", "conditions", default=[]))


def _exit_rule_matches(req: dict[str, Any], pod: dict[str, Any]) -> tuple[bool, str, int]:
    values = set(req.get("values") or [])
    for cs in dig(pod, "status", "containerStatuses", default=[]):
        if req.get("containerName") and cs.get("name") != req["containerName"]:
            continue
        code = dig(cs, "state", "terminated", "exitCode")
        if code is None or code == 0:
            continue
        hit = code in values if req.get("operator") == "In" else code not in values
        if hit:
            return True, cs["name"], code
    return False, "", 0


def match_pod_failure_policy(job: dict[str, Any], pod: dict[str, Any]) -> tuple[str | None, str]:
    """(action, message) of the first matching rule, or (None, "")."""
    ref = f"{pod['metadata'].get('namespace')}/{pod['metadata']['name']}"
    for i, rule in enumerate(dig(job, "spec", "podFailurePolicy", "rules", default=[])):
        action = rule.get("action")
        if rule.get("onExitCodes"):
            hit, cname, code = _exit_rule_matches(rule["onExitCodes"], pod)
            if hit:
                return action, f"Container {cname} for pod {ref} failed with exit code {code} matching {action} rule at index {i}"
        for pat in rule.get("onPodConditions") or []:
            for c in dig(pod, "status", "conditions", default=[]):
                if c.get("type") == pat.get("type") and c.get("status") == pat.get("status", "True"):
                    return action, f"Pod {ref} has condition {pat.get('type')} matching {action} rule at index {i}"
    return None, ""


def _completion_index(pod: dict[str, Any]) -> int | None:
    value = dig(pod, "metadata", "annotations", INDEX_KEY)
    return int(value) if value is not None and str(value).isdigit() else None


def _index_pod(job_name: str, template: dict[str, Any], index: int) -> None:
    """What the real controller adds to an Indexed Job's pod."""
    pmeta, spec = template["metadata"], template.setdefault("spec", {})
    pmeta["generateName"] = f"{job_name}-{index}-"
    pmeta.setdefault("annotations", {})[INDEX_KEY] = str(index)
    pmeta.setdefault("labels", {})[INDEX_KEY] = str(index)
    spec["hostname"] = f"{job_name}-{index}"
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        env = c.setdefault("env", [])
        if not any(e.get("name") == "JOB_COMPLETION_INDEX" for e in env):
            env.append({"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {
                "fieldPath": f"metadata.annotations['{INDEX_KEY}']"}}})


def _ranges(indexes: set[int]) -> str:
    """``{0, 1, 2, 5}`` -> ``"0-2,5"`` (the status.completedIndexes format)."""
    out: list[str] = []
    for i in sorted(indexes):
        if out and int(out[-1].split("-")[-1]) == i - 1:
            out[-1] = f"{out[-1].split('-')[0]}-{i}"
        else:
            out.append(str(i))
    return ",".join(out)


class JobController:
    def __init__(self, api: Api, recorder: EventRecorder, compat: Compat | None = None) -> None:
        self.compat = compat or Compat()
        self._interim_since: dict[str, float] = {}  # job uid -> when its interim condition appeared
        self.api = api
        self.store = api.store
        self.recorder = recorder
        self._tracking: dict[str, _JobTracking] = {}

    def sync(self) -> None:
        jobs = self.store.items("jobs")
        pods_by_owner: dict[str, list[dict[str, Any]]] = {}
        for pod in self.store.items("pods"):
            for ref in dig(pod, "metadata", "ownerReferences", default=[]):
                if ref.get("kind") == "Job" and ref.get("controller"):
                    pods_by_owner.setdefault(ref["uid"], []).append(pod)
        live = set()
        for job in jobs:
            uid = job["metadata"]["uid"]
            live.add(uid)
            try:
                self._sync_job(job, pods_by_owner.get(uid, []))
            except ApiError:
                continue  # the job changed or vanished under us; next pass sees the new state
        for uid in [u for u in self._tracking if u not in live]:
            del self._tracking[uid]

    def _sync_job(self, job: dict[str, Any], pods: list[dict[str, Any]]) -> None:
        meta, spec = job["metadata"], job["spec"]
        if is_finished(job):
            self._ttl(job)
            return
        if meta.get("deletionTimestamp"):
            return
        tr = self._tracking.setdefault(meta["uid"], _JobTracking())
        status = copy.deepcopy(job.get("status") or {})
        conds = status.setdefault("conditions", [])
        if spec.get("suspend"):
            for pod in self._active(pods):
                self._delete_pod(job, pod)
            tr.running.clear()  # pods removed by suspension are not failures
            set_condition(conds, _cond("Suspended", "JobSuspended", "Job suspended"))
            status["active"] = 0
            return self._write(job, status)
        if any(c.get("type") == "Suspended" and c.get("status") == "True" for c in conds):
            set_condition(conds, dict(_cond("Suspended", "JobResumed", "Job resumed"), status="False"))
        status.setdefault("startTime", now_iso())
        for pod in pods:
            puid, phase = pod["metadata"]["uid"], dig(pod, "status", "phase")
            if puid in tr.succeeded or puid in tr.failed or puid in tr.ignored:
                continue
            if phase == "Succeeded":
                tr.succeeded.add(puid)
                index = _completion_index(pod)
                if index is not None:
                    tr.succeeded_indexes.add(index)
            elif phase == "Failed":
                action, message = match_pod_failure_policy(job, pod)
                if action == "Ignore":
                    tr.ignored.add(puid)
                    continue
                tr.failed.add(puid)
                if action == "FailJob" and tr.failure is None:
                    tr.failure = ("PodFailurePolicy", message)
        # A pod that vanished before finishing (deleted by someone) counts as failed, as with the
        # real controller's job-tracking finalizer.
        present = {p["metadata"]["uid"] for p in pods}
        for puid in tr.running - present:
            if puid not in tr.succeeded and puid not in tr.ignored:
                tr.failed.add(puid)
        tr.running = {p["metadata"]["uid"] for p in pods if dig(p, "status", "phase") not in ("Succeeded", "Failed")}
        active = self._active(pods)
        restarts = sum(cs.get("restartCount", 0) for p in active for cs in dig(p, "status", "containerStatuses", default=[]))
        if tr.failure is None and len(tr.failed) + restarts > spec.get("backoffLimit", 6):
            tr.failure = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
        deadline = spec.get("activeDeadlineSeconds")
        if tr.failure is None and deadline and time.time() - parse_iso(status["startTime"]) >= deadline:
            tr.failure = ("DeadlineExceeded", "Job was active longer than specified deadline")
        completions = spec.get("completions")
        indexed = spec.get("completionMode") == "Indexed" and completions is not None
        done = completions is not None and len(tr.succeeded_indexes if indexed else tr.succeeded) >= completions
        if indexed:
            status["completedIndexes"] = _ranges(tr.succeeded_indexes)
        if completions is None and tr.succeeded and not active:
            done = True
        status["succeeded"], status["failed"] = len(tr.succeeded), len(tr.failed)
        status["uncountedTerminatedPods"] = {}
        if tr.failure is not None:
            reason, message = tr.failure
            set_condition(conds, _cond("FailureTarget", reason, message))
            for pod in active:
                self._delete_pod(job, pod)
            if not [p for p in self._current_pods(job) if dig(p, "status", "phase") not in ("Succeeded", "Failed")]:
                set_condition(conds, _cond("Failed", reason, message))
                self.recorder.emit(job, "Warning", reason, message, "job-controller")
            status["active"], status["ready"], status["terminating"] = 0, 0, len(active)
            return self._write(job, status)
        if done:
            set_condition(conds, _cond("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods"))
            for pod in active:
                self._delete_pod(job, pod)
            set_condition(conds, _cond("Complete", "CompletionsReached", "Reached expected number of succeeded pods"))
            status["completionTime"] = now_iso()
            status["active"], status["ready"] = 0, 0
            self.recorder.emit(job, "Normal", "Completed", "Job completed", "job-controller")
            return self._write(job, status)
        remaining = (completions - len(tr.succeeded)) if completions is not None else spec.get("parallelism", 1)
        want = min(spec.get("parallelism", 1), remaining) - len(active)
        indexes: list[int | None] = [None] * max(0, want)
        if indexed:
            busy = tr.succeeded_indexes | {_completion_index(p) for p in active}
            indexes = [i for i in range(completions) if i not in busy][: max(0, want)]  # type: ignore[misc]
        for index in indexes:
            pod = self._create_pod(job, tr, index)
            if pod is None:
                break
            active.append(pod)
        status["active"] = len(active)
        status["ready"] = sum(1 for p in active if any(c.get("type") == "Ready" and c.get("status") == "True"
                                                        for c in dig(p, "status", "conditions", default=[])))
        status["terminating"] = 0
        if not conds:
            status.pop("conditions")
        return self._write(job, status)

    @staticmethod
    def _active(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [p for p in pods if dig(p, "status", "phase") not in ("Succeeded", "Failed")
                and not p["metadata"].get("deletionTimestamp")]

    def _current_pods(self, job: dict[str, Any]) -> list[dict[str, Any]]:
        uid = job["metadata"]["uid"]
        return [p for p in self.store.items("pods", job["metadata"].get("namespace"))
                if any(r.get("uid") == uid for r in dig(p, "metadata", "ownerReferences", default=[]))]

    def _write(self, job: dict[str, Any], status: dict[str, Any]) -> None:
        status = self._compat_conditions(job, status)
        if status != job.get("status"):
            self.api.set_status("jobs", job["metadata"].get("namespace"), job["metadata"]["name"], status)

    def _compat_conditions(self, job: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
        """Other servers' condition sequences (``compat.job_conditions``, see podc.testing.compat)."""
        mode, conds = self.compat.job_conditions, status.get("conditions")
        if mode == "current" or not conds:
            return status
        if mode == "legacy":
            kept = [c for c in conds if c.get("type") not in ("SuccessCriteriaMet", "FailureTarget")]
            out = {**status, "conditions": kept}
            if not kept:
                out.pop("conditions")
            return out
        uid = job["metadata"]["uid"]
        if any(c.get("type") in ("SuccessCriteriaMet", "FailureTarget") for c in conds):
            since = self._interim_since.setdefault(uid, time.monotonic())
            if time.monotonic() - since < self.compat.final_condition_delay:
                final = [c for c in conds if c.get("type") not in ("Complete", "Failed")]
                out = {**status, "conditions": final}
                if len(final) != len(conds):
                    out.pop("completionTime", None)
                return out
        return status

    def _create_pod(self, job: dict[str, Any], tr: _JobTracking, index: int | None = None) -> dict[str, Any] | None:
        meta = job["metadata"]
        template = copy.deepcopy(dig(job, "spec", "template", default={}))
        pmeta = template.setdefault("metadata", {})
        pmeta["generateName"] = f"{meta['name']}-"
        labels = pmeta.get("labels") or {}
        if self.compat.pod_labels == "legacy":  # Kubernetes < 1.27 only set the short labels
            labels.pop("batch.kubernetes.io/job-name", None)
            labels.pop("batch.kubernetes.io/controller-uid", None)
        elif self.compat.pod_labels == "new":
            labels.pop("job-name", None)
            labels.pop("controller-uid", None)
        if index is not None:
            _index_pod(meta["name"], template, index)
        pmeta["namespace"] = meta.get("namespace")
        pmeta["ownerReferences"] = [{"apiVersion": "batch/v1", "kind": "Job", "name": meta["name"],
                                     "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}]
        body = {"metadata": pmeta, "spec": template.get("spec", {})}
        if time.monotonic() - tr.last_failed_create < _FAILED_CREATE_RETRY:
            return None
        try:
            pod = self.api.create("pods", meta.get("namespace"), body)
        except ApiError as e:
            tr.last_failed_create = time.monotonic()
            self.recorder.emit(job, "Warning", "FailedCreate", f"Error creating: {e.message}", "job-controller")
            return None
        self.recorder.emit(job, "Normal", "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}", "job-controller")
        return pod

    def _delete_pod(self, job: dict[str, Any], pod: dict[str, Any]) -> None:
        try:
            self.api.delete("pods", pod["metadata"].get("namespace"), pod["metadata"]["name"])
        except ApiError:
            return
        self.recorder.emit(job, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}", "job-controller")

    def _ttl(self, job: dict[str, Any]) -> None:
        ttl = dig(job, "spec", "ttlSecondsAfterFinished")
        if ttl is None or job["metadata"].get("deletionTimestamp"):
            return
        finished = [c.get("lastTransitionTime") for c in dig(job, "status", "conditions", default=[])
                    if c.get("type") in ("Complete", "Failed") and c.get("status") == "True"]
        if finished and finished[0] and time.time() >= parse_iso(finished[0]) + ttl:
            try:
                self.api.delete("jobs", job["metadata"].get("namespace"), job["metadata"]["name"],
                                propagation="Foreground")
            except ApiError:
                pass
