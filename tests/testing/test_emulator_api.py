"""CRUD, errors, selectors, patches and discovery, driven through the official client."""

from __future__ import annotations

import base64
import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from emulator_helpers import job_body, pod_body, raw_json


def test_job_create_get_list_delete_roundtrip(local_cluster, k8s):
    created = k8s.batch.create_namespaced_job("default", job_body("crud", outcome="sleep"))
    uid = created.metadata.uid
    assert created.metadata.resource_version and int(created.metadata.resource_version) > 0
    # The API server defaults the selector and the pod template labels from the uid.
    assert created.spec.selector.match_labels == {"batch.kubernetes.io/controller-uid": uid}
    labels = created.spec.template.metadata.labels
    assert labels["job-name"] == "crud" and labels["controller-uid"] == uid
    assert created.spec.backoff_limit == 0 and created.spec.completions == 1 and created.spec.parallelism == 1
    got = k8s.batch.read_namespaced_job("crud", "default")
    assert got.metadata.uid == uid
    listing = k8s.batch.list_namespaced_job("default")
    assert [j.metadata.name for j in listing.items] == ["crud"]
    assert int(listing.metadata.resource_version) >= int(created.metadata.resource_version)
    status = raw_json(k8s.batch.delete_namespaced_job, "crud", "default", propagation_policy="Background")
    # client v37 returns the raw Status dict for deletes
    assert status["status"] == "Success" and status["details"]["name"] == "crud"
    with pytest.raises(ApiException) as e:
        k8s.batch.read_namespaced_job("crud", "default")
    assert e.value.status == 404


def test_already_exists_and_not_found_bodies(k8s):
    k8s.core.create_namespaced_config_map("default", {"metadata": {"name": "cfg"}, "data": {"a": "1"}})
    with pytest.raises(ApiException) as e:
        k8s.core.create_namespaced_config_map("default", {"metadata": {"name": "cfg"}, "data": {"a": "2"}})
    body = json.loads(e.value.body)
    assert e.value.status == 409
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": 'configmaps "cfg" already exists', "reason": "AlreadyExists",
                    "details": {"name": "cfg", "kind": "configmaps"}, "code": 409}
    with pytest.raises(ApiException) as e:
        k8s.batch.read_namespaced_job_status("missing", "default")
    body = json.loads(e.value.body)
    assert (e.value.status, body["reason"], body["message"]) == (404, "NotFound", 'jobs.batch "missing" not found')
    assert body["details"] == {"name": "missing", "group": "batch", "kind": "jobs"}


def test_invalid_restart_policy_is_422(k8s):
    with pytest.raises(ApiException) as e:
        k8s.batch.create_namespaced_job("default", job_body("bad", restart_policy="Always"))
    body = json.loads(e.value.body)
    assert e.value.status == 422 and body["reason"] == "Invalid"
    assert 'Unsupported value: "Always"' in body["message"] and body["message"].startswith('Job.batch "bad" is invalid')


def test_generate_name_and_update_conflict(k8s):
    a = k8s.core.create_namespaced_config_map("default", {"metadata": {"generateName": "gen-"}, "data": {}})
    b = k8s.core.create_namespaced_config_map("default", {"metadata": {"generateName": "gen-"}, "data": {}})
    assert a.metadata.name.startswith("gen-") and len(a.metadata.name) == 9 and a.metadata.name != b.metadata.name
    a.data = {"x": "1"}
    updated = k8s.core.replace_namespaced_config_map(a.metadata.name, "default", a)
    assert updated.data == {"x": "1"} and updated.metadata.resource_version != a.metadata.resource_version
    a.data = {"x": "2"}  # still carries the old resourceVersion
    with pytest.raises(ApiException) as e:
        k8s.core.replace_namespaced_config_map(a.metadata.name, "default", a)
    assert e.value.status == 409 and json.loads(e.value.body)["reason"] == "Conflict"


def test_secret_string_data_is_folded_into_data(k8s):
    k8s.core.create_namespaced_secret("default", {"metadata": {"name": "db"}, "stringData": {"password": "s3cret"}})
    secret = k8s.core.read_namespaced_secret("db", "default")
    assert secret.string_data is None and secret.type == "Opaque"
    assert base64.b64decode(secret.data["password"]) == b"s3cret"


def test_label_selectors(k8s):
    for name, labels in [("a", {"tier": "web", "env": "prod"}), ("b", {"tier": "db", "env": "prod"}),
                         ("c", {"tier": "web"}), ("d", {})]:
        k8s.core.create_namespaced_config_map("default", {"metadata": {"name": name, "labels": labels}})

    def names(sel: str) -> list[str]:
        return [c.metadata.name for c in k8s.core.list_namespaced_config_map("default", label_selector=sel).items]

    assert names("tier=web") == ["a", "c"]
    assert names("tier==web,env=prod") == ["a"]
    assert names("tier!=web") == ["b", "d"]
    assert names("tier in (db, web),env") == ["a", "b"]
    assert names("tier notin (web)") == ["b", "d"]
    assert names("!env") == ["c", "d"]
    with pytest.raises(ApiException) as e:
        names("tier in web")
    assert e.value.status == 400


