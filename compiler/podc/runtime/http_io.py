"""The byte level of :mod:`podc.runtime.transport`: bounded reads, streams, in-flight tracking.

Nothing a server sends is trusted to be small or well-formed: bodies are read in chunks up to a
size limit, stream lines are capped, error bodies are read only as far as a message needs. Each
request runs as an :class:`Exchange` that knows its connection, so a deadline or ``close()``
can shut its socket down from another thread (the only way to end a blocked read at once).
"""

from __future__ import annotations

import html
import json
import re
import socket
import threading
import time
from typing import Any, Callable, Iterator

from podc.runtime.retry import ApiError, parse_retry_after

__all__ = ["Exchange", "LineStream", "install_tracking", "read_capped", "error_from", "json_body",
           "text_of", "MiB"]

MiB = 1024 * 1024
ERROR_BODY_LIMIT = 64 * 1024  # an error body is only read for its message
_CHUNK = 65536
_local = threading.local()


class Exchange:
    """One HTTP request in flight on the current thread: its connection and how it ended."""

    __slots__ = ("conn", "response", "stopped", "done", "__weakref__")

    def __init__(self) -> None:
        self.conn: Any = None
        self.response: Any = None
        self.stopped: str | None = None  # "deadline" | "interrupted"
        self.done = False

    def __enter__(self) -> "Exchange":
        _local.exchange = self
        return self

    def __exit__(self, *exc: object) -> None:
        self.done = True
        _local.exchange = None

    def stop(self, why: str) -> bool:
        """Shut the socket down (wakes a blocked read). False if there is no socket yet."""
        if self.done:
            return True
        self.stopped = self.stopped or why
        sock = getattr(self.conn, "sock", None)
        if sock is None:
            return False
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        return True


def install_tracking(pool_manager: Any) -> bool:
    """Make the pool manager's connection pools record which connection each request uses, so
    :meth:`Exchange.stop` can reach its socket. False if this urllib3 cannot be hooked (then
    only socket timeouts bound a request)."""
    classes = getattr(pool_manager, "pool_classes_by_scheme", None)
    if not isinstance(classes, dict) or getattr(pool_manager, "_podc_tracking", False):
        return bool(getattr(pool_manager, "_podc_tracking", False))
    tracked = {}
    for scheme, base in classes.items():
        if not hasattr(base, "_get_conn"):
            return False
        tracked[scheme] = type(f"Tracked{base.__name__}", (base,), {"_get_conn": _get_conn})
    pool_manager.pool_classes_by_scheme = tracked
    pool_manager.clear()  # pools made before this (none usually) would not be tracked
    pool_manager._podc_tracking = True
    return True


def _get_conn(self: Any, timeout: Any = None) -> Any:
    conn = super(type(self), self)._get_conn(timeout)
    exchange = getattr(_local, "exchange", None)
    if exchange is not None:
        exchange.conn = conn
    return conn


def read_capped(resp: Any, limit: int, what: str, method: str, path: str) -> bytes:
    """The whole body, refusing one larger than ``limit`` (checked against Content-Length
    first, then while reading, so memory never holds more than ``limit`` plus one chunk)."""
    length = (getattr(resp, "headers", None) or {}).get("Content-Length")
    if length and length.isdigit() and int(length) > limit:
        raise _too_large(what, int(length), limit, method, path)
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = resp.read(_CHUNK)
        if not chunk:
            return b"".join(parts)
        size += len(chunk)
        if size > limit:
            parts.clear()  # the error's traceback keeps this frame alive: not with 32 MiB in it
            raise _too_large(what, size, limit, method, path, more=True)
        parts.append(chunk)


def _too_large(what: str, size: int, limit: int, method: str, path: str,
               more: bool = False) -> ApiError:
    got = f"more than {limit // MiB} MiB" if more else f"{size / MiB:.1f} MiB"
    return ApiError(0, f"the {what} is {got}; podc reads at most {limit // MiB} MiB per response "
                       "(lists are paged; a server or proxy that ignores `limit` can cause this)",
                    reason="ResponseTooLarge", kind="protocol", method=method, path=path)


