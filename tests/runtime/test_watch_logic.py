"""ListWatch against a scripted fake transport: resume from resourceVersion, 410 → re-list, backoff."""

from __future__ import annotations

import json
import threading
import time

from podc.runtime.retry import ApiError
from podc.runtime.watch import ListWatch


def obj(name, rv):
    return {"metadata": {"name": name, "namespace": "d", "uid": f"u-{name}", "resourceVersion": str(rv),
                         "labels": {"a": "b"}}}


class FakeStream:
    def __init__(self, lines, hold):
        self._lines = [json.dumps(x).encode() for x in lines]
        self._hold = hold
        self._closed = threading.Event()

    def __iter__(self):
        for line in self._lines:
            yield line
        if self._hold:
            self._closed.wait(10)

    def close(self):
        self._closed.set()


class FakeTransport:
    def __init__(self, lists, streams):
        self.lists = list(lists)
        self.streams = list(streams)
        self.calls = []

    def request(self, method, path, *, query=None, body=None, raw=False):
        self.calls.append(("list", dict(query or {})))
        item = self.lists.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    def stream(self, path, *, query=None):
        self.calls.append(("watch", dict(query or {})))
        if not self.streams:
            return FakeStream([], hold=True)
        item = self.streams.pop(0)
        if isinstance(item, Exception):
            raise item
        return FakeStream(item, hold=False)


def run_watch(transport, until, timeout=3.0):
    seen = []
    w = ListWatch(transport, "/x", "a=b", lambda k, o: seen.append((k, o["metadata"]["name"])),
                  backoff=lambda n: 0.001)
    w.start()
    deadline = time.monotonic() + timeout
    while not until(seen) and time.monotonic() < deadline:
        time.sleep(0.005)
    w.stop()
    w.join(2)
    assert not w.is_alive()
    return w, seen


def test_resume_from_last_resource_version_and_relist_on_410():
    lists = [
        {"metadata": {"resourceVersion": "5"}, "items": [obj("a", 3), obj("b", 4)]},
        {"metadata": {"resourceVersion": "9"}, "items": [obj("a", 8)]},
    ]
    streams = [
        [{"type": "MODIFIED", "object": obj("a", 6)}],  # then the server drops the stream
        [{"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "7"}}},
         {"type": "ERROR", "object": {"kind": "Status", "code": 410, "message": "too old"}}],
    ]
    t = FakeTransport(lists, streams)
    w, seen = run_watch(t, lambda s: ("DELETED", "b") in s and len(t.calls) >= 5)
    watches = [q for kind, q in t.calls if kind == "watch"]
    assert watches[0]["resourceVersion"] == "5"
    assert watches[1]["resourceVersion"] == "6"  # resumed, not re-listed
    assert watches[2]["resourceVersion"] == "9"  # after the 410 re-list
    assert all(q["labelSelector"] == "a=b" for q in watches)
    assert seen == [("ADDED", "a"), ("ADDED", "b"), ("MODIFIED", "a"), ("DELETED", "b"), ("MODIFIED", "a")]
    assert w.relists == 2


def test_watch_request_failures_back_off_and_reconnect():
    lists = [{"metadata": {"resourceVersion": "1"}, "items": []}]
    streams = [ApiError(503, "busy"), ApiError(0, "refused", kind="connection"),
               [{"type": "ADDED", "object": obj("c", 2)}]]
    t = FakeTransport(lists, streams)
    w, seen = run_watch(t, lambda s: ("ADDED", "c") in s)
    assert seen == [("ADDED", "c")]
    assert [k for k, _ in t.calls].count("list") == 1  # no re-list for transient errors


def test_410_on_watch_request_relists():
    lists = [{"metadata": {"resourceVersion": "1"}, "items": [obj("a", 1)]},
             {"metadata": {"resourceVersion": "4"}, "items": [obj("a", 1), obj("d", 4)]}]
    t = FakeTransport(lists, [ApiError(410, "Expired")])
    w, seen = run_watch(t, lambda s: ("ADDED", "d") in s)
    assert ("ADDED", "d") in seen and ("MODIFIED", "a") in seen