def test_field_selectors(local_cluster, k8s):
    k8s.core.create_namespaced_pod("default", pod_body("runs", outcome="sleep"))
    k8s.core.create_namespaced_pod("default", pod_body("done", outcome="succeed:after=0"))
    local_cluster.wait_for(lambda: len(k8s.core.list_namespaced_pod(
        "default", field_selector="status.phase=Succeeded").items) == 1)
    running = k8s.core.list_namespaced_pod("default", field_selector="status.phase!=Succeeded").items
    assert [p.metadata.name for p in running] == ["runs"]
    assert [p.metadata.name for p in k8s.core.list_pod_for_all_namespaces(field_selector="metadata.name=done").items] == ["done"]
    pod = k8s.core.read_namespaced_pod("runs", "default")
    events = k8s.core.list_namespaced_event(
        "default", field_selector=f"involvedObject.name=runs,involvedObject.kind=Pod,involvedObject.uid={pod.metadata.uid}")
    assert events.items and {e.involved_object.name for e in events.items} == {"runs"}
    assert "Scheduled" in {e.reason for e in events.items}
    with pytest.raises(ApiException) as e:
        k8s.core.list_namespaced_pod("default", field_selector="spec.bogus=1")
    assert e.value.status == 400 and "field label not supported" in e.value.body


def test_patch_flavours_and_status_subresource(k8s):
    k8s.batch.create_namespaced_job("default", job_body("p", outcome="sleep", labels={"keep": "1"}))
    k8s.batch.patch_namespaced_job("p", "default", {"metadata": {"labels": {"added": "yes", "job-name": None}}})
    job = k8s.batch.read_namespaced_job("p", "default")
    assert job.metadata.labels["added"] == "yes" and "job-name" not in job.metadata.labels
    k8s.batch.patch_namespaced_job("p", "default", [{"op": "add", "path": "/metadata/annotations", "value": {"a": "b"}}])
    assert k8s.batch.read_namespaced_job("p", "default").metadata.annotations == {"a": "b"}
    k8s.batch.patch_namespaced_job("p", "default", {"metadata": {"annotations": {"c": "d"}}},
                                   _content_type="application/merge-patch+json")
    assert k8s.batch.read_namespaced_job("p", "default").metadata.annotations == {"a": "b", "c": "d"}
    # A status write on the main resource is ignored; the /status subresource takes it
    # (conditions merge by type, so the controller keeps a foreign condition).
    custom = {"type": "Custom", "status": "True", "reason": "Tested"}
    k8s.batch.patch_namespaced_job("p", "default", {"status": {"conditions": [custom]}})
    assert not k8s.batch.read_namespaced_job("p", "default").status.conditions
    k8s.batch.patch_namespaced_job_status("p", "default", {"status": {"conditions": [custom]}})
    conds = k8s.batch.read_namespaced_job_status("p", "default").status.conditions
    assert [(c.type, c.reason) for c in conds] == [("Custom", "Tested")]


def test_strategic_merge_of_containers_by_name(k8s):
    body = pod_body("smp", outcome="sleep")
    body["spec"]["containers"].append({"name": "side", "image": "busybox:1.35"})
    k8s.core.create_namespaced_pod("default", body)
    k8s.core.patch_namespaced_pod("smp", "default", {"spec": {"containers": [{"name": "side", "image": "busybox:1.37"}]}})
    pod = k8s.core.read_namespaced_pod("smp", "default")
    assert [(c.name, c.image) for c in pod.spec.containers] == [("main", "busybox:1.36"), ("side", "busybox:1.37")]


def test_discovery_and_version(local_cluster, k8s):
    version = client.VersionApi(k8s.api).get_code()
    assert version.major == "1" and version.git_version.startswith("v1.")
    groups = client.ApisApi(k8s.api).get_api_versions()
    assert [g.name for g in groups.groups] == ["batch"]
    resources = client.BatchV1Api(k8s.api).get_api_resources()
    assert {"jobs", "jobs/status"} <= {r.name for r in resources.resources}
    core = client.CoreV1Api(k8s.api).get_api_resources()
    assert {"pods", "pods/log", "events", "secrets", "configmaps", "namespaces"} <= {r.name for r in core.resources}
    assert client.CoreApi(k8s.api).get_api_versions().versions == ["v1"]


def test_namespaces_exist_implicitly(k8s):
    k8s.core.create_namespaced_config_map("team-a", {"metadata": {"name": "x"}})
    names = {n.metadata.name for n in k8s.core.list_namespace().items}
    assert {"default", "kube-system", "team-a"} <= names
    assert k8s.core.read_namespace("team-a").status.phase == "Active"


