"""Watch and list behaviour of other implementations: HTTP 410 on the watch request, a 500
"too old resource version" ERROR event, no bookmarks, streams that end early, paged lists."""

from __future__ import annotations

import json
import threading
import time

import pytest
from compat_support import assert_clean, compat_env
from podc.runtime.retry import ApiError
from podc.runtime.watch import ListWatch, list_all
from rt_builders import job_manifest

WAIT = 15.0


@pytest.mark.parametrize("style", ["http", "event500", "event"])
def test_expired_resource_version_in_any_form_relists(style):
    with compat_env(watch_expired=style) as (cluster, make):
        rt = make()
        rt.start()
        blocks = [cluster.faults.fail(verb="watch", resource=r, status=503, count=10_000)
                  for r in ("jobs", "pods")]
        cluster.faults.drop_watches()
        names = [rt.submit(job_manifest(f"x{i}", "succeed:after=0.05")).name for i in range(3)]
        cluster.wait_for(lambda: all(cluster.job_condition(n) for n in names), timeout=5)
        cluster.faults.compact()
        for rule in blocks:
            rule.remaining = 0
        final = rt.wait(names, timeout=WAIT)
        assert all(final[n].succeeded for n in names), final
        assert rt._job_watch.relists >= 2
        cluster.wait_for(lambda: rt._pod_watch.relists >= 2, timeout=5)
        if style == "http":
            assert cluster.request_log.count(verb="watch", status=410) >= 1
        assert_clean(cluster, rt)


def test_no_bookmarks_and_watches_ended_every_second_resume_without_relisting():
    with compat_env(bookmarks=False, watch_timeout_cap=0.5) as (cluster, make):
        rt = make()
        rt.start()
        time.sleep(1.3)  # a few silent stream ends while idle
        names = [rt.submit(job_manifest(f"b{i}", "succeed:after=0.3")).name for i in range(2)]
        final = rt.wait(names, timeout=WAIT)
        assert all(final[n].succeeded for n in names)
        assert rt._job_watch.reconnects >= 2 and rt._job_watch.relists == 1
        watches = cluster.request_log.filter(verb="watch", resource="jobs")
        assert all(r.query.get("allowWatchBookmarks") == "true" for r in watches)
        assert_clean(cluster, rt)


@pytest.mark.parametrize("asked", [0, 2])
def test_paged_lists_are_followed_on_attach_and_cancel(asked):
    # asked=0: the client asks for everything and the server pages anyway (a proxy, another
    # implementation); asked=2: the client pages itself with limit/continue.
    with compat_env(paginate=2 if not asked else 0) as (cluster, make):
        first = make("paged-run")
        names = [first.submit(job_manifest(f"p{i}", "sleep")).name for i in range(5)]
        first.close()
        again = make("paged-run")
        again.transport.list_page_size = asked
        states = again.attach()
        assert sorted(states) == sorted(names)  # all five, from three pages
        pages = [r for r in cluster.request_log.filter(verb="list", resource="jobs") if "continue" in r.query]
        assert len(pages) == 2  # the second runtime's list: 2 + 2 + 1 Jobs
        if asked:
            assert all(r.query.get("limit") == "2" for r in pages)
        assert_clean(cluster, again)


# -- ListWatch on a scripted transport ---------------------------------------------------------
class _Stream:
    def __init__(self, events, hold=False):
        self._lines = [json.dumps(e).encode() for e in events]
        self._hold, self._closed = hold, threading.Event()

    def __iter__(self):
        yield from self._lines
        if self._hold:
            self._closed.wait(5)

    def close(self):
        self._closed.set()


class _Transport:
    def __init__(self, lists, streams):
        self.lists, self.streams, self.calls = list(lists), list(streams), []

    def request(self, method, path, *, query=None, body=None, raw=False):
        self.calls.append(("list", dict(query or {})))
        return self.lists.pop(0)

    def stream(self, path, *, query=None):
        self.calls.append(("watch", dict(query or {})))
        return _Stream(self.streams.pop(0)) if self.streams else _Stream([], hold=True)


def _obj(name, rv):
    return {"metadata": {"name": name, "uid": f"u-{name}", "resourceVersion": rv, "labels": {"a": "b"}}}


