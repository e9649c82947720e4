"""HTTP and Events behaviour of other implementations and of what sits in front of them: HTML
error pages from proxies, Retry-After as an HTTP-date, no deletecollection, Event field
selectors refused, Events written through events.k8s.io/v1."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest
from compat_support import assert_clean, compat_env
from podc.runtime import ApiError, JobPhase
from podc.runtime.retry import ExponentialBackoff, parse_retry_after
from rt_builders import job_manifest

WAIT = 15.0


def test_html_error_pages_are_retried_and_reported_as_text():
    with compat_env(error_body="html") as (cluster, make):
        rt = make()
        cluster.faults.fail(verb="create", resource="jobs", status=503, count=2)
        name = rt.submit(job_manifest("html", "succeed")).name
        assert rt.wait([name], timeout=WAIT)[name].succeeded
        assert cluster.request_log.count(verb="create", resource="jobs", status=503) == 2
        cluster.faults.fail(verb="create", resource="jobs", status=403)
        with pytest.raises(ApiError) as info:
            rt.submit(job_manifest("html2", "succeed"))
        err = info.value
        assert err.status == 403 and "403 Forbidden" in err.message and "<" not in err.message
        assert "nginx" in err.message
        assert_clean(cluster, rt)


def test_retry_after_http_date_is_slept():
    with compat_env(retry_after_format="http-date") as (cluster, make):
        rt = make()
        rt.start()
        cluster.faults.fail(verb="create", resource="jobs", status=429, count=1, retry_after=2)
        t0 = time.monotonic()
        name = rt.submit(job_manifest("date", "succeed")).name
        took = time.monotonic() - t0
        record = cluster.request_log.filter(verb="create", status=429)
        assert record, "the 429 was not sent"
        # The date has whole-second precision: 2 s from now is 1-2 s of sleep (not the 10 ms backoff).
        assert 0.9 <= took < 4.0, took
        assert rt.wait([name], timeout=WAIT)[name].succeeded
        assert_clean(cluster, rt)


def test_parse_retry_after_forms():
    now = 1_800_000_000.0
    assert parse_retry_after("3") == 3.0 and parse_retry_after("0.2") == 0.2
    assert parse_retry_after(formatdate(now + 7, usegmt=True), now=now) == pytest.approx(7.0)
    assert parse_retry_after(formatdate(now - 30, usegmt=True), now=now) == 0.0  # in the past
    assert parse_retry_after("soon") is None and parse_retry_after("") is None


def test_retry_after_is_honoured_on_503_too():
    err = ApiError(503, "down for maintenance", retry_after=1.5)
    assert ExponentialBackoff(max_retry_after=5)(err, 1) == 1.5
    not_json = ApiError(200, "login page", kind="protocol")
    assert ExponentialBackoff()(not_json, 1) is None


def test_cancel_run_without_deletecollection():
    with compat_env(deletecollection=False) as (cluster, make):
        rt = make()
        names = [rt.submit(job_manifest(f"d{i}", "sleep")).name for i in range(3)]
        cluster.wait_for(lambda: len(cluster.store.list("pods", "default")) == 3, timeout=5)
        result = rt.cancel_run(confirm_timeout=5)
        assert result.clean, result
        assert cluster.request_log.count(verb="deletecollection", resource="jobs", status=405) == 1
        assert cluster.request_log.count(verb="delete", resource="jobs") >= 3
        assert all(rt.state(n).reason.code == "Cancelled" for n in names)


@pytest.mark.parametrize("knobs", [{"event_field_selectors": False}, {"event_style": "events.k8s.io"},
                                   {"event_field_selectors": False, "event_style": "events.k8s.io"}])
def test_failed_create_and_failed_mount_from_events_of_any_shape(knobs):
    with compat_env(**knobs) as (cluster, make):
        rt = make(timeouts={"start": 0.8})
        sa = rt.submit(job_manifest("sa", "succeed", pod_spec={"serviceAccountName": "robot"})).name
        vol = rt.submit(job_manifest("vol", "succeed", pod_spec={
            "volumes": [{"name": "creds", "secret": {"secretName": "creds"}}]})).name
        final = rt.wait([sa, vol], timeout=WAIT)
        assert final[sa].phase is JobPhase.FAILED and final[sa].reason.code == "FailedCreate"
        assert 'serviceaccount "robot" not found' in final[sa].reason.message
        assert final[vol].reason.code == "FailedMount"
        assert 'secret "creds" not found' in final[vol].reason.message
        if knobs.get("event_style"):
            ev = cluster.store.list("events", "default")
            assert all("lastTimestamp" not in e for e in ev) and any("eventTime" in e for e in ev)
        if knobs.get("event_field_selectors") is False:
            assert cluster.request_log.count(verb="list", resource="events", status=400) >= 1
        assert_clean(cluster, rt)


class _EventsTransport:
    """Answers event lists like a server with restricted field selectors or no core/v1 Events."""

    def __init__(self, refuse: int, items):
        self.refuse, self.items, self.calls = refuse, items, []

    def request(self, method, path, *, query=None, body=None, raw=False):
        self.calls.append((path, dict(query or {})))
        if (query or {}).get("fieldSelector") or (self.refuse == 404 and path.startswith("/api/v1")):
            raise ApiError(self.refuse, "nope")
        return {"metadata": {"resourceVersion": "x"}, "items": self.items}


def test_job_events_without_field_selectors_are_filtered_client_side():
    from podc.runtime.api import job_events

    mine = {"involvedObject": {"kind": "Job", "name": "j"}, "reason": "FailedCreate", "message": "m"}
    pods = {"involvedObject": {"kind": "Pod", "name": "j-abcde"}, "reason": "FailedMount", "message": "v"}
    other = {"involvedObject": {"kind": "Job", "name": "someone-else"}, "reason": "FailedCreate"}
    t = _EventsTransport(400, [mine, pods, other])
    assert job_events(t, "ns", "j", ["j-abcde"]) == [mine, pods]
    assert [c[1].get("fieldSelector") is None for c in t.calls] == [False, True]


def test_job_events_from_events_k8s_io_when_core_events_are_not_served():
    from podc.runtime.api import job_events

    new = {"regarding": {"kind": "Job", "name": "j"}, "reason": "FailedCreate", "note": "Error creating: quota",
           "type": "Warning", "eventTime": "2026-11-24T05:00:00.000000Z",
           "series": {"count": 3, "lastObservedTime": "2026-11-24T05:00:09.000000Z"}}
    t = _EventsTransport(404, [new])
    (event,) = job_events(t, "ns", "j")
    assert t.calls[-1][0] == "/apis/events.k8s.io/v1/namespaces/ns/events"
    assert event["message"] == "Error creating: quota" and event["count"] == 3
    assert event["involvedObject"] == {"kind": "Job", "name": "j"}
    assert event["lastTimestamp"] == "2026-11-24T05:00:09.000000Z"
