"""Scripted kubelet outcomes and the scheduler, as seen through pod status, events and logs."""

from __future__ import annotations

import threading

import pytest
from kubernetes.client.rest import ApiException

from podc.testing import LocalCluster, SimNode
from emulator_helpers import pod_body, pod_log, raw_json, wait_pod_phase


def _state(pod, key="state"):
    return pod["status"]["containerStatuses"][0][key]


def _reasons(cluster, name):
    return [e["reason"] for e in cluster.events_for(name, kind="Pod")]


def test_succeed_with_logs(local_cluster, k8s):
    k8s.core.create_namespaced_pod("default", pod_body("hi", outcome="succeed:after=0.05,logs=line one\\nline, two"))
    pod = wait_pod_phase(local_cluster, "hi", "Succeeded")
    term = _state(pod)["terminated"]
    assert (term["exitCode"], term["reason"]) == (0, "Completed")
    assert pod["status"]["podIP"] and pod["spec"]["nodeName"] == "emulator-node-1"
    ready = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "PodCompleted")
    assert pod_log(k8s.core, "hi", "default") == "line one\nline, two\n"
    assert pod_log(k8s.core, "hi", "default", tail_lines=1, container="main") == "line, two\n"
    assert _reasons(local_cluster, "hi")[:4] == ["Scheduled", "Pulled", "Created", "Started"]


def test_exit_code_and_oom(local_cluster, k8s):
    k8s.core.create_namespaced_pod("default", pod_body("bad", outcome="exit:code=3"))
    local_cluster.script("oom", match_labels={"mem": "hungry"})
    body = pod_body("oom")
    body["metadata"]["labels"] = {"mem": "hungry"}
    k8s.core.create_namespaced_pod("default", body)
    term = _state(wait_pod_phase(local_cluster, "bad", "Failed"))["terminated"]
    assert (term["exitCode"], term["reason"]) == (3, "Error")
    term = _state(wait_pod_phase(local_cluster, "oom", "Failed"))["terminated"]
    assert (term["exitCode"], term["reason"]) == (137, "OOMKilled")


def test_image_pull_error_goes_to_backoff(local_cluster, k8s):
    k8s.core.create_namespaced_pod("default", pod_body("img", outcome="image-pull-error"))

    def backoff():
        pod = local_cluster.store.get("pods", "default", "img")
        waiting = pod["status"].get("containerStatuses", [{}])[0].get("state", {}).get("waiting", {})
        return pod if waiting.get("reason") == "ImagePullBackOff" else None
    pod = local_cluster.wait_for(backoff)
    assert pod["status"]["phase"] == "Pending"
    assert _state(pod)["waiting"]["message"] == 'Back-off pulling image "busybox:1.36"'
    reasons = _reasons(local_cluster, "img")
    assert {"Pulling", "Failed", "BackOff"} <= set(reasons)
    messages = [e["message"] for e in local_cluster.events_for("img")]
    assert "Error: ErrImagePull" in messages and "Error: ImagePullBackOff" in messages
    with pytest.raises(ApiException) as e:
        pod_log(k8s.core, "img", "default")
    assert e.value.status == 400 and "is waiting to start: trying and failing to pull image" in e.value.body


def test_missing_secret_is_create_container_config_error_until_created(local_cluster, k8s):
    container = {"name": "main", "image": "busybox:1.36",
                 "env": [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]}
    k8s.core.create_namespaced_pod("default", pod_body("cfg", container=container))

    def config_error():
        pod = local_cluster.store.get("pods", "default", "cfg")
        waiting = pod["status"].get("containerStatuses", [{}])[0].get("state", {}).get("waiting", {})
        return waiting if waiting.get("reason") == "CreateContainerConfigError" else None
    assert local_cluster.wait_for(config_error)["message"] == 'secret "db" not found'
    assert any(e["message"] == 'Error: secret "db" not found' for e in local_cluster.events_for("cfg"))
    k8s.core.create_namespaced_secret("default", {"metadata": {"name": "db"}, "stringData": {"user": "u"}})
    assert local_cluster.wait_for(lambda: (config_error() or {}).get("message") ==
                                  "couldn't find key password in Secret default/db")
    k8s.core.patch_namespaced_secret("db", "default", {"stringData": {"password": "p"}})
    wait_pod_phase(local_cluster, "cfg", "Succeeded")


def test_missing_configmap_volume_blocks_mount(local_cluster, k8s):
    body = pod_body("vol", volumes=[{"name": "conf", "configMap": {"name": "settings"}}])
    k8s.core.create_namespaced_pod("default", body)
    ev = local_cluster.wait_for(lambda: [e for e in local_cluster.events_for("vol") if e["reason"] == "FailedMount"])
    assert ev[0]["message"] == 'MountVolume.SetUp failed for volume "conf" : configmap "settings" not found'
    assert _state(local_cluster.store.get("pods", "default", "vol"))["waiting"]["reason"] == "ContainerCreating"


