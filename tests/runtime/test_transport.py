"""HttpTransport over a real socket: Status messages, Retry-After, retries, streams, no-server."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from podc.runtime import ApiError, ExponentialBackoff, connect


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    script: list = []
    seen: list = []

    def log_message(self, *args):  # quiet
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        Handler.seen.append((self.command, self.path, body, self.headers.get("authorization")))
        status, payload, headers = Handler.script.pop(0) if Handler.script else (200, {}, {})
        if status == "stream":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            for line in payload:
                self.wfile.write((json.dumps(line) + "\n").encode())
                self.wfile.flush()
            return
        data = json.dumps(payload).encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _answer


@pytest.fixture
def server():
    Handler.script, Handler.seen = [], []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def transport_for(port, **retry):
    from kubernetes import client

    cfg = client.Configuration()
    cfg.host = f"http://127.0.0.1:{port}"
    cfg.api_key = {"BearerToken": "Bearer secret-token-value"}  # as the kubeconfig loader sets it
    policy = ExponentialBackoff(base=0.001, cap=0.01, **retry)
    return connect(api_client=client.ApiClient(cfg), retry=policy, timeout=(1.0, 2.0))


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason,
            "message": message, "code": code}


def test_retries_5xx_then_succeeds_and_sends_token(server):
    Handler.script = [(503, status(503, "ServiceUnavailable", "busy"), {}),
                      (500, status(500, "InternalError", "oops"), {}),
                      (201, {"metadata": {"name": "j"}}, {})]
    t = transport_for(server.server_address[1])
    out = t.request("POST", "/apis/batch/v1/namespaces/d/jobs", body={"kind": "Job"})
    assert out == {"metadata": {"name": "j"}}
    assert len(Handler.seen) == 3 and t.request_count == 3
    assert all(s[3] == "Bearer secret-token-value" for s in Handler.seen)
    assert json.loads(Handler.seen[0][2]) == {"kind": "Job"}


def test_429_retry_after_is_slept(server):
    Handler.script = [(429, status(429, "TooManyRequests", "slow down"), {"Retry-After": "0.3"}),
                      (200, {"ok": True}, {})]
    t = transport_for(server.server_address[1])
    t0 = time.monotonic()
    assert t.request("GET", "/x") == {"ok": True}
    assert time.monotonic() - t0 >= 0.3


def test_client_error_is_not_retried_and_keeps_api_message(server):
    msg = 'Job.batch "x" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always"'
    Handler.script = [(422, status(422, "Invalid", msg), {})]
    t = transport_for(server.server_address[1])
    with pytest.raises(ApiError) as info:
        t.request("POST", "/apis/batch/v1/namespaces/d/jobs", body={})
    assert info.value.status == 422 and info.value.reason == "Invalid" and msg in str(info.value)
    assert len(Handler.seen) == 1


def test_gives_up_after_max_attempts(server):
    Handler.script = [(503, status(503, "ServiceUnavailable", "busy"), {})] * 5
    t = transport_for(server.server_address[1], max_attempts=3)
    with pytest.raises(ApiError) as info:
        t.request("GET", "/x")
    assert info.value.status == 503 and len(Handler.seen) == 3


def test_connection_refused_is_retried_then_raised():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = transport_for(port, max_attempts=2)
    with pytest.raises(ApiError) as info:
        t.request("GET", "/x")
    assert info.value.status == 0 and info.value.kind == "connection" and t.request_count == 2


def test_stream_yields_lines_and_query_is_encoded(server):
    Handler.script = [("stream", [{"type": "ADDED", "object": {"a": 1}},
                                  {"type": "DELETED", "object": {"a": 2}}], {})]
    t = transport_for(server.server_address[1])
    stream = t.stream("/api/v1/namespaces/d/pods",
                      query={"watch": True, "labelSelector": "podc.dev/run-id=r 1"})
    lines = [json.loads(line) for line in stream]
    stream.close()
    assert [e["type"] for e in lines] == ["ADDED", "DELETED"]
    path = Handler.seen[0][1]
    assert "watch=true" in path and "labelSelector=podc.dev%2Frun-id%3Dr+1" in path
