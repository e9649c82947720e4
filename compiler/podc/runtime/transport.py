"""HTTP to the Kubernetes API with retries: JSON in, plain dicts out.

The runtime works on plain dicts (what ``podc compile`` emits) and never deserialises into the
client's model classes, which is both faster and keeps one data shape end to end. Connection
settings (server, TLS, tokens, exec plugins) come from a ``kubernetes.client.ApiClient``; this
module only uses its connection pool and auth headers. ``kubernetes`` itself is imported in
:mod:`podc.runtime.cluster`, not here.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import socket
import threading
import time
from typing import Any, Callable, Iterator, Mapping, Protocol
from urllib.parse import quote, urlencode

from podc.runtime.retry import ApiError, ExponentialBackoff, RetryPolicy, parse_retry_after

__all__ = ["Transport", "LineStream", "HttpTransport"]

Query = Mapping[str, Any]


class LineStream(Protocol):
    """An open streaming response (a watch or a followed log), read line by line."""

    def __iter__(self) -> Iterator[bytes]: ...

    def close(self) -> None: ...


class Transport(Protocol):
    """What the runtime needs from a connection. Fakes implement this in unit tests."""

    def request(self, method: str, path: str, *, query: Query | None = None,
                body: Any = None, raw: bool = False) -> Any: ...

    def stream(self, path: str, *, query: Query | None = None) -> LineStream: ...


def encode_path(*segments: str) -> str:
    return "/" + "/".join(quote(s, safe="") for s in segments)


def _query_string(query: Query | None) -> str:
    if not query:
        return ""
    items = [(k, ("true" if v else "false") if isinstance(v, bool) else v)
             for k, v in query.items() if v is not None]
    return "?" + urlencode(items) if items else ""


class _UrllibLineStream:
    """Iterates lines of a streaming urllib3 response; ``close`` unblocks a pending read."""

    def __init__(self, response: Any) -> None:
        self._response = response
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        buf = b""
        try:
            while not self._closed:
                chunk = self._response.read1(65536) if hasattr(self._response, "read1") \
                    else self._response.read(65536)
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.strip():
                        yield line
        except Exception as exc:  # noqa: BLE001 - urllib3/socket errors vary by version
            if self._closed:
                return
            raise ApiError(0, f"stream interrupted: {exc}", kind="connection") from exc
        if buf.strip() and not self._closed:
            yield buf

    def close(self) -> None:
        self._closed = True
        resp = self._response
        # shutdown() (urllib3 >= 2.3) wakes a thread blocked in read(); close() alone may not.
        for action in ("shutdown", "close", "release_conn"):
            fn = getattr(resp, action, None)
            if fn is not None:
                try:
                    fn()
                except Exception:  # noqa: BLE001 - best effort teardown
                    pass


class HttpTransport:
    """JSON requests with the injected retry policy; streams without retries (callers resume).

    ``request_count`` counts every HTTP request sent (including retries and streams), which the
    benchmark reports per Job.
    """

    def __init__(self, api_client: Any, *, retry: RetryPolicy | None = None,
                 timeout: tuple[float, float] = (5.0, 30.0), stream_read_timeout: float = 330.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._api_client = api_client
        self._config = api_client.configuration
        self._pool = api_client.rest_client.pool_manager
        self.retry: RetryPolicy = retry or ExponentialBackoff()
        self._timeout = timeout
        self._stream_read_timeout = stream_read_timeout
        self._sleep = sleep
        self._counter = itertools.count(1)
        self._count_lock = threading.Lock()
        self.request_count = 0

    # -- plumbing -----------------------------------------------------------------------------
    def _headers(self, body: bool) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        headers.update(getattr(self._api_client, "default_headers", {}) or {})
        for setting in self._config.auth_settings().values():
            if setting.get("in") == "header" and setting.get("value"):
                headers[setting["key"]] = setting["value"]
        if body:
            headers["Content-Type"] = "application/json"
        return headers

    def _count(self) -> None:
        with self._count_lock:
            self.request_count = next(self._counter)

    def _send(self, method: str, path: str, query: Query | None, body: Any,
              stream: bool) -> Any:
        import urllib3  # a dependency of kubernetes; imported here to keep this module light

        url = self._config.host.rstrip("/") + path + _query_string(query)
        timeout = urllib3.Timeout(connect=self._timeout[0],
                                  read=self._stream_read_timeout if stream else self._timeout[1])
        self._count()
        try:
            resp = self._pool.request(
                method, url, body=None if body is None else json.dumps(body),
                headers=self._headers(body is not None), timeout=timeout,
                preload_content=False, retries=False)
        except urllib3.exceptions.NewConnectionError as exc:  # a ConnectTimeoutError subclass
            raise ApiError(0, str(exc), kind="connection", method=method, path=path) from exc
        except (urllib3.exceptions.TimeoutError, socket.timeout) as exc:
            raise ApiError(0, str(exc), kind="timeout", method=method, path=path) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ApiError(0, str(exc), kind="connection", method=method, path=path) from exc
        if resp.status >= 400:
            try:
                data = resp.read()
            except Exception:  # noqa: BLE001 - the status is what matters
                data = b""
            finally:
                resp.release_conn()
            raise _error_from(resp.status, resp.reason or "", data, resp.headers, method, path)
        return resp

    # -- public -------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, query: Query | None = None,
                body: Any = None, raw: bool = False) -> Any:
        """Send one request, retrying per the policy. Returns parsed JSON (or text if ``raw``)."""
        attempt = 0
        while True:
            try:
                resp = self._send(method, path, query, body, stream=False)
                try:
                    data = resp.read()
                finally:
                    resp.release_conn()
                if raw:
                    return data.decode("utf-8", errors="replace")
                return _json_body(data, resp, method, path)
            except ApiError as err:
                attempt += 1
                delay = self.retry(err, attempt)
                if delay is None:
                    raise
                self._sleep(delay)
            except Exception as exc:  # noqa: BLE001 - a connection reset while reading the body
                import urllib3

                if not isinstance(exc, (urllib3.exceptions.HTTPError, OSError)):
                    raise
                attempt += 1
                err = ApiError(0, str(exc), kind="connection", method=method, path=path)
                delay = self.retry(err, attempt)
                if delay is None:
                    raise err from exc
                self._sleep(delay)

    def stream(self, path: str, *, query: Query | None = None) -> LineStream:
        """Open a streaming GET (watch, log follow). No retries: the caller resumes."""
        return _UrllibLineStream(self._send("GET", path, query, None, stream=True))


def _json_body(data: bytes, resp: Any, method: str, path: str) -> Any:
    """The parsed body of a 2xx answer. Something in front of the API server (an auth proxy's
    login page, a captive portal) may answer 200 with HTML: that is an error with a readable
    message, not a ``JSONDecodeError`` traceback, and retrying it will not help."""
    if not data:
        return {}
    try:
        return json.loads(data)
    except ValueError:
        ctype = (getattr(resp, "headers", None) or {}).get("Content-Type") or "unknown type"
        raise ApiError(resp.status, f"the server answered with {ctype}, not Kubernetes JSON "
                       f"(a proxy in front of the API server?): {_text_of(data)}",
                       reason="NotJSON", kind="protocol", method=method, path=path) from None


_TAG = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)


def _text_of(data: bytes, limit: int = 300) -> str:
    """A non-JSON body as one short line (HTML tags dropped: proxies answer with web pages)."""
    text = data.decode("utf-8", errors="replace")
    if "<" in text and ">" in text:
        text = html.unescape(_TAG.sub(" ", text))
    text = " ".join(text.split())
    return text[:limit] + ("…" if len(text) > limit else "")


def _error_from(status: int, reason: str, data: bytes, headers: Any, method: str,
                path: str) -> ApiError:
    message = ""
    api_reason = reason
    retry_after = parse_retry_after(headers.get("Retry-After") if headers is not None else None)
    try:
        body = json.loads(data)
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = str(body.get("message") or "")
        api_reason = str(body.get("reason") or reason)
        details = body.get("details")
        if retry_after is None and isinstance(details, dict):
            try:  # a Status may carry the hint only in its details (no header through a proxy)
                retry_after = parse_retry_after(str(details.get("retryAfterSeconds") or ""))
            except (TypeError, ValueError):
                retry_after = None
    else:
        message = _text_of(data)
    return ApiError(status, message, reason=api_reason, retry_after=retry_after, method=method,
                    path=path)
