"""Pod and Event shapes real clusters produce that the emulator does not by default: sidecars
(restartable init containers), init container failures and crash loops, Events written through
events.k8s.io/v1 (eventTime, series) and opaque resourceVersions."""

from __future__ import annotations

from podc.runtime.diagnose import JobPhase, diagnose, pod_failure
from rt_builders import cond, job, pod, running, terminated, waiting

SIDECAR = {"name": "proxy", "image": "envoy:1", "restartPolicy": "Always"}
INIT = {"name": "migrate", "image": "busybox:1.36"}


def _with_inits(p, inits, init_statuses):
    p["spec"]["initContainers"] = inits
    p["status"]["initContainerStatuses"] = init_statuses
    return p


def test_sidecar_stopped_at_pod_end_never_explains_the_failure():
    # The main container fails; the kubelet then stops the sidecar (143). The init statuses come
    # first in the Pod status, but the cause is the main container.
    p = _with_inits(pod(phase="Failed", statuses=[terminated(3)]), [SIDECAR],
                    [terminated(143, name="proxy")])
    reason, logs = pod_failure(p)
    assert reason.code == "ExitCode" and reason.container == "main" and reason.exit_code == 3
    assert logs == (p["metadata"]["name"], "main")


def test_sidecar_that_crashed_on_its_own_is_still_reported():
    p = _with_inits(pod(phase="Failed", statuses=[terminated(0, reason="Completed")]), [SIDECAR],
                    [terminated(2, name="proxy")])
    reason, _ = pod_failure(p)
    assert reason.container == "proxy" and reason.exit_code == 2


def test_failed_init_container_is_named_as_such():
    p = _with_inits(pod(phase="Failed", statuses=[waiting("PodInitializing")]), [INIT],
                    [terminated(1, name="migrate")])
    reason, logs = pod_failure(p)
    assert reason.container == "migrate" and "init container `migrate` exited with code 1" in reason.message
    assert logs == (p["metadata"]["name"], "migrate")
    obs = diagnose(job(conditions=[cond("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")]), [p])
    assert obs.phase is JobPhase.FAILED and obs.reason.container == "migrate"


def test_init_crash_loop_is_explained_and_not_a_start_timeout():
    # restartPolicy OnFailure: Init:CrashLoopBackOff. The init container ran and keeps failing;
    # the Job's backoffLimit ends it, not the "never started" timeout (real back-off: minutes).
    looping = {"name": "migrate", "image": "busybox:1.36", "ready": False, "restartCount": 4,
               "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 1m20s"}},
               "lastState": {"terminated": {"exitCode": 2, "reason": "Error"}}}
    p = _with_inits(pod(phase="Pending", statuses=[waiting("PodInitializing")]), [INIT], [looping])
    p["spec"]["restartPolicy"] = "OnFailure"
    obs = diagnose(job(), [p])
    assert obs.phase is JobPhase.PENDING
    assert not [g for g in obs.graces if g.key.startswith("start:")]
    assert obs.reason.code == "ExitCode" and obs.reason.container == "migrate"
    assert "exited with code 2" in obs.reason.message and "CrashLoopBackOff, 4 restarts" in obs.reason.message


def test_sidecar_running_with_main_container_is_running():
    side = {**running("proxy"), "started": True}
    p = _with_inits(pod(phase="Running", statuses=[running()]), [SIDECAR], [side])
    assert diagnose(job(active=1), [p]).phase is JobPhase.RUNNING


def _events_api_event(reason, message, when, series_last=None, rv="1"):
    # An events.k8s.io/v1 Event read through core/v1: no lastTimestamp or count.
    ev = {"metadata": {"name": f"e-{rv}", "resourceVersion": rv},
          "involvedObject": {"kind": "Job", "name": "podc-train-abc"}, "reason": reason,
          "message": message, "type": "Warning", "eventTime": when, "reportingComponent": "job-controller"}
    if series_last:
        ev["series"] = {"count": 5, "lastObservedTime": series_last}
    return ev