def test_store_access_without_http(local_cluster, k8s):
    k8s.core.create_namespaced_config_map("default", {"metadata": {"name": "direct"}, "data": {"k": "v"}})
    before = len(local_cluster.request_log)
    [cm] = local_cluster.store.list("configmaps", "default")
    assert cm["data"] == {"k": "v"}
    cm["data"]["k"] = "mutated"  # a copy: the store is unaffected
    assert local_cluster.store.get("configmaps", "default", "direct")["data"] == {"k": "v"}
    assert len(local_cluster.request_log) == before
    assert local_cluster.request_log.count(verb="create", resource="configmaps") == 1


def test_pagination_with_limit_and_continue(k8s):
    for i in range(5):
        k8s.core.create_namespaced_config_map("default", {"metadata": {"name": f"cm-{i}"}})
    first = k8s.core.list_namespaced_config_map("default", limit=2)
    assert [c.metadata.name for c in first.items] == ["cm-0", "cm-1"]
    assert first.metadata.remaining_item_count == 3 and first.metadata._continue
    second = k8s.core.list_namespaced_config_map("default", limit=2, _continue=first.metadata._continue)
    third = k8s.core.list_namespaced_config_map("default", limit=2, _continue=second.metadata._continue)
    assert [c.metadata.name for c in second.items + third.items] == ["cm-2", "cm-3", "cm-4"]
    assert not third.metadata._continue


def test_namespace_deletion_removes_its_content(local_cluster, k8s):
    k8s.core.create_namespaced_config_map("scratch", {"metadata": {"name": "x"}})
    k8s.core.create_namespaced_pod("scratch", {"metadata": {"name": "p", "annotations": {
        "podc.dev/emulator-outcome": "sleep"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    local_cluster.wait_for(lambda: local_cluster.store.get("pods", "scratch", "p")["status"]["phase"] == "Running")
    ns = raw_json(k8s.core.delete_namespace, "scratch")
    assert ns["status"]["phase"] == "Terminating"  # client v37 returns a dict from deletes
    local_cluster.wait_for(lambda: local_cluster.store.get("namespaces", None, "scratch") is None)
    assert local_cluster.store.list("pods", "scratch") == [] and local_cluster.store.list("configmaps", "scratch") == []


def test_legacy_watch_path(local_cluster, k8s):
    import json as _json
    import urllib.request

    k8s.core.create_namespaced_config_map("default", {"metadata": {"name": "w"}})
    url = f"{local_cluster.url}/api/v1/watch/namespaces/default/configmaps?timeoutSeconds=1"
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {local_cluster.token}"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        lines = [_json.loads(line) for line in resp.read().splitlines() if line]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in lines] == [("ADDED", "w")]


def test_job_template_is_immutable_but_a_fresh_body_put_is_fine(k8s):
    body = job_body("imm", outcome="sleep")
    k8s.batch.create_namespaced_job("default", body)
    # PUT a body built from scratch (no server defaults, no resourceVersion = unconditional):
    # only metadata changes, so it is accepted.
    body["metadata"]["labels"] = {"team": "data"}
    updated = k8s.batch.replace_namespaced_job("imm", "default", body)
    assert updated.metadata.labels["team"] == "data"
    body["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:9"
    with pytest.raises(ApiException) as e:
        k8s.batch.replace_namespaced_job("imm", "default", body)
    assert e.value.status == 422 and "spec.template: Invalid value" in json.loads(e.value.body)["message"]


def test_chunked_request_body(local_cluster):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", local_cluster.port, timeout=5)
    body = json.dumps({"metadata": {"name": "chunky"}, "data": {"a": "1"}}).encode()
    conn.request("POST", "/api/v1/namespaces/default/configmaps", body=iter([body[:10], body[10:]]),
                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {local_cluster.token}"},
                 encode_chunked=True)
    resp = conn.getresponse()
    assert resp.status == 201 and json.loads(resp.read())["metadata"]["name"] == "chunky"
    conn.request("GET", "/api/v1/namespaces/default/configmaps/chunky",  # same connection still usable
                 headers={"Authorization": f"Bearer {local_cluster.token}"})
    resp = conn.getresponse()
    assert resp.status == 200 and json.loads(resp.read())["data"] == {"a": "1"}
    conn.close()


def test_bad_query_numbers_are_400_not_crashes(local_cluster):
    import urllib.error
    import urllib.request

    for query in ("limit=x", "watch=true&timeoutSeconds=soon"):
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(urllib.request.Request(
                f"{local_cluster.url}/api/v1/namespaces/default/pods?{query}",
                headers={"Authorization": f"Bearer {local_cluster.token}"}), timeout=5)
        assert e.value.code == 400 and json.loads(e.value.read())["reason"] == "BadRequest"
    assert local_cluster.internal_errors == []
