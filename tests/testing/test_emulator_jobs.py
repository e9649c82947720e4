"""The Job controller: completion, failure reasons, retries, deadline, TTL, propagation, events."""

from __future__ import annotations

import json
import time

import pytest
from kubernetes.client.rest import ApiException

from emulator_helpers import job_body, pod_body, raw_json, wait_job_finished


def _conditions(job):
    return [(c["type"], c["reason"]) for c in job["status"].get("conditions", [])]


def test_job_completes_with_real_conditions_and_events(local_cluster, k8s):
    k8s.batch.create_namespaced_job("default", job_body("ok", completions=3, parallelism=2))
    cond = wait_job_finished(local_cluster, "ok")
    assert (cond["type"], cond["reason"]) == ("Complete", "CompletionsReached")
    job = local_cluster.job("ok")
    assert _conditions(job) == [("SuccessCriteriaMet", "CompletionsReached"), ("Complete", "CompletionsReached")]
    st = job["status"]
    assert (st["succeeded"], st["failed"], st["active"]) == (3, 0, 0)
    assert st["startTime"] <= st["completionTime"]
    pods = local_cluster.pods_of("ok")
    assert len(pods) == 3 and {p["status"]["phase"] for p in pods} == {"Succeeded"}
    for p in pods:
        labels = p["metadata"]["labels"]
        assert p["metadata"]["name"].startswith("ok-") and len(p["metadata"]["name"]) == len("ok-") + 5
        assert labels["batch.kubernetes.io/job-name"] == "ok" and labels["controller-uid"] == job["metadata"]["uid"]
        [ref] = p["metadata"]["ownerReferences"]
        assert (ref["kind"], ref["name"], ref["uid"], ref["controller"]) == ("Job", "ok", job["metadata"]["uid"], True)
    reasons = [e["reason"] for e in local_cluster.events_for("ok", kind="Job")]
    assert reasons.count("SuccessfulCreate") == 3 and "Completed" in reasons


