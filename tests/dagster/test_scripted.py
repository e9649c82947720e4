"""Scripted emulator: step Pods that hit OOMKilled, an image pull failure, or cannot be
scheduled fail their steps with the runtime's diagnosis in Dagster's own event log."""

from __future__ import annotations

import pytest

from dagster_support import PROJECT

pytest.importorskip("dagster")


def _failure_messages(instance, run_id):
    from dagster import DagsterEventType

    out = {}
    for record in instance.get_records_for_run(run_id, of_type=DagsterEventType.STEP_FAILURE).records:
        event = record.event_log_entry.dagster_event
        out[event.step_key] = event.step_failure_data.error.message
    return out


def test_scripted_pod_failures_carry_the_diagnosis(instance):
    from dagster import execute_job, reconstructable
    from podc.testing import LocalCluster
    from podc_example.jobs import scripted_job

    with LocalCluster(mode="scripted") as cluster:
        run_config = {"execution": {"config": {
            "project": str(PROJECT), "target": "dagster-step", "namespace": "default",
            "kubeconfig_file": cluster.kubeconfig_path, "pending_timeout": 1.0,
            "poll_interval": 0.1,
        }}}
        result = execute_job(reconstructable(scripted_job), instance=instance, run_config=run_config)
        assert not result.success
        failures = _failure_messages(instance, result.run_id)
        assert set(failures) == {"oom", "bad_image", "unschedulable"}, failures
        assert "OOMKilled: container `main` exceeded its 512Mi memory limit" in failures["oom"]
        assert "ghcr.io/example/missing:0.0" in failures["bad_image"]
        assert any(code in failures["bad_image"] for code in ("ErrImagePull", "ImagePullBackOff"))
        assert "Unschedulable" in failures["unschedulable"]
        for message in failures.values():
            assert "failed health check" in message and "Kubernetes Job podc-" in message
        # the OOM step has a RetryPolicy: the executor retried it in a second Job (attempt 1)
        from dagster import DagsterEventType

        retries = instance.get_records_for_run(result.run_id,
                                               of_type=DagsterEventType.STEP_UP_FOR_RETRY).records
        assert [r.event_log_entry.step_key for r in retries] == ["oom"]
        retry_error = retries[0].event_log_entry.dagster_event.step_retry_data.error.message
        assert "OOMKilled: container `main` exceeded its 512Mi memory limit" in retry_error
        oom_jobs = [j for j in cluster.store.list("jobs", "default")
                    if j["metadata"]["annotations"]["podc.dev/step-key"] == "oom"]
        assert sorted(j["metadata"]["labels"]["podc.dev/attempt"] for j in oom_jobs) == ["0", "1"]


def test_policy_violations_and_bad_tags_fail_the_step_before_submission(instance):
    from dagster import execute_job, reconstructable
    from podc.testing import LocalCluster
    from podc_example.jobs import guarded_job

    with LocalCluster(mode="scripted") as cluster:
        run_config = {"execution": {"config": {
            "project": str(PROJECT), "target": "dagster-step", "namespace": "default",
            "kubeconfig_file": cluster.kubeconfig_path, "poll_interval": 0.1,
        }}}
        result = execute_job(reconstructable(guarded_job), instance=instance, run_config=run_config)
        assert not result.success
        failures = _failure_messages(instance, result.run_id)
        assert set(failures) == {"privileged", "typo"}
        assert "podc policy check failed for step 'privileged', nothing was submitted" in failures["privileged"]
        # the location of the offending value: line 2 of the op's podc/config tag
        assert "<op tag podc/config on privileged>:2:" in failures["privileged"]
        assert "privileged" in failures["privileged"].split("nothing was submitted", 1)[1]
        assert "'highmen' is neither a project layer nor a file" in failures["typo"]
        assert "did you mean 'highmem'" in failures["typo"]
        assert cluster.store.list("jobs", "default") == []
        assert cluster.request_log.count(verb="create", resource="jobs") == 0
