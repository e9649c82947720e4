"""kubectl's everyday verbs against the emulator: server-side printing (Table) for get."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from typing import Any

import pytest

JOB = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "hello"},
       "spec": {"template": {"spec": {"restartPolicy": "Never",
                                      "containers": [{"name": "main", "image": "busybox:1.36"}]}}}}
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"


def _get(cluster: Any, path: str, accept: str) -> dict:
    req = urllib.request.Request(cluster.url + path, headers={"Accept": accept,
                                                              "Authorization": f"Bearer {cluster.token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def test_get_and_list_answer_a_table_when_asked(local_cluster):
    local_cluster.api.create("jobs", "default", JOB)
    local_cluster.wait_for(lambda: (local_cluster.job_condition("hello") or {}).get("type") == "Complete")
    jobs = _get(local_cluster, "/apis/batch/v1/namespaces/default/jobs", TABLE)
    assert jobs["kind"] == "Table" and [c["name"] for c in jobs["columnDefinitions"]][:5] == [
        "Name", "Status", "Completions", "Duration", "Age"]
    assert jobs["rows"][0]["cells"][:3] == ["hello", "Complete", "1/1"]
    assert jobs["rows"][0]["object"]["metadata"]["name"] == "hello"
    pods = _get(local_cluster, "/api/v1/namespaces/default/pods", TABLE)
    assert [c["name"] for c in pods["columnDefinitions"]][:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert pods["rows"][0]["cells"][2] == "Completed"
    one = _get(local_cluster, "/apis/batch/v1/namespaces/default/jobs/hello", TABLE)
    assert one["kind"] == "Table" and len(one["rows"]) == 1
    cms = _get(local_cluster, "/api/v1/namespaces/default/configmaps", TABLE)
    assert [c["name"] for c in cms["columnDefinitions"]] == ["Name", "Age"]
    plain = _get(local_cluster, "/apis/batch/v1/namespaces/default/jobs", "application/json")
    assert plain["kind"] == "JobList"  # other clients still get objects


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_get_prints_the_columns(local_cluster):
    local_cluster.api.create("jobs", "default", JOB)
    local_cluster.wait_for(lambda: (local_cluster.job_condition("hello") or {}).get("type") == "Complete")
    env = {**os.environ, "KUBECONFIG": str(local_cluster.kubeconfig_path), "HOME": os.environ.get("TMPDIR", "/tmp")}
    out = subprocess.run(["kubectl", "get", "jobs,pods"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "COMPLETIONS" in out.stdout and "Complete" in out.stdout and "RESTARTS" in out.stdout


def test_openapi_v3_declares_field_validation_for_every_kind(local_cluster):
    index = _get(local_cluster, "/openapi/v3", "application/json")
    assert set(index["paths"]) == {"api/v1", "apis/batch/v1"}
    url = index["paths"]["apis/batch/v1"]["serverRelativeURL"]
    doc = _get(local_cluster, url, "application/json")
    patch = doc["paths"]["/apis/batch/v1/namespaces/{namespace}/jobs/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "batch", "version": "v1", "kind": "Job"}
    assert any(p["name"] == "fieldValidation" and p["in"] == "query" for p in patch["parameters"])
    job = doc["components"]["schemas"]["io.k8s.api.batch.v1.Job"]
    assert job["x-kubernetes-group-version-kind"] == [{"group": "batch", "version": "v1", "kind": "Job"}]
    text = json.dumps(doc)
    assert "#/$defs/" not in text and '"null"' not in text  # OpenAPI 3.0 form, every $ref resolvable
    for ref in {r.split('"')[0] for r in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert ref in doc["components"]["schemas"], ref


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_apply_validates_without_validate_false(local_cluster, tmp_path):
    manifest = tmp_path / "job.yaml"
    manifest.write_text(json.dumps(JOB))
    env = {**os.environ, "KUBECONFIG": str(local_cluster.kubeconfig_path), "HOME": str(tmp_path)}
    for expected in ("created", "unchanged"):
        out = subprocess.run(["kubectl", "apply", "-f", str(manifest)], env=env, capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0 and expected in out.stdout, out.stderr


def _field(number: int, payload: bytes) -> bytes:
    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
            n >>= 7
            if not n:
                return bytes(out)
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def _configmap_protobuf() -> bytes:
    meta = _field(1, b"cm") + _field(11, _field(1, b"team") + _field(2, b"ml"))
    body = _field(1, meta) + _field(2, _field(1, b"a") + _field(2, b"b")) + _field(3, _field(1, b"bin") + _field(2, b"\x00\x01"))
    return b"k8s\x00" + _field(1, _field(1, b"v1") + _field(2, b"ConfigMap")) + _field(2, body)


def _post(cluster: Any, path: str, data: bytes, ctype: str) -> tuple[int, dict]:
    req = urllib.request.Request(cluster.url + path, data=data, method="POST",
                                 headers={"Content-Type": ctype, "Accept": "application/vnd.kubernetes.protobuf,application/json",
                                          "Authorization": f"Bearer {cluster.token}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_protobuf_configmap_is_read_and_answered_in_json(local_cluster):
    code, body = _post(local_cluster, "/api/v1/namespaces/default/configmaps", _configmap_protobuf(),
                       "application/vnd.kubernetes.protobuf")
    assert code == 201, body
    stored = local_cluster.api.get("configmaps", "default", "cm")
    assert stored["data"] == {"a": "b"} and stored["binaryData"] == {"bin": "AAE="}
    assert stored["metadata"]["labels"] == {"team": "ml"}
    job = b"k8s\x00" + _field(1, _field(1, b"batch/v1") + _field(2, b"Job")) + _field(2, b"")
    code, body = _post(local_cluster, "/apis/batch/v1/namespaces/default/jobs", job, "application/vnd.kubernetes.protobuf")
    assert code == 415 and "send JSON" in body["message"]
    code, body = _post(local_cluster, "/api/v1/namespaces/default/configmaps", b"k8s\x00\xff", "application/vnd.kubernetes.protobuf")
    assert code == 415


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_create_configmap_secret_namespace(local_cluster, tmp_path):
    env = {**os.environ, "KUBECONFIG": str(local_cluster.kubeconfig_path), "HOME": str(tmp_path)}
    for args in (["create", "configmap", "cm", "--from-literal=a=b"], ["create", "secret", "generic", "s",
                 "--from-literal=pw=x"], ["create", "namespace", "team-a"], ["delete", "configmap", "cm"]):
        out = subprocess.run(["kubectl", *args], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, (args, out.stderr)
    assert local_cluster.api.get("secrets", "default", "s")["data"] == {"pw": "eA=="}
