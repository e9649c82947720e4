"""Process mode: container commands really run, with env from Secrets/ConfigMaps and captured logs."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from emulator_helpers import job_body, pod_body, pod_log, wait_job_finished, wait_pod_phase

pytestmark = pytest.mark.local_cluster(mode="process", process_env={"FROM_CLUSTER": "yes"})

_SCRIPT = """
import os, sys
print("user", os.environ["DB_USER"], "pw-len", len(os.environ["DB_PASSWORD"]))
print("level", os.environ["LEVEL"], "pod", os.environ["POD_NAME"], "ns", os.environ["POD_NS"])
print("label", os.environ["APP"], "cluster-env", os.environ["FROM_CLUSTER"], "cpu", os.environ["CPU_LIMIT"])
print("greeting", sys.argv[1])
with open(os.path.join(os.environ["PODC_EMULATOR_MOUNT_ETC_DB"], "password")) as f:
    print("file", f.read())
print("to stderr", file=sys.stderr)
sys.exit(int(os.environ.get("EXIT", "0")))
"""


def _container(exit_code: int = 0) -> dict:
    return {
        "name": "main", "image": "python:3.11",
        "command": [sys.executable, "-c", _SCRIPT],
        "args": ["$(GREETING)-$$(NOT_EXPANDED)"],
        "env": [
            {"name": "GREETING", "value": "hello"},
            {"name": "EXIT", "value": str(exit_code)},
            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "POD_NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "CPU_LIMIT", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
        ],
        "envFrom": [{"secretRef": {"name": "db"}, "prefix": "DB_"}, {"configMapRef": {"name": "settings"}}],
        "resources": {"limits": {"cpu": "1500m", "memory": "64Mi"}},
        "volumeMounts": [{"name": "creds", "mountPath": "/etc/db"}],
    }


def _inputs(k8s) -> None:
    k8s.core.create_namespaced_secret("default", {"metadata": {"name": "db"},
                                                  "stringData": {"USER": "alice", "password": "s3cr3t"}})
    k8s.core.create_namespaced_config_map("default", {"metadata": {"name": "settings"}, "data": {"LEVEL": "debug"}})


def test_job_runs_python_with_secret_env_and_logs(local_cluster, k8s):
    _inputs(k8s)
    body = job_body("proc", labels={"app": "demo"}, container=_container(),
                    pod_spec={"volumes": [{"name": "creds", "secret": {"secretName": "db"}}]})
    k8s.batch.create_namespaced_job("default", body)
    cond = wait_job_finished(local_cluster, "proc", timeout=15)
    assert cond["type"] == "Complete", local_cluster.pods_of("proc")
    [pod] = local_cluster.pods_of("proc")
    name = pod["metadata"]["name"]
    log = pod_log(k8s.core, name, "default")
    lines = log.splitlines()
    # stdout and stderr interleave as the process flushes them (a clean environment has no
    # PYTHONUNBUFFERED): compare stdout's lines in order
    out_lines = [line for line in lines if line != "to stderr"]
    assert out_lines[:4] == ["user alice pw-len 6", f"level debug pod {name} ns default",
                         "label demo cluster-env yes cpu 2", "greeting hello-$(NOT_EXPANDED)"]
    assert "file s3cr3t" in lines and "to stderr" in lines
    term = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (0, "Completed")


def test_nonzero_exit_fails_the_job(local_cluster, k8s):
    _inputs(k8s)
    body = job_body("proc-fail", labels={"app": "demo"}, container=_container(exit_code=7),
                    pod_spec={"volumes": [{"name": "creds", "secret": {"secretName": "db"}}]})
    k8s.batch.create_namespaced_job("default", body)
    cond = wait_job_finished(local_cluster, "proc-fail", timeout=15)
    assert (cond["type"], cond["reason"]) == ("Failed", "BackoffLimitExceeded")
    term = local_cluster.pods_of("proc-fail")[0]["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (7, "Error")


def test_missing_executable_is_start_error(local_cluster, k8s):
    container = {"name": "main", "image": "x", "command": ["definitely-not-a-command-podc"]}
    k8s.core.create_namespaced_pod("default", pod_body("noexec", container=container))
    term = wait_pod_phase(local_cluster, "noexec", "Failed")["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (128, "StartError")
    assert 'exec: "definitely-not-a-command-podc"' in term["message"]


def test_follow_logs_and_delete_kills_process(local_cluster, k8s, tmp_path):
    marker = tmp_path / "pid"
    code = ("import os, sys, time\n"
            f"open({str(marker)!r}, 'w').write(str(os.getpid()))\n"
            "print('started', flush=True)\n"
            "time.sleep(60)\n")
    container = {"name": "main", "image": "python", "command": [sys.executable, "-c", code]}
    k8s.core.create_namespaced_pod("default", pod_body("long", container=container, terminationGracePeriodSeconds=1))
    wait_pod_phase(local_cluster, "long", "Running")
    chunks: list[bytes] = []

    def follow():
        resp = k8s.core.read_namespaced_pod_log("long", "default", follow=True, _preload_content=False)
        for chunk in resp.stream(64):
            chunks.append(chunk)

    t = threading.Thread(target=follow)
    t.start()
    local_cluster.wait_for(lambda: b"".join(chunks) == b"started\n", timeout=10)
    pid = int(marker.read_text())
    k8s.core.delete_namespaced_pod("long", "default")
    local_cluster.wait_for(lambda: local_cluster.store.get("pods", "default", "long") is None, timeout=5)
    t.join(5)
    assert not t.is_alive()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.02)
    else:
        pytest.fail("the container process survived the pod deletion")


def test_annotation_still_scripts_in_process_mode(local_cluster, k8s):
    k8s.core.create_namespaced_pod("default", pod_body("scripted", outcome="exit:code=5"))
    term = wait_pod_phase(local_cluster, "scripted", "Failed")["status"]["containerStatuses"][0]["state"]["terminated"]
    assert term["exitCode"] == 5


@pytest.mark.local_cluster(mode="process", inherit_env=False, process_env={"ONLY_THIS": "1"})
def test_without_inherited_env_only_pod_env_and_path(local_cluster, k8s):
    code = ("import os, json; print(json.dumps(sorted(k for k in os.environ if k not in "
            "('PATH', 'HOSTNAME', 'LC_CTYPE', 'PWD', 'SHLVL', '_'))))")
    container = {"name": "main", "image": "python", "command": ["python", "-c", code],
                 "env": [{"name": "MINE", "value": "x"}],
                 "volumeMounts": [{"name": "scratch", "mountPath": "/scratch/data"}]}
    k8s.core.create_namespaced_pod("default", pod_body("bare", container=container,
                                                       volumes=[{"name": "scratch", "emptyDir": {}}]))
    wait_pod_phase(local_cluster, "bare", "Succeeded", timeout=10)
    import json

    seen = json.loads(pod_log(k8s.core, "bare", "default"))
    assert seen == ["MINE", "ONLY_THIS", "PODC_EMULATOR_MOUNT_SCRATCH_DATA"]