def test_eviction(local_cluster, k8s):
    k8s.core.create_namespaced_pod("default", pod_body("ev", outcome="evict"))
    pod = wait_pod_phase(local_cluster, "ev", "Failed")
    assert pod["status"]["reason"] == "Evicted"
    assert pod["status"]["message"].startswith("The node was low on resource: memory.")
    dt = next(c for c in pod["status"]["conditions"] if c["type"] == "DisruptionTarget")
    assert (dt["status"], dt["reason"]) == ("True", "TerminationByKubelet")
    assert "Evicted" in _reasons(local_cluster, "ev")


def test_node_lost(local_cluster, k8s):
    k8s.core.create_namespaced_pod("default", pod_body("nl", outcome="node-lost"))
    pod = wait_pod_phase(local_cluster, "nl", "Failed")
    assert pod["status"]["reason"] == "NodeLost"
    assert pod["status"]["message"] == "Node emulator-node-1 which was running pod nl is unresponsive"
    assert _state(pod)["terminated"]["reason"] == "ContainerStatusUnknown"
    dt = next(c for c in pod["status"]["conditions"] if c["type"] == "DisruptionTarget")
    assert dt["reason"] == "DeletionByTaintManager"


def test_on_failure_restarts_in_place(local_cluster, k8s):
    body = pod_body("crash", outcome="fail-then-succeed:failures=2,after=0.02", restartPolicy="OnFailure")
    k8s.core.create_namespaced_pod("default", body)
    pod = wait_pod_phase(local_cluster, "crash", "Succeeded")
    cs = pod["status"]["containerStatuses"][0]
    assert cs["restartCount"] == 2 and cs["lastState"]["terminated"]["exitCode"] == 1
    counts = {e["reason"]: e["count"] for e in local_cluster.events_for("crash")}
    assert counts["BackOff"] == 2 and counts["Started"] == 3  # events repeat per run, with a count


def test_sleep_until_deleted_and_follow_logs(local_cluster, k8s):
    k8s.core.create_namespaced_pod("default", pod_body("nap", outcome="sleep:logs=zzz"))
    wait_pod_phase(local_cluster, "nap", "Running")
    chunks: list[str] = []

    def follow():
        resp = k8s.core.read_namespaced_pod_log("nap", "default", follow=True, _preload_content=False)
        for chunk in resp.stream(64):
            chunks.append(chunk.decode())

    t = threading.Thread(target=follow)
    t.start()
    local_cluster.wait_for(lambda: chunks)
    deleted = k8s.core.delete_namespaced_pod("nap", "default")
    assert deleted.metadata.deletion_timestamp is not None
    t.join(5)
    assert not t.is_alive() and "".join(chunks) == "zzz\n"
    local_cluster.wait_for(lambda: local_cluster.store.get("pods", "default", "nap") is None)


def test_bad_outcome_annotation_fails_pod_with_reason_in_logs(local_cluster, k8s):
    k8s.core.create_namespaced_pod("default", pod_body("typo", outcome="explode"))
    wait_pod_phase(local_cluster, "typo", "Failed")
    assert "unknown emulator outcome 'explode'" in pod_log(k8s.core, "typo", "default")


@pytest.mark.local_cluster(nodes=[SimNode("gpu-1", labels={"pool": "gpu"},
                                          taints=[{"key": "gpu", "value": "true", "effect": "NoSchedule"}],
                                          allocatable={"cpu": "8", "memory": "32Gi"}),
                                  SimNode("cpu-1", labels={"pool": "cpu"}, allocatable={"cpu": "2", "memory": "4Gi"})])
def test_unschedulable_message_and_event(local_cluster, k8s):
    body = pod_body("big", container={"name": "main", "image": "busybox:1.36",
                                      "resources": {"requests": {"cpu": "4", "memory": "1Gi"}}})
    k8s.core.create_namespaced_pod("default", body)

    def unschedulable():
        pod = local_cluster.store.get("pods", "default", "big")
        return next((c for c in pod["status"].get("conditions", []) if c["type"] == "PodScheduled"
                     and c["status"] == "False"), None)
    cond = local_cluster.wait_for(unschedulable)
    expected = ("0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {gpu: true}. "
                "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, "
                "1 Preemption is not helpful for scheduling.")
    assert (cond["reason"], cond["message"]) == ("Unschedulable", expected)
    [ev] = [e for e in local_cluster.events_for("big") if e["reason"] == "FailedScheduling"]
    assert (ev["type"], ev["message"], ev["source"]["component"]) == ("Warning", expected, "default-scheduler")
    assert local_cluster.store.get("pods", "default", "big")["status"]["phase"] == "Pending"
    # A toleration + node selector makes it fit the GPU node.
    body = pod_body("gpu", nodeSelector={"pool": "gpu"},
                    tolerations=[{"key": "gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}])
    k8s.core.create_namespaced_pod("default", body)
    assert wait_pod_phase(local_cluster, "gpu", "Succeeded")["spec"]["nodeName"] == "gpu-1"
    body = pod_body("aff", affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "pool", "operator": "In", "values": ["tpu"]}]}]}}})
    k8s.core.create_namespaced_pod("default", body)
    local_cluster.wait_for(lambda: [e for e in local_cluster.events_for("aff") if e["reason"] == "FailedScheduling"])
    msg = next(e for e in local_cluster.events_for("aff") if e["reason"] == "FailedScheduling")["message"]
    assert msg.startswith("0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
                          "1 node(s) had untolerated taint {gpu: true}.")


