"""The library's bounds: deadlines, capped streams, and no podc thread left after ``close()``."""

from __future__ import annotations

import threading
import time
import tracemalloc

import pytest

from hostile import Hostile
from podc.runtime import (ApiError, ExponentialBackoff, Runtime, connect, deadline_scope,
                          podc_threads)
from podc.runtime.deadline import watchdog
from podc.runtime.redact import Redactor
from podc.runtime.watch import ListWatch
from rt_builders import job_manifest


def transport_to(srv, tmp_path, **kw):
    from kubernetes import client

    cfg = client.Configuration()
    cfg.host = srv.url
    cfg.api_key = {"BearerToken": "Bearer t0ken-for-tests-123456"}
    return connect(api_client=client.ApiClient(cfg), retry=kw.pop("retry", None) or
                   ExponentialBackoff(base=0.01, cap=0.05, max_attempts=4), **kw)


def no_podc_threads(within: float = 3.0) -> list[str]:
    end = time.monotonic() + within
    while podc_threads() and time.monotonic() < end:
        watchdog.stop_if_idle(0.2)
        time.sleep(0.05)
    return [t.name for t in podc_threads()]


@pytest.fixture(autouse=True)
def _threads_clean():
    yield
    assert no_podc_threads() == []


def test_a_watch_line_without_newline_is_capped(tmp_path):
    def endless(h):
        if not h.is_watch:
            return False
        h.stream_start()
        chunk = b"x" * 65536
        for _ in range(40 * 16):  # 40 MiB without a newline
            if h.stopping:
                break
            h.wfile.write(chunk)
        return True

    with Hostile(endless) as srv:
        transport = transport_to(srv, tmp_path)
        transport.max_line_bytes = 1024 * 1024
        tracemalloc.start()
        try:
            stream = transport.stream("/api/v1/namespaces/default/pods", query={"watch": True})
            with pytest.raises(ApiError) as info:
                for _ in stream:
                    pass
            stream.close()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert info.value.reason == "LineTooLong" and info.value.kind == "protocol"
    assert peak < 8 * 1024 * 1024, peak  # the line cap, not the 40 MiB sent


def test_a_watch_that_sends_junk_lines_keeps_running_and_recovers(tmp_path):
    calls = {"watch": 0}

    def junk_once(h):
        if not h.is_watch:
            return False
        calls["watch"] += 1
        if calls["watch"] > 1:
            return False  # then a normal, silent watch
        h.stream_start()
        h.wfile.write(b"x" * (300 * 1024))
        return True

    with Hostile(junk_once) as srv:
        transport = transport_to(srv, tmp_path)
        transport.max_line_bytes = 128 * 1024
        seen = []
        watch = ListWatch(transport, "/api/v1/namespaces/default/pods", "a=b",
                          lambda kind, obj: seen.append(kind), backoff=lambda n: 0.05,
                          name="podc-watch-test")
        watch.start()
        deadline = time.monotonic() + 10
        while calls["watch"] < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        watch.stop()
        watch.join(5)
    assert calls["watch"] >= 2 and not watch.is_alive()
    assert isinstance(watch.last_error, ApiError) and watch.last_error.reason == "LineTooLong"


def test_deadline_scope_bounds_a_request_and_its_retries(tmp_path):
    def slow_503(h):
        h.body()
        h.send_status(503, "ServiceUnavailable", "busy", {"Retry-After": "1"})
        return True

    with Hostile(slow_503) as srv:
        transport = transport_to(srv, tmp_path, retry=ExponentialBackoff(max_attempts=50, max_retry_after=5))
        t0 = time.monotonic()
        with deadline_scope(2.5), pytest.raises(ApiError) as info:
            transport.request("GET", "/api/v1/namespaces/default/pods")
        took = time.monotonic() - t0
    assert took < 4.5, took
    assert info.value.kind == "deadline" and "gave up after" in str(info.value)


def test_submit_timeout_bounds_a_stalled_create(tmp_path):
    def stall_create(h):
        if h.command != "POST":
            return False
        h.body()
        h.server.stopping.wait(30)  # never answers
        return True

    with Hostile(stall_create) as srv:
        rt = Runtime(transport_to(srv, tmp_path), run_id="stall", namespace="default")
        try:
            rt.start(sync_timeout=10)
            t0 = time.monotonic()
            with pytest.raises(ApiError) as info:
                rt.submit(job_manifest("a"), timeout=1.5)
            assert time.monotonic() - t0 < 4.0
            assert info.value.kind == "deadline"
        finally:
            assert rt.close(timeout=5)


def test_close_ends_threads_blocked_in_requests(tmp_path):
    def never_answer(h):
        h.server.stopping.wait(60)  # headers never come: list, watch, everything
        return True

    with Hostile(never_answer) as srv:
        rt = Runtime(transport_to(srv, tmp_path), run_id="blocked", namespace="default")
        starter = threading.Thread(target=lambda: pytest.raises(Exception, rt.start, 60))
        starter.start()
        time.sleep(0.5)  # both watches are now blocked waiting for headers
        assert len(podc_threads()) >= 3
        t0 = time.monotonic()
        assert rt.close(timeout=5)
        assert time.monotonic() - t0 < 5
        starter.join(5)
        assert not starter.is_alive()


def test_a_failed_start_leaves_no_thread_and_stays_failed(tmp_path):
    def forbid(h):
        h.body()
        h.send_status(403, "Forbidden", "nope")
        return True

    with Hostile(forbid) as srv:
        rt = Runtime(transport_to(srv, tmp_path), run_id="denied", namespace="default")
        with pytest.raises(ApiError) as first:
            rt.start()
        assert first.value.status == 403
        with pytest.raises(ApiError):
            rt.submit(job_manifest("a"))  # the same error, no new threads
    assert no_podc_threads() == []


def test_close_after_a_normal_run_leaves_no_podc_thread(make_runtime, cluster):
    rt = make_runtime()
    names = [rt.submit(job_manifest(f"j{i}", "succeed")).name for i in range(3)]
    logs = list(rt.stream_logs(names[0], timeout=5))
    assert rt.wait(names, timeout=15)[names[0]].succeeded
    assert isinstance(logs, list)
    assert rt.close(timeout=5)
    assert [t.name for t in podc_threads()] == []  # at once: close() joined them all


def test_stream_logs_timeout_bounds_a_silent_follow(make_runtime, cluster):
    rt = make_runtime()
    name = rt.submit(job_manifest("quiet", "sleep")).name
    t0 = time.monotonic()
    assert list(rt.stream_logs(name, timeout=1.5)) == []
    assert time.monotonic() - t0 < 4
    rt.cancel_run(confirm_timeout=5)
    assert rt.close()


def test_redactor_masks_tokens_headers_and_key_data():
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1234567890abcdefghij\n-----END RSA PRIVATE KEY-----"
    r = Redactor(["sekret-token-value", key])
    text = ("Authorization: Bearer sekret-token-value\nx-api-key: abc123xyz\n"
            f"cookie=session=abcdef; basic dXNlcjpwYXNzd29yZA== {key} MIIEowIBAAKCAQEA1234567890abcdefghij")
    masked = r(text)
    for secret in ("sekret-token-value", "abc123xyz", "session=abcdef", "dXNlcjpwYXNzd29yZA==",
                   "MIIEowIBAAKCAQEA1234567890abcdefghij"):
        assert secret not in masked
    assert r("jobs.batch is forbidden: User \"ci\" cannot create") == \
        "jobs.batch is forbidden: User \"ci\" cannot create"
