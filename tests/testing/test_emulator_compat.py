"""The opt-in compat knobs (podc.testing.compat): each one changes exactly the documented
behaviour, over plain HTTP, so clients can be tested against other implementations' ways."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from email.utils import parsedate_to_datetime

import pytest
from emulator_helpers import job_body, wait_job_finished
from podc.testing import LocalCluster

JOBS = "/apis/batch/v1/namespaces/default/jobs"


def _http(cluster, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(cluster.url + path, data=data, method=method,
                                 headers={"Content-Type": "application/json",
                                          "Authorization": f"Bearer {cluster.token}"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_unknown_or_bad_knobs_are_refused():
    with pytest.raises(ValueError, match="unknown compat knob 'bookmark'"):
        LocalCluster(compat={"bookmark": False})
    with pytest.raises(ValueError, match="watch_expired"):
        LocalCluster(compat={"watch_expired": "sometimes"})
    with pytest.raises(ValueError, match="paginate"):
        LocalCluster(compat={"paginate": -1})


def test_paginate_deletecollection_and_event_selectors():
    with LocalCluster(compat={"paginate": 2, "deletecollection": False, "event_field_selectors": False}) as c:
        for i in range(3):
            assert _http(c, "POST", JOBS, job_body(f"j{i}", outcome="sleep"))[0] == 201
        status, _, raw = _http(c, "GET", JOBS)
        page = json.loads(raw)
        assert status == 200 and len(page["items"]) == 2 and page["metadata"]["continue"]
        status, _, raw = _http(c, "GET", JOBS + "?continue=" + page["metadata"]["continue"])
        assert [i["metadata"]["name"] for i in json.loads(raw)["items"]] == ["j2"]
        assert _http(c, "DELETE", JOBS)[0] == 405
        status, _, raw = _http(c, "GET", "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dj0")
        assert status == 400 and json.loads(raw)["reason"] == "BadRequest"
        assert _http(c, "GET", "/api/v1/namespaces/default/events?limit=500")[0] == 200


@pytest.mark.parametrize("style", ["http", "event500"])
def test_watch_expired_styles(style):
    with LocalCluster(compat={"watch_expired": style}) as c:
        _http(c, "POST", JOBS, job_body("a", outcome="sleep"))
        c.faults.compact()
        status, _, raw = _http(c, "GET", JOBS + "?watch=true&resourceVersion=1&timeoutSeconds=1")
        if style == "http":
            assert status == 410 and json.loads(raw)["reason"] == "Expired"
        else:
            event = json.loads(raw.splitlines()[0])
            assert status == 200 and event["type"] == "ERROR"
            assert event["object"]["code"] == 500 and "compacted" in event["object"]["message"]


def test_no_bookmarks_and_watch_timeout_cap():
    with LocalCluster(compat={"bookmarks": False, "watch_timeout_cap": 0.5}) as c:
        _http(c, "POST", JOBS, job_body("a", outcome="succeed"))
        wait_job_finished(c, "a")
        t0 = time.monotonic()
        status, _, raw = _http(c, "GET", JOBS + "?watch=true&resourceVersion=1&allowWatchBookmarks=true"
                               "&timeoutSeconds=30")
        assert status == 200 and time.monotonic() - t0 < 3
        types = {json.loads(line)["type"] for line in raw.splitlines()}
        assert "BOOKMARK" not in types and "ADDED" in types


def test_html_errors_and_http_date_retry_after():
    with LocalCluster(compat={"error_body": "html", "retry_after_format": "http-date"}) as c:
        c.faults.fail(verb="list", resource="jobs", status=429, retry_after=5)
        status, headers, raw = _http(c, "GET", JOBS)
        assert status == 429 and headers["Content-Type"] == "text/html" and raw.startswith(b"<html>")
        left = parsedate_to_datetime(headers["Retry-After"]).timestamp() - time.time()
        assert 3 <= left <= 6


def test_job_condition_sequences_and_pod_labels():
    with LocalCluster(compat={"job_conditions": "legacy", "pod_labels": "legacy"}) as c:
        _http(c, "POST", JOBS, job_body("old", outcome="succeed"))
        wait_job_finished(c, "old")
        assert [x["type"] for x in c.job("old")["status"]["conditions"]] == ["Complete"]
        labels = c.pods_of("old")[0]["metadata"]["labels"]
        assert "job-name" in labels and "batch.kubernetes.io/job-name" not in labels
    with LocalCluster(compat={"job_conditions": "interim", "final_condition_delay": 1.0}) as c:
        _http(c, "POST", JOBS, job_body("new", outcome="exit:code=1"))
        c.wait_for(lambda: any(x["type"] == "FailureTarget" for x in
                               (c.job("new").get("status") or {}).get("conditions", [])), timeout=5)
        assert c.job_condition("new") is None
        t0 = time.monotonic()
        wait_job_finished(c, "new")
        assert time.monotonic() - t0 >= 0.5


def test_no_job_controller_and_events_api_style():
    with LocalCluster(compat={"no_job_controller": True, "event_style": "events.k8s.io"}) as c:
        _http(c, "POST", JOBS, job_body("idle", outcome="succeed"))
        time.sleep(0.3)
        job = c.job("idle")
        assert c.store.list("pods", "default") == [] and not job.get("status")
        assert job["spec"]["template"]["metadata"]["labels"]["batch.kubernetes.io/job-name"] == "idle"
        c.recorder.emit(job, "Warning", "FailedCreate", "Error creating: nope", "job-controller")
        c.recorder.emit(job, "Warning", "FailedCreate", "Error creating: nope", "job-controller")
        (event,) = c.events_for("idle", kind="Job")
        assert "lastTimestamp" not in event and "firstTimestamp" not in event
        assert event["eventTime"].endswith("Z") and event["series"]["count"] == 2
