"""Diagnosis from recorded Job/Pod/Event dicts: one case per failure the issue lists."""

from __future__ import annotations

import pytest

from podc.runtime.diagnose import JobPhase, Timeouts, diagnose, pod_failure
from rt_builders import cond, event, job, pod, running, terminated, waiting

T = Timeouts(start=100, pending=50, image_pull=20, config_error=10, failed_create=5)


def _grace(obs, prefix):
    return next(g for g in obs.graces if g.key.startswith(prefix))


def test_complete_condition_is_succeeded():
    obs = diagnose(job(conditions=[cond("Complete")]), [pod(phase="Succeeded")])
    assert obs.phase is JobPhase.SUCCEEDED and obs.reason is None


def test_success_criteria_met_counts_as_success():
    assert diagnose(job(conditions=[cond("SuccessCriteriaMet")]), []).phase is JobPhase.SUCCEEDED


def test_false_condition_is_ignored():
    obs = diagnose(job(conditions=[cond("Complete", status="False")]), [pod(phase="Running", statuses=[running()])])
    assert obs.phase is JobPhase.RUNNING


def test_oomkilled_names_container_and_memory_limit():
    p = pod(phase="Failed", statuses=[terminated(137, "OOMKilled")])
    obs = diagnose(job(conditions=[cond("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")]), [p])
    assert obs.phase is JobPhase.FAILED
    assert obs.reason.code == "OOMKilled"
    assert obs.reason.message == "OOMKilled: container `main` exceeded its 512Mi memory limit"
    assert obs.reason.job_condition == "BackoffLimitExceeded"
    assert obs.wants_logs is None


def test_oomkilled_without_limit_says_so():
    p = pod(phase="Failed", statuses=[terminated(137, "OOMKilled")], memory_limit=None)
    reason, _ = pod_failure(p)
    assert "no memory limit" in reason.message


def test_nonzero_exit_asks_for_log_tail_of_that_container():
    p = pod(phase="Failed", statuses=[terminated(3)])
    obs = diagnose(job(conditions=[cond("Failed", "BackoffLimitExceeded")]), [p])
    assert obs.reason.code == "ExitCode" and obs.reason.exit_code == 3
    assert "exited with code 3" in obs.reason.message
    assert obs.wants_logs == ("podc-train-abc-x1y2z", "main")


def test_exit_137_without_oom_reason_is_sigkill():
    reason, _ = pod_failure(pod(phase="Failed", statuses=[terminated(137)]))
    assert "SIGKILL" in reason.message


def test_last_pod_explains_backoff_limit():
    first = pod("p1", phase="Failed", created="2026-11-24T05:00:00Z", statuses=[terminated(1)])
    last = pod("p2", phase="Failed", created="2026-11-24T05:01:00Z", statuses=[terminated(137, "OOMKilled")])
    obs = diagnose(job(conditions=[cond("Failed", "BackoffLimitExceeded")]), [last, first])
    assert obs.reason.code == "OOMKilled" and obs.reason.pod == "p2"


def test_evicted_pod():
    p = pod(phase="Failed", reason="Evicted", message="The node was low on resource: memory.")
    reason, _ = pod_failure(p)
    assert reason.code == "Evicted" and "low on resource" in reason.message


def test_node_lost_from_pod_reason_and_disruption_condition():
    assert pod_failure(pod(phase="Failed", reason="NodeLost", message="node n1 unreachable"))[0].code == "NodeLost"
    gc = pod(phase="Failed", conditions=[cond("DisruptionTarget", "DeletionByPodGC", "node gone")])
    assert pod_failure(gc)[0].code == "NodeLost"


def test_deadline_exceeded_job_condition():
    obs = diagnose(job(conditions=[cond("Failed", "DeadlineExceeded", "Job was active longer than specified deadline")]),
                   [pod(phase="Failed", statuses=[terminated(143)])])
    assert obs.phase is JobPhase.FAILED and obs.reason.code == "DeadlineExceeded"
    assert "longer than specified deadline" in obs.reason.message


def test_backoff_limit_without_pods_keeps_job_reason():
    obs = diagnose(job(conditions=[cond("Failed", "BackoffLimitExceeded", "limit reached")]), [])
    assert obs.reason.code == "BackoffLimitExceeded" and "limit reached" in obs.reason.message


