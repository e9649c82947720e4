"""Job and Pod behaviour of other implementations: no Job controller (envtest), the pre-1.31
condition sequence, interim conditions long before the final one, older/newer Pod labels."""

from __future__ import annotations

import time

import pytest
from compat_support import assert_clean, compat_env
from podc.runtime import JobPhase
from rt_builders import job_manifest

WAIT = 15.0


def test_no_job_controller_reports_not_started_after_the_start_timeout():
    # envtest = kube-apiserver without controllers: the Job is stored, no Pod ever appears.
    with compat_env(no_job_controller=True) as (cluster, make):
        rt = make(timeouts={"start": 1.0, "failed_create": 0.3})
        t0 = time.monotonic()
        name = rt.submit(job_manifest("lonely", "succeed")).name
        state = rt.wait([name], timeout=WAIT)[name]
        took = time.monotonic() - t0
        assert state.phase is JobPhase.FAILED, state
        assert state.reason.code == "NotStarted" and "no pod was created within 1s" in state.reason.message
        assert 0.9 <= took < 5.0, took
        # The Events were read (once or a few times), not polled in a loop.
        assert 1 <= cluster.request_log.count(verb="list", resource="events") <= 6
        assert cluster.store.list("pods", "default") == []
        assert_clean(cluster, rt)


def test_no_job_controller_cancel_is_clean_without_a_garbage_collected_pod():
    with compat_env(no_job_controller=True) as (_cluster, make):
        rt = make()
        name = rt.submit(job_manifest("c", "succeed")).name
        result = rt.cancel(name, confirm_timeout=3)
        assert result.clean and rt.state(name).reason.code == "Cancelled"


@pytest.mark.parametrize("outcome,phase,code", [
    ("succeed:after=0.05", JobPhase.SUCCEEDED, None),
    ("exit:code=3", JobPhase.FAILED, "ExitCode"),
    ("oom", JobPhase.FAILED, "OOMKilled"),
])
def test_legacy_conditions_only_complete_and_failed(outcome, phase, code):
    with compat_env(job_conditions="legacy") as (cluster, make):
        rt = make()
        name = rt.submit(job_manifest("legacy", outcome)).name
        state = rt.wait([name], timeout=WAIT)[name]
        conds = {c["type"] for c in cluster.job(name)["status"].get("conditions", [])}
        assert conds and not conds & {"SuccessCriteriaMet", "FailureTarget"}
        assert state.phase is phase
        if code:
            assert state.reason.code == code and state.reason.job_condition == "BackoffLimitExceeded"
        assert_clean(cluster, rt)


@pytest.mark.parametrize("outcome,phase,final", [
    ("succeed:after=0.05", JobPhase.SUCCEEDED, "Complete"),
    ("exit:code=4", JobPhase.FAILED, "Failed"),
])
def test_interim_condition_is_enough_long_before_the_final_one(outcome, phase, final):
    # Kubernetes >= 1.31: SuccessCriteriaMet / FailureTarget first; Complete / Failed only once
    # the Pods are gone (terminating Pods may hold it back for their grace period).
    with compat_env(job_conditions="interim", final_condition_delay=3.0) as (cluster, make):
        rt = make()
        name = rt.submit(job_manifest("interim", outcome)).name
        state = rt.wait([name], timeout=WAIT)[name]
        assert state.phase is phase
        conds = {c["type"] for c in cluster.job(name)["status"].get("conditions", [])}
        assert final not in conds, "the runtime waited for the final condition"
        if phase is JobPhase.FAILED:
            assert state.reason.code == "ExitCode" and state.reason.exit_code == 4
        cluster.wait_for(lambda: cluster.job_condition(name), timeout=6)
        assert rt.state(name).phase is phase  # the final condition changes nothing
        assert_clean(cluster, rt)


@pytest.mark.parametrize("labels", ["legacy", "new"])
def test_pods_with_only_old_or_only_new_job_labels_are_tracked(labels):
    with compat_env(pod_labels=labels) as (cluster, make):
        rt = make()
        name = rt.submit(job_manifest("lbl", "oom", memory="64Mi")).name
        state = rt.wait([name], timeout=WAIT)[name]
        pod_labels = cluster.store.list("pods", "default")[0]["metadata"]["labels"]
        assert ("job-name" in pod_labels) is (labels == "legacy")
        assert ("batch.kubernetes.io/job-name" in pod_labels) is (labels == "new")
        assert state.reason.code == "OOMKilled" and "64Mi" in state.reason.message
        assert_clean(cluster, rt)


def test_suspended_job_is_queued_not_failed_by_the_start_timeout():
    # Kueue (and people) create Jobs with suspend: true and admit them later: no Pods meanwhile.
    with compat_env() as (cluster, make):
        rt = make(timeouts={"start": 0.4, "failed_create": 0.2})
        name = rt.submit(job_manifest("queued", "succeed", suspend=True)).name
        time.sleep(1.2)
        state = rt.state(name)
        assert state.phase is JobPhase.PENDING and state.reason.code == "Suspended", state
        assert cluster.job(name) is not None  # not deleted as "failed"
        cluster.api.patch("jobs", "default", name, "application/merge-patch+json", {"spec": {"suspend": False}})
        assert rt.wait([name], timeout=WAIT)[name].succeeded
        assert_clean(cluster, rt)



def test_logs_of_a_pod_with_a_sidecar_container_name_the_container():
    # The API server answers 400 to a log request without `container` when a Pod has several.
    with compat_env() as (cluster, make):
        rt = make()
        m = job_manifest("two", "succeed:after=0.3,logs=hello\\nworld")
        pod_spec = m["spec"]["template"]["spec"]
        pod_spec["containers"].append({"name": "proxy", "image": "envoy:1"})
        m["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"] = "main"
        name = rt.submit(m).name
        lines = list(rt.stream_logs(name, timeout=10))
        assert rt.wait([name], timeout=WAIT)[name].succeeded
        assert lines == ["hello", "world"]
        assert rt.tail(name) == ["hello", "world"]
        logs = cluster.request_log.filter(subresource="log")
        assert logs and all(r.status == 200 and r.query.get("container") == "main" for r in logs)
        assert_clean(cluster, rt)


def test_cancelling_a_name_that_is_not_in_the_run_leaves_the_runs_pods_alone():
    with compat_env() as (cluster, make):
        rt = make()
        name = rt.submit(job_manifest("keep", "sleep")).name
        cluster.wait_for(lambda: cluster.pods_of(name), timeout=5)
        result = rt.cancel("podc-not-ours-0123456789", confirm_timeout=2)
        assert result.clean
        time.sleep(0.8)  # longer than the orphan sweep's delay
        assert cluster.pods_of(name) and not cluster.pods_of(name)[0]["metadata"].get("deletionTimestamp")
        assert_clean(cluster, rt)
