"""Fault injection and the request log, both consulted by the HTTP server on every request."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from podc._record import field, record
from podc.testing.api_errors import ApiError

_REASONS = {
    429: ("TooManyRequests", "Too many requests, please try again later."),
    500: ("InternalError", "Internal error occurred: injected by podc.testing"),
    503: ("ServiceUnavailable", "The server is currently unable to handle the request"),
    504: ("Timeout", "Timeout: request did not complete within the allotted timeout"),
    401: ("Unauthorized", "Unauthorized"),
    403: ("Forbidden", "forbidden: injected by podc.testing"),
}


@record
class FailRule:
    status: int
    remaining: int
    verb: str | None = None
    resource: str | None = None
    retry_after: float | None = None
    message: str | None = None
    hits: int = 0

    def matches(self, verb: str, resource: str | None) -> bool:
        return self.remaining > 0 and self.verb in (None, verb) and self.resource in (None, resource)


@record
class LatencyRule:
    seconds: float
    verb: str | None = None
    resource: str | None = None


class Faults:
    """``cluster.faults``: make the API misbehave on purpose."""

    def __init__(self, on_drop_watches: Callable[[], None], on_compact: Callable[[], None]) -> None:
        self._lock = threading.Lock()
        self._fail_rules: list[FailRule] = []
        self._latency: list[LatencyRule] = []
        self._on_drop_watches = on_drop_watches
        self._on_compact = on_compact

    def fail(
        self, verb: str | None = None, resource: str | None = None, status: int = 500, count: int = 1,
        retry_after: float | None = None, message: str | None = None,
    ) -> FailRule:
        """Answer the next ``count`` matching requests with ``status`` (a proper Status body;
        ``Retry-After`` header when ``retry_after`` is given). ``verb`` is a Kubernetes verb
        (get, list, watch, create, update, patch, delete, deletecollection)."""
        rule = FailRule(status, count, verb, resource, retry_after, message)
        with self._lock:
            self._fail_rules.append(rule)
        return rule

    def latency(self, seconds: float, verb: str | None = None, resource: str | None = None) -> None:
        """Delay every matching request by ``seconds``; ``latency(0)`` removes all latency rules."""
        with self._lock:
            if seconds <= 0:
                self._latency.clear()
            else:
                self._latency.append(LatencyRule(seconds, verb, resource))

    def drop_watches(self) -> None:
        """Cut every open watch connection (the client sees the stream end abruptly)."""
        self._on_drop_watches()

    def compact(self) -> None:
        """Forget the watch history: resuming from any older resourceVersion gets 410 Expired."""
        self._on_compact()

    def clear(self) -> None:
        with self._lock:
            self._fail_rules.clear()
            self._latency.clear()

    # ---- used by the server ---------------------------------------------------------------
    def delay_for(self, verb: str, resource: str | None) -> float:
        with self._lock:
            return sum(r.seconds for r in self._latency if r.verb in (None, verb) and r.resource in (None, resource))

    def take_failure(self, verb: str, resource: str | None) -> ApiError | None:
        with self._lock:
            for rule in self._fail_rules:
                if rule.matches(verb, resource):
                    rule.remaining -= 1
                    rule.hits += 1
                    reason, default_msg = _REASONS.get(rule.status, ("InternalError", f"injected status {rule.status}"))
                    err = ApiError(rule.status, reason, rule.message or default_msg)
                    if rule.retry_after is not None:
                        seconds = max(1, int(round(rule.retry_after))) if rule.retry_after >= 1 else rule.retry_after
                        err.headers["Retry-After"] = str(seconds)
                        err.details = {"retryAfterSeconds": int(max(1, round(rule.retry_after)))}
                    return err
        return None


@record(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: dict[str, str]
    status: int
    timestamp: float
    is_watch: bool
    verb: str
    resource: str | None
    namespace: str | None
    name: str | None
    subresource: str | None
    duration: float = field(default=0.0, compare=False)


class RequestLog:
    """``cluster.request_log``: every HTTP request the server answered, oldest first."""

    def __init__(self, max_records: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._max = max_records  # a long-running `podc local-cluster` must not grow forever

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)
            if len(self._records) > self._max:
                del self._records[: len(self._records) - self._max // 2]

    def __iter__(self) -> Iterator[RequestRecord]:
        with self._lock:
            return iter(list(self._records))

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, index: Any) -> Any:
        with self._lock:
            return self._records[index]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def filter(
        self, verb: str | None = None, resource: str | None = None, status: int | None = None,
        subresource: str | None = None, method: str | None = None, since: float | None = None,
    ) -> list[RequestRecord]:
        return [
            r for r in self
            if (verb is None or r.verb == verb) and (resource is None or r.resource == resource)
            and (status is None or r.status == status) and (subresource is None or r.subresource == subresource)
            and (method is None or r.method == method) and (since is None or r.timestamp >= since)
        ]

    def count(self, verb: str | None = None, resource: str | None = None, status: int | None = None,
              subresource: str | None = None) -> int:
        return len(self.filter(verb, resource, status, subresource))

    def by_verb(self) -> dict[tuple[str, str | None], int]:
        """``{(verb, resource): count}`` over the whole log."""
        out: dict[tuple[str, str | None], int] = {}
        for r in self:
            out[(r.verb, r.resource)] = out.get((r.verb, r.resource), 0) + 1
        return out

    def wait_count(self, n: int, timeout: float = 5.0, **filters: Any) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.filter(**filters)) >= n:
                return True
            time.sleep(0.01)
        return False