def test_backoff_limit_retries_then_fails(local_cluster, k8s):
    local_cluster.script("exit:code=2", job_name="flaky")
    k8s.batch.create_namespaced_job("default", job_body("flaky", backoffLimit=2))
    cond = wait_job_finished(local_cluster, "flaky")
    assert (cond["type"], cond["reason"], cond["message"]) == (
        "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
    job = local_cluster.job("flaky")
    assert _conditions(job) == [("FailureTarget", "BackoffLimitExceeded"), ("Failed", "BackoffLimitExceeded")]
    assert job["status"]["failed"] == 3 and job["status"].get("succeeded", 0) == 0
    pods = local_cluster.pods_of("flaky")
    assert len(pods) == 3
    assert {p["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] for p in pods} == {2}
    warn = [e for e in local_cluster.events_for("flaky", kind="Job") if e["reason"] == "BackoffLimitExceeded"]
    assert warn and warn[0]["type"] == "Warning"


def test_fail_then_succeed_recovers_within_backoff(local_cluster, k8s):
    k8s.batch.create_namespaced_job("default", job_body("retry", outcome="fail-then-succeed:failures=2", backoffLimit=2))
    cond = wait_job_finished(local_cluster, "retry")
    assert cond["type"] == "Complete"
    status = local_cluster.job("retry")["status"]
    assert (status["failed"], status["succeeded"]) == (2, 1)


def test_active_deadline_kills_pods(local_cluster, k8s):
    k8s.batch.create_namespaced_job("default", job_body("slow", outcome="sleep", activeDeadlineSeconds=1))
    local_cluster.wait_for(lambda: local_cluster.pods_of("slow"))
    cond = wait_job_finished(local_cluster, "slow", timeout=5)
    assert (cond["type"], cond["reason"], cond["message"]) == (
        "Failed", "DeadlineExceeded", "Job was active longer than specified deadline")
    local_cluster.wait_for(lambda: not local_cluster.pods_of("slow"), message="deadline did not delete the pod")
    reasons = {e["reason"] for e in local_cluster.events_for("slow", kind="Job")}
    assert {"SuccessfulDelete", "DeadlineExceeded"} <= reasons


def test_pod_failure_policy_fail_job_on_exit_code(local_cluster, k8s):
    policy = {"rules": [{"action": "FailJob", "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]}}]}
    k8s.batch.create_namespaced_job("default", job_body("pfp", outcome="exit:code=42", backoffLimit=5,
                                                        podFailurePolicy=policy))
    cond = wait_job_finished(local_cluster, "pfp")
    pod = local_cluster.pods_of("pfp")[0]["metadata"]["name"]
    assert (cond["type"], cond["reason"]) == ("Failed", "PodFailurePolicy")
    assert cond["message"] == f"Container main for pod default/{pod} failed with exit code 42 matching FailJob rule at index 0"
    assert local_cluster.job("pfp")["status"]["failed"] == 1


def test_pod_failure_policy_ignores_disruptions(local_cluster, k8s):
    policy = {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]}
    rule = local_cluster.script("evict", job_name="ign")
    k8s.batch.create_namespaced_job("default", job_body("ign", backoffLimit=0, podFailurePolicy=policy))
    local_cluster.wait_for(lambda: any(p["status"].get("reason") == "Evicted" for p in local_cluster.pods_of("ign")))
    local_cluster.unscript(rule)  # the replacement pod succeeds
    cond = wait_job_finished(local_cluster, "ign")
    assert cond["type"] == "Complete"
    status = local_cluster.job("ign")["status"]
    assert status["failed"] == 0 and status["succeeded"] == 1  # the eviction did not count


def test_missing_service_account_emits_failed_create(local_cluster, k8s):
    k8s.batch.create_namespaced_job("default", job_body("nosa", pod_spec={"serviceAccountName": "robot"}))
    ev = local_cluster.wait_for(lambda: [e for e in local_cluster.events_for("nosa") if e["reason"] == "FailedCreate"])
    assert ev[0]["type"] == "Warning"
    assert ev[0]["message"] == ('Error creating: pods "nosa-" is forbidden: error looking up service account '
                                'default/robot: serviceaccount "robot" not found')
    assert local_cluster.pods_of("nosa") == [] and local_cluster.job_condition("nosa") is None
    # Creating the service account lets the controller proceed.
    k8s.core.create_namespaced_service_account("default", {"metadata": {"name": "robot"}})
    assert wait_job_finished(local_cluster, "nosa")["type"] == "Complete"


def test_ttl_after_finished_deletes_job_and_pods(local_cluster, k8s):
    k8s.batch.create_namespaced_job("default", job_body("ttl", ttlSecondsAfterFinished=1))
    wait_job_finished(local_cluster, "ttl")
    assert local_cluster.pods_of("ttl")
    local_cluster.wait_for(lambda: local_cluster.job("ttl") is None, timeout=4, message="TTL did not delete the job")
    local_cluster.wait_for(lambda: not local_cluster.pods_of("ttl"), message="TTL left pods behind")


def _started_job(local_cluster, k8s, name):
    k8s.batch.create_namespaced_job("default", job_body(name, outcome="sleep", parallelism=2, completions=2))
    local_cluster.wait_for(lambda: len([p for p in local_cluster.pods_of(name)
                                        if p["status"].get("phase") == "Running"]) == 2)


def test_delete_background_removes_pods(local_cluster, k8s):
    _started_job(local_cluster, k8s, "bg")
    k8s.batch.delete_namespaced_job("bg", "default", propagation_policy="Background")
    assert local_cluster.job("bg") is None  # gone at once
    local_cluster.wait_for(lambda: not local_cluster.pods_of("bg"), message="background deletion left pods")


def test_delete_foreground_waits_for_pods(local_cluster, k8s):
    _started_job(local_cluster, k8s, "fg")
    resp = raw_json(k8s.batch.delete_namespaced_job, "fg", "default", body={"propagationPolicy": "Foreground"})
    assert resp["metadata"]["deletionTimestamp"] and "foregroundDeletion" in resp["metadata"]["finalizers"]
    local_cluster.wait_for(lambda: local_cluster.job("fg") is None and not local_cluster.pods_of("fg"))


def test_delete_orphan_and_default_keep_pods(local_cluster, k8s):
    _started_job(local_cluster, k8s, "orph")
    k8s.batch.delete_namespaced_job("orph", "default", propagation_policy="Orphan")
    time.sleep(0.2)
    pods = local_cluster.pods_of("orph")
    assert len(pods) == 2 and all("ownerReferences" not in p["metadata"] for p in pods)
    # No policy at all: batch/v1 still orphans (with a warning header), like the real API server.
    _started_job(local_cluster, k8s, "dflt")
    _, code, headers = k8s.batch.delete_namespaced_job_with_http_info("dflt", "default")
    assert "child pods are preserved by default" in headers.get("Warning", "")
    time.sleep(0.2)
    assert len(local_cluster.pods_of("dflt")) == 2


def test_deleted_running_pod_counts_as_failed_and_is_replaced(local_cluster, k8s):
    k8s.batch.create_namespaced_job("default", job_body("victim", outcome="sleep", backoffLimit=1))
    first = local_cluster.wait_for(lambda: [p for p in local_cluster.pods_of("victim")
                                            if p["status"].get("phase") == "Running"])[0]["metadata"]["name"]
    k8s.core.delete_namespaced_pod(first, "default")
    second = local_cluster.wait_for(lambda: [p for p in local_cluster.pods_of("victim")
                                             if p["metadata"]["name"] != first])
    assert len(second) == 1
    local_cluster.wait_for(lambda: local_cluster.job("victim")["status"].get("failed") == 1)
    k8s.core.delete_namespaced_pod(second[0]["metadata"]["name"], "default")
    assert wait_job_finished(local_cluster, "victim")["reason"] == "BackoffLimitExceeded"


def test_suspended_job_creates_no_pods(local_cluster, k8s):
    k8s.batch.create_namespaced_job("default", job_body("later", suspend=True))
    local_cluster.wait_for(lambda: any(c["type"] == "Suspended" for c in
                                       local_cluster.job("later")["status"].get("conditions", [])))
    assert local_cluster.pods_of("later") == []
    k8s.batch.patch_namespaced_job("later", "default", {"spec": {"suspend": False}})
    assert wait_job_finished(local_cluster, "later")["type"] == "Complete"


def test_indexed_job(local_cluster, k8s):
    local_cluster.script("fail-then-succeed:failures=1", job_name="idx")
    k8s.batch.create_namespaced_job("default", job_body("idx", completions=4, parallelism=2,
                                                        completionMode="Indexed", backoffLimit=3))
    assert wait_job_finished(local_cluster, "idx")["type"] == "Complete"
    status = local_cluster.job("idx")["status"]
    assert status["completedIndexes"] == "0-3" and status["succeeded"] == 4 and status["failed"] == 1
    pods = local_cluster.pods_of("idx")
    ok = sorted(int(p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"])
                for p in pods if p["status"]["phase"] == "Succeeded")
    assert ok == [0, 1, 2, 3]
    for p in pods:
        index = p["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"]
        assert p["metadata"]["name"].startswith(f"idx-{index}-") and p["spec"]["hostname"] == f"idx-{index}"
        assert {"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {
            "fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}} in p["spec"]["containers"][0]["env"]


def test_resource_quota_blocks_pod_creation(local_cluster, k8s):
    k8s.core.create_namespaced_resource_quota("default", {"metadata": {"name": "compute"},
                                                          "spec": {"hard": {"requests.cpu": "3", "pods": "10"}}})
    container = {"name": "main", "image": "busybox:1.36", "resources": {"requests": {"cpu": "2"}}}
    k8s.batch.create_namespaced_job("default", job_body("q", outcome="sleep", parallelism=2, completions=2,
                                                        container=container))
    ev = local_cluster.wait_for(lambda: [e for e in local_cluster.events_for("q") if e["reason"] == "FailedCreate"])
    [pod] = local_cluster.pods_of("q")
    assert ev[0]["message"].startswith('Error creating: pods "q-') and ev[0]["message"].endswith(
        '" is forbidden: exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=2, '
        'limited: requests.cpu=3')
    quota = local_cluster.wait_for(lambda: (local_cluster.store.get("resourcequotas", "default", "compute")
                                            .get("status", {}).get("used", {}).get("requests.cpu") == "2"))
    assert quota
    # A pod without the tracked request is refused outright.
    with pytest.raises(ApiException) as e:
        k8s.core.create_namespaced_pod("default", pod_body("plain"))
    assert e.value.status == 403
    assert json.loads(e.value.body)["message"] == 'pods "plain" is forbidden: failed quota: compute: must specify requests.cpu'
    assert pod["metadata"]["name"].startswith("q-")