class LineStream:
    """Lines of a streaming response (a watch, a followed log), each at most ``max_line`` bytes.

    A longer line is an error for a watch (``on_long="error"``: an event is one object, which the
    API server limits to a few MiB) and is cut into pieces for a log (``on_long="split"``).
    ``close`` wakes a thread blocked in a read (urllib3 >= 2.3 ``shutdown``, else the socket).
    """

    def __init__(self, response: Any, *, max_line: int, on_long: str = "error",
                 redact: Callable[[str], str] = str, method: str = "GET", path: str = "") -> None:
        self._response = response
        self._closed = False
        self._max_line = max_line
        self._on_long = on_long
        self._redact = redact
        self._where = (method, path)
        self.on_close: Callable[[], None] | None = None

    def __iter__(self) -> Iterator[bytes]:
        buf = bytearray()
        scanned = 0
        read = getattr(self._response, "read1", None) or self._response.read
        try:
            while not self._closed:
                chunk = read(_CHUNK)
                if not chunk:
                    break
                buf += chunk
                while True:
                    cut = buf.find(b"\n", scanned)
                    if cut < 0:
                        scanned = len(buf)
                        break
                    line = bytes(buf[:cut])
                    del buf[:cut + 1]
                    scanned = 0
                    if line.strip():
                        yield line
                if len(buf) > self._max_line:
                    if self._on_long != "split":
                        raise ApiError(0, f"a streamed line is longer than {self._max_line // MiB} "
                                          "MiB without a newline; not a Kubernetes watch stream",
                                       reason="LineTooLong", kind="protocol",
                                       method=self._where[0], path=self._where[1])
                    yield bytes(buf[:self._max_line])
                    del buf[:self._max_line]
                    scanned = 0
        except ApiError:
            raise
        except Exception as exc:  # noqa: BLE001 - urllib3/socket errors vary by version
            if self._closed:
                return
            raise ApiError(0, self._redact(f"stream interrupted: {exc}"), kind="connection",
                           method=self._where[0], path=self._where[1]) from exc
        if bytes(buf).strip() and not self._closed:
            yield bytes(buf)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        resp = self._response
        for action in ("shutdown", "close", "release_conn"):
            fn = getattr(resp, action, None)
            if fn is not None:
                try:
                    fn()
                except Exception:  # noqa: BLE001 - best effort teardown
                    pass
        if self.on_close is not None:
            self.on_close()


def json_body(data: bytes, resp: Any, method: str, path: str,
              redact: Callable[[str], str] = str) -> Any:
    """The parsed body of a 2xx answer. Something in front of the API server (an auth proxy's
    login page, a captive portal) may answer 200 with HTML: that is an error with a readable
    message, not a ``JSONDecodeError`` traceback, and retrying it will not help."""
    if not data:
        return {}
    try:
        return json.loads(data)
    except ValueError:
        ctype = (getattr(resp, "headers", None) or {}).get("Content-Type") or "unknown type"
        raise ApiError(resp.status, redact(f"the server answered with {ctype}, not Kubernetes JSON "
                                           f"(a proxy in front of the API server?): {text_of(data)}"),
                       reason="NotJSON", kind="protocol", method=method, path=path) from None


_TAG = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)


def text_of(data: bytes, limit: int = 300) -> str:
    """A non-JSON body as one short line (HTML tags dropped: proxies answer with web pages)."""
    text = data[:ERROR_BODY_LIMIT].decode("utf-8", errors="replace")
    if "<" in text and ">" in text:
        text = html.unescape(_TAG.sub(" ", text))
    text = " ".join(text.split())
    return text[:limit] + ("…" if len(text) > limit else "")


def error_from(status: int, reason: str, data: bytes, headers: Any, method: str, path: str,
               redact: Callable[[str], str] = str) -> ApiError:
    """An error status as an ApiError carrying the API's message (masked) and retry hint."""
    message = ""
    api_reason = reason
    retry_after = parse_retry_after(headers.get("Retry-After") if headers is not None else None)
    try:
        body = json.loads(data)
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = " ".join(str(body.get("message") or "").split())[:2000]
        api_reason = str(body.get("reason") or reason)
        details = body.get("details")
        if retry_after is None and isinstance(details, dict):
            try:  # a Status may carry the hint only in its details (no header through a proxy)
                retry_after = parse_retry_after(str(details.get("retryAfterSeconds") or ""))
            except (TypeError, ValueError):
                retry_after = None
    else:
        message = text_of(data)
    return ApiError(status, redact(message), reason=redact(api_reason), retry_after=retry_after,
                    method=method, path=path)


def interruptible_sleep(event: threading.Event, seconds: float) -> bool:
    """Sleep unless ``event`` is set meanwhile; True if woken early."""
    if seconds <= 0:
        return event.is_set()
    end = time.monotonic() + seconds
    return event.wait(max(0.0, end - time.monotonic()))
