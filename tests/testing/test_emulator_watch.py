"""Watch streams: initial state, resume by resourceVersion, selectors, timeouts and 410 Expired."""

from __future__ import annotations

import json
import threading
import time

import pytest
import urllib3
from kubernetes import watch
from kubernetes.client.rest import ApiException


def _events(k8s, func, *args, limit: int, **kwargs):
    out = []
    w = watch.Watch()
    for ev in w.stream(func, *args, timeout_seconds=5, **kwargs):
        out.append((ev["type"], ev["raw_object"]["metadata"]["name"], ev["raw_object"]["metadata"]["resourceVersion"]))
        if len(out) >= limit:
            w.stop()
    return out


def test_watch_without_rv_lists_then_follows(k8s):
    k8s.core.create_namespaced_config_map("default", {"metadata": {"name": "one"}})

    def later():
        time.sleep(0.2)
        k8s.core.patch_namespaced_config_map("one", "default", {"data": {"a": "1"}})
        k8s.core.delete_namespaced_config_map("one", "default")

    threading.Thread(target=later).start()
    evs = _events(k8s, k8s.core.list_namespaced_config_map, "default", limit=3)
    assert [(t, n) for t, n, _ in evs] == [("ADDED", "one"), ("MODIFIED", "one"), ("DELETED", "one")]
    rvs = [int(rv) for _, _, rv in evs]
    assert rvs == sorted(rvs) and len(set(rvs)) == 3


def test_watch_resumes_from_resource_version(k8s):
    listing = k8s.core.list_namespaced_config_map("default")
    rv = listing.metadata.resource_version
    for name in ("a", "b"):
        k8s.core.create_namespaced_config_map("default", {"metadata": {"name": name}})
    # Resuming replays exactly what happened after `rv`, with no synthetic initial state.
    evs = _events(k8s, k8s.core.list_namespaced_config_map, "default", limit=2, resource_version=rv)
    assert [(t, n) for t, n, _ in evs] == [("ADDED", "a"), ("ADDED", "b")]
    evs = _events(k8s, k8s.core.list_namespaced_config_map, "default", limit=1, resource_version=evs[0][2])
    assert [(t, n) for t, n, _ in evs] == [("ADDED", "b")]


def test_watch_filters_by_namespace_and_label_transitions(k8s):
    rv = k8s.core.list_namespaced_config_map("default").metadata.resource_version
    k8s.core.create_namespaced_config_map("other", {"metadata": {"name": "elsewhere", "labels": {"app": "x"}}})
    k8s.core.create_namespaced_config_map("default", {"metadata": {"name": "m", "labels": {"app": "y"}}})
    k8s.core.patch_namespaced_config_map("m", "default", {"metadata": {"labels": {"app": "x"}}})  # enters selector
    k8s.core.patch_namespaced_config_map("m", "default", {"data": {"k": "v"}})
    k8s.core.patch_namespaced_config_map("m", "default", {"metadata": {"labels": {"app": "z"}}})  # leaves it
    evs = _events(k8s, k8s.core.list_namespaced_config_map, "default", limit=3, resource_version=rv,
                  label_selector="app=x")
    assert [(t, n) for t, n, _ in evs] == [("ADDED", "m"), ("MODIFIED", "m"), ("DELETED", "m")]


def test_timeout_seconds_ends_the_stream(k8s):
    started = time.monotonic()
    evs = list(watch.Watch().stream(k8s.core.list_namespaced_secret, "default", timeout_seconds=1))
    assert evs == [] and 0.9 <= time.monotonic() - started < 3