def test_context_manager_and_process_env_option():
    with LocalCluster(nodes=[]) as cluster:
        from kubernetes import client

        core = client.CoreV1Api(cluster.api_client())
        core.create_namespaced_pod("default", pod_body("nowhere"))
        cond = cluster.wait_for(lambda: next((c for c in cluster.store.get("pods", "default", "nowhere")["status"]
                                              .get("conditions", []) if c["type"] == "PodScheduled"), None))
        assert cond["message"] == "no nodes available to schedule pods"
    assert cluster.internal_errors == []


def test_log_parameters_and_previous_run(local_cluster, k8s):
    body = pod_body("multi", outcome="fail-then-succeed:failures=1,after=0.02,logs=run output", restartPolicy="OnFailure")
    body["spec"]["containers"].append({"name": "side", "image": "busybox:1.36"})
    k8s.core.create_namespaced_pod("default", body)
    wait_pod_phase(local_cluster, "multi", "Succeeded")
    with pytest.raises(ApiException) as e:
        pod_log(k8s.core, "multi", "default")
    assert e.value.status == 400 and "choose one of: [main side]" in e.value.body
    with pytest.raises(ApiException) as e:
        pod_log(k8s.core, "multi", "default", container="nope")
    assert e.value.status == 400 and "container nope is not valid for pod multi" in e.value.body
    assert pod_log(k8s.core, "multi", "default", container="side", limit_bytes=3) == "run"
    assert pod_log(k8s.core, "multi", "default", container="main", previous=True) == "run output\n"


def test_finalizers_hold_deletion_until_removed(local_cluster, k8s):
    k8s.core.create_namespaced_config_map("default", {"metadata": {"name": "held", "finalizers": ["example.com/keep"]}})
    resp = raw_json(k8s.core.delete_namespaced_config_map, "held", "default")
    assert resp["metadata"]["deletionTimestamp"]
    assert local_cluster.store.get("configmaps", "default", "held")["metadata"]["deletionTimestamp"]
    k8s.core.patch_namespaced_config_map("held", "default", {"metadata": {"finalizers": None}})
    assert local_cluster.store.get("configmaps", "default", "held") is None


def test_pod_active_deadline_and_restart_always(local_cluster, k8s):
    k8s.core.create_namespaced_pod("default", pod_body("dl", outcome="sleep", activeDeadlineSeconds=1))
    pod = wait_pod_phase(local_cluster, "dl", "Failed", timeout=4)
    assert (pod["status"]["reason"], pod["status"]["message"]) == (
        "DeadlineExceeded", "Pod was active on the node longer than the specified deadline")
    # restartPolicy Always restarts even a container that exited 0.
    k8s.core.create_namespaced_pod("default", pod_body("again", outcome="succeed:after=0.01", restartPolicy="Always"))
    local_cluster.wait_for(lambda: (local_cluster.store.get("pods", "default", "again")["status"]
                                    .get("containerStatuses", [{}])[0].get("restartCount", 0)) >= 2)
    pod = local_cluster.store.get("pods", "default", "again")
    assert pod["status"]["phase"] in ("Running", "Pending")
    assert pod["status"]["containerStatuses"][0]["lastState"]["terminated"]["reason"] == "Completed"


def test_pod_phases_seen_by_a_watch(local_cluster, k8s):
    from kubernetes import watch

    rv = k8s.core.list_namespaced_pod("default").metadata.resource_version
    k8s.core.create_namespaced_pod("default", pod_body("watched", outcome="succeed:after=0.05"))
    seen = []
    w = watch.Watch()
    for ev in w.stream(k8s.core.list_namespaced_pod, "default", resource_version=rv, timeout_seconds=5):
        st = ev["raw_object"].get("status", {})
        waiting = (st.get("containerStatuses") or [{}])[0].get("state", {}).get("waiting", {}).get("reason")
        step = (st.get("phase"), waiting)
        if not seen or seen[-1] != step:
            seen.append(step)
        if st.get("phase") == "Succeeded":
            w.stop()
    assert seen == [("Pending", None), ("Pending", "ContainerCreating"), ("Running", None), ("Succeeded", None)]