def test_failure_remembered_from_deleted_pod_explains_job_failure():
    from podc.runtime.diagnose import Reason

    lost = Reason("NodeLost", "pod `p1` was lost with its node")
    obs = diagnose(job(conditions=[cond("Failed", "BackoffLimitExceeded")]), [], last_failure=lost)
    assert obs.reason.code == "NodeLost" and obs.reason.job_condition == "BackoffLimitExceeded"


@pytest.mark.parametrize("why", ["ErrImagePull", "ImagePullBackOff", "InvalidImageName"])
def test_image_pull_errors_are_pending_with_a_grace(why):
    p = pod(statuses=[waiting(why, 'pull access denied for "nope/nope"', image="nope/nope:1")])
    obs = diagnose(job(), [p], timeouts=T)
    assert obs.phase is JobPhase.PENDING
    g = _grace(obs, "image:")
    assert g.seconds == 20 and g.reason.code == why
    assert "`nope/nope:1`" in g.reason.message and "pull access denied" in g.reason.message


def test_missing_secret_is_config_error_naming_the_secret():
    p = pod(statuses=[waiting("CreateContainerConfigError", 'secret "db-password" not found')])
    obs = diagnose(job(), [p], timeouts=T)
    g = _grace(obs, "config:")
    assert g.seconds == 10 and 'secret "db-password" not found' in g.reason.message
    assert obs.reason.code == "CreateContainerConfigError"


def test_unschedulable_uses_scheduler_message_after_pending_timeout():
    msg = "0/3 nodes are available: 3 Insufficient cpu."
    p = pod(conditions=[cond("PodScheduled", "Unschedulable", msg, status="False")])
    obs = diagnose(job(), [p], timeouts=T)
    g = _grace(obs, "unschedulable:")
    assert g.seconds == 50 and msg in g.reason.message and g.reason.code == "Unschedulable"


def test_pending_pod_without_reason_has_start_timeout_wanting_events():
    obs = diagnose(job(), [pod()], timeouts=T)
    g = _grace(obs, "start:")
    assert g.seconds == 100 and g.wants_events and g.reason.code == "NotStarted"


def test_running_pod_has_no_graces():
    obs = diagnose(job(active=1), [pod(phase="Running", statuses=[running()])], timeouts=T)
    assert obs.phase is JobPhase.RUNNING and obs.graces == ()


def test_no_pods_then_failed_create_event():
    obs = diagnose(job(), [], timeouts=T)
    g = _grace(obs, "no-pods")
    assert g.seconds == 5 and g.wants_events
    ev = event("FailedCreate", 'Error creating: pods "x" is forbidden: error looking up service account default/robot: serviceaccount "robot" not found')
    obs2 = diagnose(job(), [], events=[ev], timeouts=T)
    first = obs2.graces[0]
    assert first.key == "no-pods" and first.reason.code == "FailedCreate" and not first.wants_events
    assert 'serviceaccount "robot" not found' in first.reason.message


def test_no_pods_events_without_failed_create_leave_only_start_timeout():
    obs = diagnose(job(), [], events=[event("SuccessfulCreate", "created", type_="Normal")], timeouts=T)
    assert [g.key for g in obs.graces] == ["start:-"]


def test_failed_pod_within_backoff_limit_is_not_terminal():
    p1 = pod("p1", phase="Failed", reason="Evicted", message="evicted")
    obs = diagnose(job(backoffLimit=2), [p1], timeouts=T)
    assert obs.phase is JobPhase.PENDING and obs.reason.code == "Evicted"


def test_messages_never_contain_env_values():
    p = pod(phase="Failed", statuses=[terminated(1)])
    obs = diagnose(job(conditions=[cond("Failed", "BackoffLimitExceeded")]), [p])
    assert "hunter2" not in obs.reason.describe()


def test_pod_stuck_on_missing_volume_secret_explained_by_pod_events():
    p = pod()
    ev = event("FailedMount", 'MountVolume.SetUp failed for volume "creds" : secret "creds" not found')
    ev["involvedObject"] = {"kind": "Pod", "name": p["metadata"]["name"]}
    obs = diagnose(job(), [p], events=[ev], timeouts=T)
    g = _grace(obs, "start:")
    assert not g.wants_events and g.reason.code == "FailedMount"
    assert 'secret "creds" not found' in g.reason.message and "did not start within 100s" in g.reason.message