def test_latest_event_by_series_and_event_time_not_by_resource_version():
    older = _events_api_event("FailedCreate", "Error creating: quota A", "2026-11-24T05:00:01.000000Z",
                              rv="9")
    # Created earlier but repeated since (series): it is the most recent word.
    repeated = _events_api_event("FailedCreate", "Error creating: quota B", "2026-11-24T05:00:00.500000Z",
                                 series_last="2026-11-24T05:00:09.000000Z", rv="10")
    obs = diagnose(job(), [], events=[repeated, older])
    created = [g for g in obs.graces if g.reason.code == "FailedCreate"]
    assert created and created[0].reason.message.endswith("quota B")
    # Mixed formats (core/v1 seconds and MicroTime) compare as times, not strings.
    core = {"metadata": {"name": "c", "resourceVersion": "100"}, "reason": "FailedCreate",
            "involvedObject": {"kind": "Job", "name": "podc-train-abc"}, "type": "Warning",
            "message": "Error creating: core", "lastTimestamp": "2026-11-24T05:00:02Z"}
    obs = diagnose(job(), [], events=[core, older])
    assert [g for g in obs.graces if g.reason.code == "FailedCreate"][0].reason.message.endswith("core")


def test_running_pod_restarting_in_place_carries_its_last_exit():
    looping = {"name": "main", "image": "busybox:1.36", "ready": False, "restartCount": 1,
               "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s"}},
               "lastState": {"terminated": {"exitCode": 7, "reason": "Error"}}}
    p = pod(phase="Running", statuses=[looping])
    p["spec"]["restartPolicy"] = "OnFailure"
    obs = diagnose(job(active=1), [p])
    assert obs.phase is JobPhase.RUNNING and not obs.graces
    assert obs.reason.exit_code == 7 and "CrashLoopBackOff, 1 restart)" in obs.reason.message


def test_scheduling_gated_pod_names_its_gates_and_keeps_only_the_start_timeout():
    p = pod(phase="Pending", conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated",
                                          "message": "Scheduling is blocked due to non-empty scheduling gates"}])
    p["spec"]["schedulingGates"] = [{"name": "kueue.x-k8s.io/topology"}]
    obs = diagnose(job(active=1), [p])
    (grace,) = obs.graces
    assert grace.key.startswith("start:") and not grace.wants_events
    assert grace.reason.code == "SchedulingGated" and "kueue.x-k8s.io/topology" in grace.reason.message


def test_job_failure_seen_before_any_of_its_pods_waits_for_the_pod_watch():
    # Jobs and Pods arrive on two watches; on a loaded server the Job's Failed can come first.
    from podc.runtime.diagnose import Timeouts
    from podc.runtime.tracker import SETTLE_SECONDS, JobRecord, evaluate

    rec = JobRecord("podc-train-abc", "train", 0)
    rec.job = job(conditions=[cond("Failed", "BackoffLimitExceeded", "limit")], failed=1)
    changed, follow = evaluate(rec, 100.0, Timeouts())
    assert not changed and rec.phase is JobPhase.PENDING and rec.next_deadline == 100.0 + SETTLE_SECONDS
    rec.pods["p"] = pod("p", phase="Failed", statuses=[terminated(137, reason="OOMKilled")])
    evaluate(rec, 100.2, Timeouts())
    assert rec.phase is JobPhase.FAILED and rec.reason.code == "OOMKilled"
    # With no Pod at all in time, the Job's own reason is reported after the settle time.
    late = JobRecord("podc-train-abc", "train", 0)
    late.job = rec.job
    evaluate(late, 0.0, Timeouts())
    evaluate(late, SETTLE_SECONDS, Timeouts())
    assert late.phase is JobPhase.FAILED and late.reason.code == "BackoffLimitExceeded"