@pytest.mark.parametrize("status", [
    {"kind": "Status", "code": 500, "reason": "InternalError", "message": "etcdserver: request timed out"},
    {"kind": "Status", "code": 504, "reason": "Timeout", "message": "Too large resource version: 99, current: 7"},
    {"kind": "Status", "message": "something went wrong"},  # no code at all
])
def test_any_error_event_relists_instead_of_retrying_the_same_version(status):
    t = _Transport(
        lists=[{"metadata": {"resourceVersion": "a1"}, "items": [_obj("x", "a1")]},
               {"metadata": {"resourceVersion": "b7"}, "items": [_obj("x", "b7"), _obj("y", "b6")]}],
        streams=[[{"type": "ERROR", "object": status}]])
    seen = []
    w = ListWatch(t, "/x", "a=b", lambda k, o: seen.append((k, o["metadata"]["name"])), backoff=lambda n: 0.001)
    w.start()
    deadline = time.monotonic() + 3
    while ("ADDED", "y") not in seen and time.monotonic() < deadline:
        time.sleep(0.005)
    w.stop()
    w.join(2)
    assert ("ADDED", "y") in seen
    assert [c[0] for c in t.calls[:3]] == ["list", "watch", "list"]
    assert t.calls[3][1]["resourceVersion"] == "b7", t.calls  # opaque string, used as given


def test_list_all_follows_continue_dedups_and_keeps_the_first_version():
    t = _Transport(lists=[
        {"metadata": {"resourceVersion": "r1", "continue": "c1"}, "items": [_obj("a", "1"), _obj("b", "2")]},
        {"metadata": {"resourceVersion": "r2", "continue": "c2"}, "items": [_obj("b", "3")]},
        {"metadata": {"resourceVersion": "r3"}, "items": [_obj("c", "4")]},
    ], streams=[])
    data = list_all(t, "/x", {"labelSelector": "a=b"})
    assert [i["metadata"]["name"] for i in data["items"]] == ["a", "b", "c"]
    assert data["items"][1]["metadata"]["resourceVersion"] == "3"
    assert data["metadata"] == {"resourceVersion": "r1"}
    assert [c[1].get("continue") for c in t.calls] == [None, "c1", "c2"]
    assert all(c[1]["labelSelector"] == "a=b" for c in t.calls)


def test_list_all_restarts_when_the_continue_token_expired():
    class Expiring(_Transport):
        def request(self, method, path, *, query=None, body=None, raw=False):
            if (query or {}).get("continue") == "old":
                self.calls.append(("list", dict(query)))
                raise ApiError(410, "The provided continue parameter is too old", reason="Expired")
            return super().request(method, path, query=query)

    t = Expiring(lists=[{"metadata": {"resourceVersion": "1", "continue": "old"}, "items": [_obj("a", "1")]},
                        {"metadata": {"resourceVersion": "5"}, "items": [_obj("a", "4"), _obj("b", "5")]}],
                 streams=[])
    data = list_all(t, "/x", {})
    assert [i["metadata"]["resourceVersion"] for i in data["items"]] == ["4", "5"]


def test_a_server_that_ignores_label_selectors_does_not_leak_other_objects_in():
    with compat_env(ignore_label_selectors=True) as (cluster, make):
        other = make("someone-else")
        foreign = other.submit(job_manifest("theirs", "sleep")).name
        cluster.wait_for(lambda: cluster.pods_of(foreign), timeout=5)
        rt = make("mine")
        name = rt.submit(job_manifest("mine", "succeed:after=0.1")).name
        assert rt.wait([name], timeout=WAIT)[name].succeeded
        assert set(rt.states()) == {name}
        assert not rt._pending_pods  # the other run's Pod was never taken in
        result = rt.cancel_run(confirm_timeout=5)
        assert result.clean and cluster.job(foreign) is not None  # the other run's Job is untouched
        other.cancel_run(confirm_timeout=5)


def test_watch_reconnect_honours_retry_after():
    with compat_env() as (cluster, make):
        rt = make()
        rt.start()
        cluster.wait_for(lambda: cluster.request_log.count(verb="watch", resource="jobs", status=200) >= 1,
                         timeout=5)
        cluster.faults.fail(verb="watch", resource="jobs", status=429, count=1, retry_after=1)
        cluster.faults.drop_watches()
        cluster.wait_for(lambda: len([r for r in cluster.request_log.filter(verb="watch", resource="jobs")
                                      if r.status == 200]) >= 2, timeout=5)
        watches = cluster.request_log.filter(verb="watch", resource="jobs")
        refused = next(r for r in watches if r.status == 429)
        after = [r for r in watches if r.timestamp > refused.timestamp]
        assert after and after[0].timestamp - refused.timestamp >= 0.9  # not the 10 ms backoff
