"""HTTP to the Kubernetes API with bounded retries: JSON in, plain dicts out.

The runtime works on plain dicts (what ``podc compile`` emits) and never deserialises into the
client's model classes, which is both faster and keeps one data shape end to end. Connection
settings (server, TLS, tokens, exec plugins) come from a ``kubernetes.client.ApiClient``; this
module only uses its connection pool and auth headers. ``kubernetes`` itself is imported in
:mod:`podc.runtime.cluster`, not here.

Every request is bounded three ways: one exchange (connect, headers, whole body) by
``request_timeout``; one call with its retries by ``call_timeout``; and both by the caller's
deadline (:func:`podc.runtime.deadline.deadline_scope`, or :attr:`HttpTransport.deadline` for
everything the transport does). A retry whose wait (``Retry-After`` included) would pass the
deadline is not made: the error is raised at once, saying so.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import weakref
from typing import Any, Callable, Mapping, Protocol
from urllib.parse import quote, urlencode

from podc.runtime.deadline import current_deadline, earliest, watchdog
from podc.runtime.http_io import (MiB, ERROR_BODY_LIMIT, Exchange, LineStream, error_from,
                                  install_tracking, interruptible_sleep, json_body, read_capped)
from podc.runtime.redact import Redactor
from podc.runtime.retry import ApiError, ExponentialBackoff, RetryPolicy

__all__ = ["Transport", "LineStream", "HttpTransport", "encode_path"]

Query = Mapping[str, Any]


class Transport(Protocol):
    """What the runtime needs from a connection. Fakes implement this in unit tests."""

    def request(self, method: str, path: str, *, query: Query | None = None,
                body: Any = None, raw: bool = False) -> Any: ...

    def stream(self, path: str, *, query: Query | None = None) -> Any: ...


def encode_path(*segments: str) -> str:
    return "/" + "/".join(quote(s, safe="") for s in segments)


def _query_string(query: Query | None) -> str:
    if not query:
        return ""
    items = [(k, ("true" if v else "false") if isinstance(v, bool) else v)
             for k, v in query.items() if v is not None]
    return "?" + urlencode(items) if items else ""


class HttpTransport:
    """JSON requests with the injected retry policy; streams without retries (callers resume).

    ``request_count`` counts every HTTP request sent (including retries and streams), which the
    benchmark reports per Job. ``deadline`` (absolute ``time.monotonic()``) bounds every request
    of this transport, e.g. ``podc submit --timeout``. ``max_response_bytes`` caps a response
    body, ``max_line_bytes`` a line of a watch stream. :meth:`interrupt` ends what a thread is
    doing with the API at once (used by ``Runtime.close()``).
    """

    def __init__(self, api_client: Any, *, retry: RetryPolicy | None = None,
                 timeout: tuple[float, float] = (5.0, 30.0), request_timeout: float = 60.0,
                 call_timeout: float = 120.0, stream_read_timeout: float = 330.0,
                 max_response_bytes: int = 32 * MiB, max_line_bytes: int = 16 * MiB,
                 sleep: Callable[[float], None] | None = None,
                 redactor: Redactor | None = None) -> None:
        self._api_client = api_client
        self._config = api_client.configuration
        self._pool = api_client.rest_client.pool_manager
        self._tracked = install_tracking(self._pool)
        self.retry: RetryPolicy = retry or ExponentialBackoff()
        self._timeout = timeout
        self.request_timeout = request_timeout
        self.call_timeout = call_timeout
        self._stream_read_timeout = stream_read_timeout
        self.max_response_bytes = max_response_bytes
        self.max_line_bytes = max_line_bytes
        self._sleep = sleep
        self.redact = redactor or Redactor()
        self.deadline: float | None = None
        self.list_page_size = 500  # items per list request (``limit``); 0 asks for everything
        self._counter = itertools.count(1)
        self._count_lock = threading.Lock()
        self.request_count = 0
        self._lock = threading.Lock()
        self._exchanges: "weakref.WeakKeyDictionary[threading.Thread, Exchange]" = weakref.WeakKeyDictionary()
        self._wakeups: "weakref.WeakKeyDictionary[threading.Thread, threading.Event]" = weakref.WeakKeyDictionary()
        self._interrupted: "weakref.WeakSet[threading.Thread]" = weakref.WeakSet()

    # -- control ------------------------------------------------------------------------------
    def interrupt(self, thread: threading.Thread) -> None:
        """End ``thread``'s request in flight, or its retry sleep, and fail its later ones: the
        thread is being stopped. (Its blocked socket read is woken by a shutdown.)"""
        with self._lock:
            self._interrupted.add(thread)
            exchange = self._exchanges.get(thread)
            wake = self._wakeups.get(thread)
        if exchange is not None:
            exchange.stop("interrupted")
        if wake is not None:
            wake.set()

    def _check_interrupted(self, method: str, path: str) -> None:
        if threading.current_thread() in self._interrupted:
            raise ApiError(0, "the runtime is closing", kind="interrupted", method=method, path=path)

    # -- plumbing -----------------------------------------------------------------------------
    def _headers(self, body: bool, method: str, path: str) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        headers.update(getattr(self._api_client, "default_headers", {}) or {})
        try:  # may run a credential plugin (token refresh)
            settings = self._config.auth_settings()
        except Exception as exc:  # noqa: BLE001 - the plugin's failure, told in podc's voice
            raise ApiError(0, self.redact(f"cannot get credentials: {exc}"), kind="auth",
                           method=method, path=path) from None
        for setting in settings.values():
            if setting.get("in") == "header" and setting.get("value"):
                headers[setting["key"]] = setting["value"]
                self.redact.add(str(setting["value"]))
        if body:
            headers["Content-Type"] = "application/json"
        return headers

    def _count(self) -> None:
        with self._count_lock:
            self.request_count = next(self._counter)

    def _stop_at(self, exchange: Exchange, when: float) -> Any:
        """Schedule the exchange's shutdown at ``when`` (re-tried while it has no socket yet)."""
        def fire() -> None:
            if not exchange.stop("deadline") and not exchange.done:
                holder[0] = watchdog.schedule(time.monotonic() + 0.05, fire)
        holder = [watchdog.schedule(when, fire)]
        return holder

    def _send(self, method: str, path: str, query: Query | None, body: Any, stream: bool,
              deadline: float | None) -> tuple[Any, bytes | None, Exchange]:
        """One exchange. For a stream, returns once the headers are in (body unread)."""
        import urllib3  # a dependency of kubernetes; imported here to keep this module light

        self._check_interrupted(method, path)
        url = self._config.host.rstrip("/") + path + _query_string(query)
        now = time.monotonic()
        limit = earliest(deadline, now + self.request_timeout)
        room = max(0.001, limit - now) if limit is not None else None
        read = self._stream_read_timeout if stream else self._timeout[1]
        timeout = urllib3.Timeout(connect=min(self._timeout[0], room or self._timeout[0]),
                                  read=min(read, room) if room is not None else read)
        headers = self._headers(body is not None, method, path)
        self._count()
        exchange = Exchange()
        me = threading.current_thread()
        with self._lock:
            self._exchanges[me] = exchange
        ticket = self._stop_at(exchange, limit) if limit is not None else None
        try:
            with exchange:
                resp = self._pool.request(
                    method, url, body=None if body is None else json.dumps(body),
                    headers=headers, timeout=timeout, preload_content=False, retries=False)
                exchange.response = resp
                if resp.status >= 400:
                    try:
                        data = read_capped(resp, ERROR_BODY_LIMIT, "error body", method, path)
                        resp.release_conn()
                    except Exception:  # noqa: BLE001 - the status is what matters
                        data = b""
                        _discard(resp)
                    raise error_from(resp.status, resp.reason or "", data, resp.headers, method,
                                     path, self.redact)
                if stream:
                    return resp, None, exchange
                try:
                    data = read_capped(resp, self.max_response_bytes, "response", method, path)
                except BaseException:
                    _discard(resp)
                    raise
                resp.release_conn()
                return resp, data, exchange
        except ApiError as err:
            if exchange.stopped and err.kind != "http":
                raise self._stopped_error(exchange, method, path, deadline, limit) from None
            raise
        except Exception as exc:
            if exchange.stopped:
                raise self._stopped_error(exchange, method, path, deadline, limit) from None
            raise self._connection_error(exc, method, path) from None
        finally:
            if ticket is not None:
                ticket[0].cancel()
            with self._lock:
                if self._exchanges.get(me) is exchange:
                    del self._exchanges[me]

    def _stopped_error(self, exchange: Exchange, method: str, path: str, deadline: float | None,
                       limit: float | None) -> ApiError:
        if exchange.stopped == "interrupted":
            return ApiError(0, "the runtime is closing", kind="interrupted", method=method, path=path)
        if deadline is not None and limit is not None and deadline <= limit:
            # the caller's own deadline (e.g. --timeout): no retry can help
            return ApiError(0, "no complete answer before the deadline (the server is too slow "
                               "or stalled)", kind="deadline", method=method, path=path)
        return ApiError(0, f"no complete answer within {self.request_timeout:g}s (the server is "
                           "too slow or stalled)", kind="timeout", method=method, path=path)

    def _connection_error(self, exc: Exception, method: str, path: str) -> ApiError:
        import urllib3

        text = self.redact(" ".join(str(exc).split()))
        if isinstance(exc, urllib3.exceptions.SSLError) or "CERTIFICATE_VERIFY_FAILED" in text:
            return ApiError(0, f"TLS: cannot verify the API server at {self._config.host}: "
                               f"{_tls_cause(text)} (check certificate-authority / "
                               "certificate-authority-data in the kubeconfig)",
                            reason="TLSError", kind="tls", method=method, path=path)
        if isinstance(exc, urllib3.exceptions.NewConnectionError):  # a ConnectTimeoutError subclass
            return ApiError(0, text, kind="connection", method=method, path=path)
        if isinstance(exc, (urllib3.exceptions.TimeoutError, TimeoutError)):
            return ApiError(0, text, kind="timeout", method=method, path=path)
        if isinstance(exc, (urllib3.exceptions.HTTPError, OSError)):
            return ApiError(0, text, kind="connection", method=method, path=path)
        raise exc

    # -- public -------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, query: Query | None = None,
                body: Any = None, raw: bool = False) -> Any:
        """Send one request, retrying per the policy within the deadline. Returns parsed JSON
        (or text if ``raw``)."""
        start = time.monotonic()
        deadline = earliest(start + self.call_timeout, self.deadline, current_deadline())
        attempt = 0
        while True:
            attempt += 1
            try:
                resp, data, _ = self._send(method, path, query, body, False, deadline)
                if raw:
                    return data.decode("utf-8", errors="replace")
                return json_body(data, resp, method, path, self.redact)
            except ApiError as err:
                err.attempts = attempt
                delay = self.retry(err, attempt)
                if delay is None:
                    raise _gave_up(err, attempt, start, None) if attempt > 1 else err
                if deadline is not None and time.monotonic() + delay >= deadline:
                    raise _gave_up(err, attempt, start, delay) from None
                self._pause(delay, method, path)

    def _pause(self, delay: float, method: str, path: str) -> None:
        if self._sleep is not None:
            self._sleep(delay)
            return
        me = threading.current_thread()
        with self._lock:
            wake = self._wakeups.setdefault(me, threading.Event())
        if interruptible_sleep(wake, delay):
            raise ApiError(0, "the runtime is closing", kind="interrupted", method=method, path=path)

    def stream(self, path: str, *, query: Query | None = None) -> LineStream:
        """Open a streaming GET (watch, log follow). No retries: the caller resumes. The
        headers must arrive within ``request_timeout``; a deadline in force closes the stream."""
        deadline = earliest(self.deadline, current_deadline())
        resp, _, _ = self._send("GET", path, query, None, True, deadline)
        logs = path.endswith("/log")
        stream = LineStream(resp, max_line=self.max_line_bytes if not logs else 64 * 1024,
                            on_long="split" if logs else "error", redact=self.redact,
                            path=path)
        if deadline is not None:
            ticket = watchdog.schedule(deadline, stream.close)
            stream.on_close = ticket.cancel
        return stream


