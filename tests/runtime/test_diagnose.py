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


# --- containers the runtime could not start (exit 128): the runtime's message is the cause -------

EXEC_NOT_FOUND = ("failed to create containerd task: failed to create shim task: OCI runtime create failed: "
                  "runc create failed: unable to start container process: exec: \"dagster\": executable file "
                  "not found in $PATH: unknown")


def _start_error(message: str | None, exit_code: int = 128, reason: str = "StartError") -> dict:
    """A containerStatuses entry as the kubelet reports a container that never started."""
    term = {"exitCode": exit_code, "reason": reason, "startedAt": "1970-01-01T00:00:00Z",
            "finishedAt": "2026-11-24T05:00:03Z", "containerID": "containerd://4f1c2e"}
    if message is not None:
        term["message"] = message
    return {"name": "main", "image": "registry.corp/etl:1.2.3", "ready": False, "restartCount": 0,
            "started": False, "state": {"terminated": term}}


def test_start_error_reason_carries_the_runtime_message():
    p = pod(phase="Failed", statuses=[_start_error(EXEC_NOT_FOUND)])
    failed = cond("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
    obs = diagnose(job(conditions=[failed]), [p])
    assert obs.phase is JobPhase.FAILED
    r = obs.reason
    assert (r.code, r.container, r.exit_code, r.job_condition) == ("StartError", "main", 128, "BackoffLimitExceeded")
    assert r.message.startswith("StartError: container `main` could not start (exit code 128): ")
    assert 'exec: "dagster": executable file not found in $PATH' in r.message
    assert obs.wants_logs is None  # a container that never started has no logs
    assert 'exec: "dagster"' in r.describe()


def test_start_error_no_such_file_from_exec_format():
    msg = 'exec /usr/local/bin/dagster: no such file or directory'
    reason, logs = pod_failure(pod(phase="Failed", statuses=[_start_error(msg)]))
    assert reason.code == "StartError" and msg in reason.message and logs is None


def test_start_error_without_a_message_says_so():
    reason, _ = pod_failure(pod(phase="Failed", statuses=[_start_error(None)]))
    assert reason.message.endswith("could not start (exit code 128): no message from the container runtime")


def test_docker_container_cannot_run_is_a_start_error_too():
    msg = 'OCI runtime create failed: container_linux.go:380: starting container process caused: exec: "dagster": ' \
          'executable file not found in $PATH: unknown'
    reason, _ = pod_failure(pod(phase="Failed", statuses=[_start_error(msg, reason="ContainerCannotRun")]))
    assert reason.code == "ContainerCannotRun" and 'exec: "dagster"' in reason.message


def test_runtime_message_is_one_line_and_keeps_the_tail_when_long():
    noise = "failed to create shim task: " * 40
    msg = noise + "\n" + EXEC_NOT_FOUND + "\n"
    reason, _ = pod_failure(pod(phase="Failed", statuses=[_start_error(msg)]))
    detail = reason.message.split("(exit code 128): ", 1)[1]
    assert "\n" not in reason.message and len(detail) <= 400
    assert detail.startswith("…") and detail.endswith("executable file not found in $PATH: unknown")


def test_env_values_expanded_into_the_command_are_masked():
    """The runtime expands $(VAR) in command before exec; a literal env value must not leak."""
    secret = "hunter2-plain-env-value"  # the builder's pod has env PLAIN with this literal value
    msg = f'exec: "{secret}": executable file not found in $PATH'
    reason, _ = pod_failure(pod(phase="Failed", statuses=[_start_error(msg)]))
    assert secret not in reason.message and 'exec: "***"' in reason.message
    # masked before trimming: a value straddling the cut leaves no fragment behind
    long_msg = "x" * 390 + secret + "y" * 5
    reason, _ = pod_failure(pod(phase="Failed", statuses=[_start_error(long_msg)]))
    assert "plain" not in reason.message and "env-value" not in reason.message and "***" in reason.message


def test_run_container_error_while_pending_is_a_start_grace_with_the_message():
    p = pod(statuses=[waiting("RunContainerError", "failed to start container \"4f1c2e\": " + EXEC_NOT_FOUND)])
    obs = diagnose(job(), [p], timeouts=T)
    assert obs.phase is JobPhase.PENDING
    g = _grace(obs, "start-error:")
    assert g.seconds == 10 and g.reason.code == "RunContainerError"
    assert 'exec: "dagster": executable file not found' in g.reason.message
    assert obs.reason.code == "RunContainerError"


def test_crash_loop_after_start_error_reports_the_start_error_message():
    """restartPolicy OnFailure: the kubelet retries; the message is on lastState.terminated."""
    status = _start_error(EXEC_NOT_FOUND)
    status["lastState"] = status.pop("state")
    status["state"] = {"waiting": {"reason": "CrashLoopBackOff",
                                   "message": "back-off 20s restarting failed container=main pod=podc-train-abc-x1y2z"}}
    status["restartCount"] = 2
    obs = diagnose(job(), [pod(phase="Running", statuses=[status])], timeouts=T)
    g = _grace(obs, "start-error:")
    assert g.reason.code == "StartError" and g.reason.exit_code == 128
    assert 'exec: "dagster"' in g.reason.message and "back-off" not in g.reason.message
    assert obs.phase is JobPhase.PENDING


def test_crash_loop_after_an_ordinary_exit_is_not_a_start_error():
    status = {"name": "main", "image": "busybox:1.36", "ready": False, "restartCount": 2,
              "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 20s"}},
              "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}
    obs = diagnose(job(), [pod(phase="Running", statuses=[status])], timeouts=T)
    assert not [g for g in obs.graces if g.key.startswith("start-error:")]


def test_create_container_error_message_is_included_and_masked():
    msg = ('failed to generate container "4f1c2e" spec: failed to apply OCI options: failed to mkdir '
           '"/work/hunter2-plain-env-value": mkdir /work: read-only file system')
    obs = diagnose(job(), [pod(statuses=[waiting("CreateContainerError", msg)])], timeouts=T)
    g = _grace(obs, "config:")
    assert g.reason.code == "CreateContainerError" and "read-only file system" in g.reason.message
    assert "hunter2-plain-env-value" not in g.reason.message


def test_start_error_message_reaches_the_runtime_result_on_the_emulator():
    """End to end: the emulator's kubelet (process mode) cannot exec the command; the Runtime's
    final state names the container and carries the runtime's own message."""
    testing = pytest.importorskip("podc.testing")
    from podc.runtime import ExponentialBackoff, Runtime, Timeouts as RtTimeouts, connect
    from rt_builders import FAST_TIMEOUTS, job_manifest

    manifest = job_manifest("noexec", "process")
    manifest["spec"]["template"]["spec"]["containers"][0]["command"] = ["definitely-not-a-command-podc"]
    with testing.LocalCluster(mode="process", service_accounts={"default"}) as cluster:
        transport = connect(api_client=cluster.api_client(),
                            retry=ExponentialBackoff(base=0.01, cap=0.05, max_attempts=8, max_retry_after=2.0),
                            timeout=(2.0, 5.0))
        rt = Runtime(transport, run_id="run-start-error", namespace="default",
                     timeouts=RtTimeouts(**FAST_TIMEOUTS), tick=0.02)
        try:
            name = rt.submit(manifest).name
            state = rt.wait([name], timeout=15)[name]
        finally:
            rt.cancel_run(confirm_timeout=5)
            rt.close()
    assert state.phase is JobPhase.FAILED and state.reason.code == "StartError"
    assert state.reason.exit_code == 128 and state.reason.container == "main"
    assert 'exec: "definitely-not-a-command-podc"' in state.reason.message