def test_compacted_resource_version_gets_410(local_cluster, k8s):
    old_rv = k8s.core.list_namespaced_config_map("default").metadata.resource_version
    k8s.core.create_namespaced_config_map("default", {"metadata": {"name": "c"}})
    local_cluster.faults.compact()
    # The raw stream: HTTP 200, then one ERROR event carrying a 410 Status.
    resp = k8s.core.list_namespaced_config_map("default", watch=True, resource_version=old_rv,
                                               _preload_content=False)
    lines = [json.loads(line) for line in resp.data.decode().splitlines() if line]
    assert resp.status == 200 and len(lines) == 1
    assert lines[0]["type"] == "ERROR"
    status = lines[0]["object"]
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")
    assert status["message"].startswith(f"too old resource version: {old_rv}")
    # The official Watch retries once from the same RV, then raises ApiException(410).
    with pytest.raises(ApiException) as e:
        list(watch.Watch().stream(k8s.core.list_namespaced_config_map, "default", resource_version=old_rv))
    assert e.value.status == 410
    # A current RV still works after compaction.
    new_rv = k8s.core.list_namespaced_config_map("default").metadata.resource_version
    k8s.core.create_namespaced_config_map("default", {"metadata": {"name": "d"}})
    evs = _events(k8s, k8s.core.list_namespaced_config_map, "default", limit=1, resource_version=new_rv)
    assert [(t, n) for t, n, _ in evs] == [("ADDED", "d")]


def test_drop_watches_cuts_open_streams(local_cluster, k8s):
    got: list[object] = []

    def consume():
        try:
            for ev in watch.Watch().stream(k8s.core.list_namespaced_pod, "default", _request_timeout=10,
                                           timeout_seconds=10):
                got.append(ev["type"])
            got.append("ended")
        except (urllib3.exceptions.HTTPError, ApiException) as e:
            got.append(type(e).__name__)

    t = threading.Thread(target=consume)
    started = time.monotonic()
    t.start()
    local_cluster.wait_for(lambda: local_cluster.request_log.count(verb="watch", resource="pods") >= 1)
    local_cluster.faults.drop_watches()
    t.join(5)
    assert not t.is_alive() and time.monotonic() - started < 5
    assert got and got[-1] != "ADDED"


def test_bookmarks_carry_the_latest_resource_version(k8s):
    rv = k8s.core.list_namespaced_config_map("default").metadata.resource_version
    k8s.core.create_namespaced_config_map("elsewhere", {"metadata": {"name": "noise"}})
    latest = k8s.core.list_namespaced_config_map("elsewhere").metadata.resource_version
    w = watch.Watch()
    seen = []
    for ev in w.stream(k8s.core.list_namespaced_config_map, "default", resource_version=rv,
                       allow_watch_bookmarks=True, timeout_seconds=3):
        seen.append((ev["type"], ev["raw_object"]["metadata"]["resourceVersion"]))
        w.stop()
    assert seen == [("BOOKMARK", latest)] and w.resource_version == latest


def test_shared_informer_survives_dropped_watches_and_compaction(local_cluster, k8s):
    from kubernetes.informer import SharedInformer

    informer = SharedInformer(k8s.core.list_namespaced_config_map, namespace="default")
    informer.start()
    try:
        k8s.core.create_namespaced_config_map("default", {"metadata": {"name": "first"}})
        local_cluster.wait_for(lambda: informer.cache.get_by_key("default/first"))
        # Move the resourceVersion on where the informer cannot see it, forget the history and
        # cut the stream: resuming from its last RV gets 410, so it must re-list and carry on.
        k8s.core.create_namespaced_config_map("elsewhere", {"metadata": {"name": "unseen"}})
        local_cluster.faults.compact()
        local_cluster.faults.drop_watches()
        k8s.core.create_namespaced_config_map("default", {"metadata": {"name": "second"}})
        local_cluster.wait_for(lambda: informer.cache.get_by_key("default/second"), timeout=8)
        k8s.core.delete_namespaced_config_map("first", "default")
        local_cluster.wait_for(lambda: informer.cache.get_by_key("default/first") is None, timeout=8)
    finally:
        informer.stop()
    # one initial list, one re-list after the 410
    assert local_cluster.request_log.count(verb="list", resource="configmaps") == 2
