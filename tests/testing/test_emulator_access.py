"""The local cluster is not an open door (issue 9 §7): the kubeconfig's token is required, only
loopback Host headers and JSON/YAML bodies are accepted, and process-mode commands start with a
clean environment unless variables are passed through explicitly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from podc.testing import LocalCluster

JOBS = "/apis/batch/v1/namespaces/default/jobs"
JOB = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "evil"},
       "spec": {"template": {"spec": {"restartPolicy": "Never",
                                      "containers": [{"name": "c", "image": "busybox", "command": ["true"]}]}}}}


def _http(cluster, method, path, body=None, headers=None):
    req = urllib.request.Request(cluster.url + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _auth(cluster, **more):
    return {"Authorization": f"Bearer {cluster.token}", **more}


def test_requests_without_the_kubeconfig_token_are_refused(local_cluster):
    body = json.dumps(JOB).encode()
    for headers in ({"Content-Type": "application/json"},
                    {"Content-Type": "application/json", "Authorization": "Bearer podc-emulator-token"},
                    {"Content-Type": "application/json", "Authorization": f"Basic {local_cluster.token}"}):
        code, raw = _http(local_cluster, "POST", JOBS, body, headers)
        assert code == 401 and json.loads(raw)["reason"] == "Unauthorized"
    assert _http(local_cluster, "GET", JOBS)[0] == 401
    assert local_cluster.job("evil") is None
    # the kubeconfig carries the token; health and version answer anyone, as on a real API server
    with open(local_cluster.kubeconfig_path) as f:
        assert json.load(f)["users"][0]["user"]["token"] == local_cluster.token
    assert oct(os.stat(local_cluster.kubeconfig_path).st_mode & 0o777) == "0o600"
    assert _http(local_cluster, "GET", "/healthz")[0] == 200 and _http(local_cluster, "GET", "/version")[0] == 200
    assert _http(local_cluster, "POST", JOBS, body, _auth(local_cluster, **{"Content-Type": "application/json"}))[0] == 201


def test_each_cluster_has_its_own_token():
    with LocalCluster() as a, LocalCluster() as b:
        assert a.token != b.token and len(a.token) >= 32
        assert _http(a, "GET", JOBS, headers={"Authorization": f"Bearer {b.token}"})[0] == 401


def test_only_loopback_host_headers_are_served(local_cluster):
    for host in ("evil.example", "evil.example:80", "127.0.0.1.evil.example", "10.0.0.1"):
        code, raw = _http(local_cluster, "GET", JOBS, headers=_auth(local_cluster, Host=host))
        assert code == 403, host
    for host in (f"127.0.0.1:{local_cluster.port}", f"localhost:{local_cluster.port}", "[::1]"):
        assert _http(local_cluster, "GET", JOBS, headers=_auth(local_cluster, Host=host))[0] == 200, host


def test_a_cross_origin_text_plain_post_creates_nothing(local_cluster):
    body = json.dumps(JOB).encode()
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        headers = _auth(local_cluster, **({"Content-Type": ctype} if ctype else {}))
        code, raw = _http(local_cluster, "POST", JOBS, body, headers)
        assert code == 415 and json.loads(raw)["reason"] == "UnsupportedMediaType", ctype
    assert local_cluster.job("evil") is None


def test_yaml_bodies_are_accepted(local_cluster):
    body = b"apiVersion: batch/v1\nkind: Job\nmetadata: {name: from-yaml}\nspec:\n  template:\n    spec:\n" \
           b"      restartPolicy: Never\n      containers: [{name: c, image: busybox, command: ['true']}]\n"
    code, raw = _http(local_cluster, "POST", JOBS, body, _auth(local_cluster, **{"Content-Type": "application/yaml"}))
    assert code == 201 and json.loads(raw)["metadata"]["name"] == "from-yaml"
    code, raw = _http(local_cluster, "POST", JOBS, b"a: [", _auth(local_cluster, **{"Content-Type": "application/yaml"}))
    assert code == 400


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_kubectl_works_with_the_written_kubeconfig(local_cluster):
    run = subprocess.run(["kubectl", "--kubeconfig", local_cluster.kubeconfig_path, "get", "jobs", "-o", "name"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


PRINT_ENV = "import os, json; print(json.dumps({k: os.environ.get(k) for k in ('PODC_PARENT_SECRET', 'PASSED')}))"


def _run_env(cluster, name):
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
           "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [
               {"name": "c", "image": "python", "command": [sys.executable, "-c", PRINT_ENV]}]}}}}
    cluster.api.create("jobs", "default", job)
    cluster.wait_for(lambda: cluster.job_condition(name), timeout=30, message=f"job {name} did not finish")
    (pod,) = cluster.pods_of(name)
    return json.loads(_log(cluster, pod))


def _log(cluster, pod):
    from kubernetes import client

    core = client.CoreV1Api(cluster.api_client())
    return core.read_namespaced_pod_log(pod["metadata"]["name"], "default", _preload_content=False).data.decode()


def test_process_mode_starts_commands_with_a_clean_environment(monkeypatch):
    monkeypatch.setenv("PODC_PARENT_SECRET", "hunter2")
    monkeypatch.setenv("PASSED", "yes")
    with LocalCluster(mode="process") as cluster:
        assert _run_env(cluster, "clean") == {"PODC_PARENT_SECRET": None, "PASSED": None}
    with LocalCluster(mode="process", pass_env=["PASSED"], process_env={"EXTRA": "1"}) as cluster:
        assert _run_env(cluster, "passed") == {"PODC_PARENT_SECRET": None, "PASSED": "yes"}
    with LocalCluster(mode="process", inherit_env=True) as cluster:  # the explicit, old behaviour
        assert _run_env(cluster, "all") == {"PODC_PARENT_SECRET": "hunter2", "PASSED": "yes"}
