"""The HTTP front end: a ThreadingHTTPServer speaking the Kubernetes REST dialect (JSON only)."""

from __future__ import annotations

import json
import socket
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import podc.testing.discovery as discovery
from podc.testing.api_errors import ApiError, bad_request
from podc.testing.faults import RequestRecord
from podc.testing.routing import Route, is_true, number_param, route
from podc.testing.streaming import stream_logs, stream_watch

LocalCluster = Any  # podc.testing.cluster.LocalCluster, which imports this module


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    cluster: LocalCluster

    def __init__(self, addr: tuple[str, int], cluster: LocalCluster) -> None:
        self.cluster = cluster
        self.connections: set[socket.socket] = set()
        self.conn_lock = threading.Lock()
        super().__init__(addr, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:  # noqa: ARG002 - quiet on resets
        pass


class ApiHttpServer:
    """Owns the listening socket; :meth:`restart` re-listens on the same port, state kept."""

    def __init__(self, cluster: LocalCluster, host: str = "127.0.0.1", port: int = 0) -> None:
        self.cluster = cluster
        self.host = host
        self._server = _Server((host, port), cluster)
        self.port = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="podc-emulator-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        with self._server.conn_lock:
            conns = list(self._server.connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread:
            self._thread.join(timeout=5)

    def restart(self, downtime: float = 0.0) -> None:
        self.stop()
        if downtime:
            time.sleep(downtime)
        for attempt in range(50):
            try:
                self._server = _Server((self.host, self.port), self.cluster)
                break
            except OSError:
                if attempt == 49:
                    raise
                time.sleep(0.05)
        self.start()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # keep-alive + Nagle stalls every request by ~40 ms
    server: _Server
    server_version = "podc-emulator"

    def setup(self) -> None:
        super().setup()
        with self.server.conn_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.conn_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr logging
        pass

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    # ---- plumbing --------------------------------------------------------------------------
    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            body = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_json(self, code: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self._status = code
        self._record()  # before the client can see the response, so tests never race the log
        self.end_headers()
        self.wfile.write(data)

    def _send_fault(self, err: ApiError) -> None:
        """An injected failure, shaped by the compat knobs (a proxy's HTML page, HTTP-dates)."""
        compat = self.server.cluster.compat
        headers = dict(err.headers)
        if "Retry-After" in headers:
            headers["Retry-After"] = compat.retry_after_header(headers["Retry-After"])
        if compat.error_body != "html":
            return self._send_json(err.code, err.status_body(), headers)
        data = compat.html_page(err.code, err.reason)
        self.send_response(err.code)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self._status = err.code
        self._record()
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, err: ApiError) -> None:
        self._send_json(err.code, err.status_body(), err.headers)

    def _dispatch(self) -> None:
        cluster = self.server.cluster
        started = time.time()
        self._status = 0
        body = self._read_body()  # always, or the next request on this connection is garbage
        r, query = route(self.command, self.path)
        is_watch = r.kind == "resource" and r.verb == "watch"
        self._logged = False

        def record() -> None:
            if self._logged:
                return
            self._logged = True
            cluster.request_log.append(RequestRecord(
                self.command, self.path.split("?", 1)[0], query, self._status or 499, started, is_watch,
                r.verb if r.kind == "resource" else "get", r.resource, r.namespace, r.name, r.subresource,
                time.time() - started,
            ))
        self._record = record
        try:
            delay = cluster.faults.delay_for(r.verb, r.resource)
            if delay:
                time.sleep(delay)
            failure = cluster.faults.take_failure(r.verb, r.resource) if r.kind == "resource" else None
            if failure is not None:
                self._send_fault(failure)
            else:
                self._handle(r, query, body)
        except ApiError as e:
            if not self._status:
                self._send_error(e)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
        except Exception as e:  # pragma: no cover - a bug in the emulator: answer 500, keep serving
            cluster.internal_errors.append(traceback.format_exc())
            if not self._status:
                self._send_error(ApiError(500, "InternalError", f"Internal error occurred: {e}"))
        finally:
            record()

    def _handle(self, r: Route, query: dict[str, str], raw: bytes) -> None:
        cluster = self.server.cluster
        if r.kind == "version":
            return self._send_json(200, discovery.K8S_VERSION)
        if r.kind == "health":
            data = b"ok"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self._status = 200
            self._record()
            self.end_headers()
            self.wfile.write(data)
            return None
        if r.kind == "api":
            return self._send_json(200, discovery.api_versions(f"127.0.0.1:{self.server.server_address[1]}"))
        if r.kind == "apis":
            return self._send_json(200, discovery.api_group_list())
        if r.kind == "group":
            group = discovery.api_group(r.group)
            if group is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return self._send_json(200, group)
        if r.kind == "resources":
            if r.group not in ("", "batch"):
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return self._send_json(200, discovery.resource_list(r.group))
        if r.kind != "resource" or r.resource is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        body = self._parse_body(raw)
        api = cluster.api
        if r.verb == "get" and r.subresource == "log":
            assert r.name is not None
            return stream_logs(self, cluster, r.namespace or "default", r.name, query)
        if r.verb == "get":
            assert r.name is not None
            return self._send_json(200, api.get(r.resource, r.namespace, r.name))
        if r.verb == "list":
            limit = number_param(query, "limit")
            compat = cluster.compat
            if compat.paginate and not limit:
                limit = compat.paginate  # a server/proxy that pages whether asked or not
            if r.resource == "events" and query.get("fieldSelector") and not compat.event_field_selectors:
                raise bad_request(f'"{query["fieldSelector"]}" is not a known field selector: only '
                                  '"metadata.name", "metadata.namespace"')
            labels = None if compat.ignore_label_selectors else query.get("labelSelector")
            return self._send_json(200, api.list(r.resource, r.namespace, labels,
                                                 query.get("fieldSelector"), limit, query.get("continue")))
        if r.verb == "watch":
            return stream_watch(self, cluster, r, query)
        if is_true(query.get("dryRun")) or query.get("dryRun") == "All":
            raise bad_request("dryRun is not supported by the podc emulator")
        if r.verb == "create":
            if r.name:
                raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
            return self._send_json(201, api.create(r.resource, r.namespace, body))
        assert r.verb in ("update", "patch", "delete", "deletecollection")
        if r.verb == "deletecollection":
            if not cluster.compat.deletecollection:
                raise ApiError(405, "MethodNotAllowed",
                               "the server does not allow this method on the requested resource")
            listing = api.delete_collection(r.resource, r.namespace, query.get("labelSelector"),
                                            query.get("fieldSelector"), body or None, query.get("propagationPolicy"))
            return self._send_json(200, listing)
        assert r.name is not None
        if r.verb == "update":
            return self._send_json(200, api.update(r.resource, r.namespace, r.name, body, r.subresource))
        if r.verb == "patch":
            ctype = self.headers.get("Content-Type") or "application/strategic-merge-patch+json"
            return self._send_json(200, api.patch(r.resource, r.namespace, r.name, ctype, body, r.subresource))
        options = dict(body or {})
        grace = number_param(query, "gracePeriodSeconds")
        if grace is not None:
            options["gracePeriodSeconds"] = grace
        code, out, headers = api.delete(r.resource, r.namespace, r.name, options, query.get("propagationPolicy"))
        return self._send_json(code, out, headers)

    def _parse_body(self, raw: bytes) -> Any:
        if not raw:
            return None
        ctype = (self.headers.get("Content-Type") or "").lower()
        if "protobuf" in ctype or "cbor" in ctype:
            raise ApiError(415, "UnsupportedMediaType",
                           f'the body of the request was in an unknown format - accepted media types include: '
                           f'application/json, application/yaml (the podc emulator speaks JSON only, not {ctype})')
        try:
            return json.loads(raw)
        except ValueError as e:
            raise bad_request(f"the request body is not valid JSON: {e}") from None

    # ---- streaming (used by podc.testing.streaming) ---------------------------------------------
    def start_stream(self, content_type: str = "application/json") -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self._status = 200
        self._record()  # streams are logged when they start, not when they end
        self.end_headers()
        self.close_connection = True

    def write_chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    def end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def abort_stream(self) -> None:
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def client_gone(self) -> bool:
        """True when the peer closed its side (a readable socket with nothing to read)."""
        import select

        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if readable:
                return self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True
        return False