def _discard(resp: Any) -> None:
    """Drop a response whose body we will not read to the end (the connection is not reusable)."""
    for action in ("close", "release_conn"):
        fn = getattr(resp, action, None)
        if fn is not None:
            try:
                fn()
            except Exception:  # noqa: BLE001 - best effort
                pass


def _gave_up(err: ApiError, attempts: int, start: float, delay: float | None) -> ApiError:
    """The last error, saying how long podc tried (and that the deadline stopped it)."""
    note = f"gave up after {attempts} attempt{'s' * (attempts > 1)} in {time.monotonic() - start:.1f}s"
    if delay is not None:
        note += (f": the server asked to retry in {err.retry_after:g}s, past the deadline"
                 if err.retry_after is not None else ": the next try would come after the deadline")
    out = ApiError(err.status, f"{err.message} ({note})" if err.message else f"({note})",
                   reason=err.reason, kind=err.kind if delay is None else "deadline",
                   retry_after=err.retry_after, method=err.method, path=err.path,
                   attempts=attempts)
    out.__cause__ = err.__cause__
    return out


def _tls_cause(text: str) -> str:
    lowered = text.lower()
    for needle in ("self-signed certificate in certificate chain", "self-signed certificate",
                   "self signed certificate", "unable to get local issuer certificate",
                   "certificate has expired", "hostname mismatch", "ip address mismatch",
                   "certificate verify failed", "wrong version number"):
        if needle in lowered:
            return needle if needle != "wrong version number" else \
                "the server does not speak TLS (wrong version number)"
    return text[:200]

