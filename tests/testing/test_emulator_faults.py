"""Fault injection, API restarts and the request log."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import urllib3
from kubernetes import watch
from kubernetes.client.rest import ApiException

from emulator_helpers import job_body, wait_job_finished


def test_429_burst_with_retry_after(local_cluster, k8s):
    local_cluster.faults.fail(verb="create", resource="jobs", status=429, count=2, retry_after=1)
    for _ in range(2):
        with pytest.raises(ApiException) as e:
            k8s.batch.create_namespaced_job("default", job_body("busy"))
        assert e.value.status == 429 and e.value.headers["Retry-After"] == "1"
        body = json.loads(e.value.body)
        assert (body["kind"], body["reason"], body["details"]["retryAfterSeconds"]) == ("Status", "TooManyRequests", 1)
    # Other verbs and resources are unaffected; the third create goes through.
    k8s.core.create_namespaced_config_map("default", {"metadata": {"name": "fine"}})
    k8s.batch.create_namespaced_job("default", job_body("busy"))
    assert local_cluster.request_log.count(verb="create", resource="jobs", status=429) == 2
    assert local_cluster.request_log.count(verb="create", resource="jobs", status=201) == 1


@pytest.mark.parametrize("status,reason", [(500, "InternalError"), (503, "ServiceUnavailable")])
def test_server_errors_on_reads(local_cluster, k8s, status, reason):
    k8s.batch.create_namespaced_job("default", job_body("j"))
    local_cluster.faults.fail(verb="get", resource="jobs", status=status, count=1)
    with pytest.raises(ApiException) as e:
        k8s.batch.read_namespaced_job_status("j", "default")
    assert e.value.status == status and json.loads(e.value.body)["reason"] == reason
    assert k8s.batch.read_namespaced_job_status("j", "default").metadata.name == "j"


def test_fault_on_a_request_with_a_body_keeps_the_connection_usable(local_cluster, k8s):
    # The injected answer must still consume the body, or the next keep-alive request breaks.
    local_cluster.faults.fail(verb="patch", status=500, count=1)
    k8s.core.create_namespaced_config_map("default", {"metadata": {"name": "cm"}})
    with pytest.raises(ApiException):
        k8s.core.patch_namespaced_config_map("cm", "default", {"data": {"big": "x" * 100_000}})
    assert k8s.core.patch_namespaced_config_map("cm", "default", {"data": {"k": "v"}}).data == {"k": "v"}


def test_latency(local_cluster, k8s):
    local_cluster.faults.latency(0.3, verb="list")
    t0 = time.monotonic()
    k8s.core.list_namespaced_pod("default")
    slow = time.monotonic() - t0
    t0 = time.monotonic()
    k8s.core.read_namespace("default")
    fast = time.monotonic() - t0
    local_cluster.faults.latency(0)
    t0 = time.monotonic()
    k8s.core.list_namespaced_pod("default")
    assert slow >= 0.3 and fast < 0.2 and time.monotonic() - t0 < 0.2


def test_watch_faults_and_request_log(local_cluster, k8s):
    local_cluster.faults.fail(verb="watch", resource="pods", status=503, count=1)
    with pytest.raises(ApiException) as e:
        list(watch.Watch().stream(k8s.core.list_namespaced_pod, "default", timeout_seconds=1))
    assert e.value.status == 503
    [rec] = local_cluster.request_log.filter(verb="watch")
    assert rec.is_watch and rec.status == 503 and rec.resource == "pods" and rec.query["watch"].lower() == "true"  # 36 sends True


def test_restart_api_keeps_port_and_state(local_cluster, k8s):
    k8s.batch.create_namespaced_job("default", job_body("survivor", outcome="succeed:after=0.3"))
    port = local_cluster.port
    errors: list[str] = []
    ended = threading.Event()

    def watcher():
        try:
            for _ in watch.Watch().stream(k8s.batch.list_namespaced_job, "default", timeout_seconds=10):
                pass
        except (urllib3.exceptions.HTTPError, ApiException, OSError) as e:
            errors.append(type(e).__name__)
        ended.set()

    threading.Thread(target=watcher, daemon=True).start()
    local_cluster.wait_for(lambda: local_cluster.request_log.count(verb="watch") == 1)
    local_cluster.restart_api(downtime=0.2)
    assert ended.wait(5), "an open watch survived the API restart"
    assert local_cluster.port == port and local_cluster.url == f"http://127.0.0.1:{port}"
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    # State is kept and the controllers kept running through the restart.
    assert wait_job_finished(local_cluster, "survivor")["type"] == "Complete"
    assert k8s.batch.read_namespaced_job("survivor", "default").status.succeeded == 1


def test_restart_downtime_refuses_connections(local_cluster):
    port = local_cluster.port
    t = threading.Thread(target=local_cluster.restart_api, kwargs={"downtime": 0.5})
    t.start()
    time.sleep(0.2)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    t.join()
    socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_request_log_helpers(local_cluster, k8s):
    k8s.core.list_namespaced_pod("default")
    k8s.core.list_namespaced_pod("default", label_selector="a=b")
    k8s.batch.create_namespaced_job("default", job_body("logged"))
    counts = local_cluster.request_log.by_verb()
    assert counts[("list", "pods")] == 2 and counts[("create", "jobs")] == 1
    recs = local_cluster.request_log.filter(verb="list", resource="pods")
    assert recs[1].query == {"labelSelector": "a=b"} and recs[0].method == "GET"
    assert recs[0].path == "/api/v1/namespaces/default/pods" and recs[0].timestamp <= recs[1].timestamp
