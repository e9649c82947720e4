"""API errors and the retry policy, as an injected function (lightkube's ``on_error`` idea).

A retry policy is any callable ``policy(error, attempt) -> float | None``: given the error of the
``attempt``-th failed try (1-based), return how many seconds to sleep before trying again, or
``None`` to give up and raise. :class:`ExponentialBackoff` is the default; tests inject one with
millisecond delays. Pure: no I/O, no Kubernetes import.
"""

from __future__ import annotations

import random
from typing import Protocol

from podc._record import field, record

__all__ = ["ApiError", "RetryPolicy", "ExponentialBackoff", "NoRetry", "is_retryable"]

# 501 Not Implemented will not change on retry; every other 5xx may.
_RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class ApiError(Exception):
    """A failed Kubernetes API call.

    ``status`` is the HTTP status, or 0 when no usable response arrived. ``kind`` says what
    happened: ``"http"`` (an error status), ``"timeout"`` and ``"connection"`` (worth another
    try), and, never retried: ``"protocol"`` (not the API's JSON, an oversized response or
    line), ``"tls"`` (certificate verification failed), ``"auth"`` (no credentials could be
    obtained), ``"deadline"`` (the caller's time is up), ``"interrupted"`` (the runtime is
    closing). ``message`` is the API server's own message from its Status body, with any
    credential masked. ``attempts`` counts the tries made before giving up.
    """

    def __init__(self, status: int, message: str, *, reason: str = "", kind: str = "http",
                 retry_after: float | None = None, method: str = "", path: str = "",
                 attempts: int = 1) -> None:
        self.status = status
        self.message = message
        self.reason = reason
        self.kind = kind
        self.retry_after = retry_after
        self.method = method
        self.path = path
        self.attempts = attempts
        where = f"{method} {path}: " if method else ""
        code = f"{status} {reason}".strip() if status else \
            (kind if kind in ("timeout", "connection") else "")
        text = ": ".join(part for part in (code, message) if part)
        super().__init__(f"{where}{text}" if text else f"{where}{kind}".rstrip(": "))

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def conflict(self) -> bool:
        return self.status == 409

    @property
    def gone(self) -> bool:
        return self.status == 410


def is_retryable(error: ApiError) -> bool:
    """429, 5xx (except 501), timeouts and connection errors are worth another try. What cannot
    heal is not: a response that is not the API's JSON (a proxy's login page), a TLS
    verification failure, missing credentials, the caller's deadline, a closing runtime."""
    if error.kind in ("timeout", "connection"):
        return True
    return error.kind == "http" and error.status in _RETRYABLE_STATUS


class RetryPolicy(Protocol):
    def __call__(self, error: ApiError, attempt: int) -> float | None: ...


@record
class ExponentialBackoff:
    """Exponential backoff with jitter, bounded in attempts and delay.

    Delay for attempt ``n`` (1-based) is ``min(cap, base * factor**(n-1))`` scaled by a random
    factor in ``[1 - jitter, 1]``. A 429 with ``Retry-After`` sleeps what the server asked for
    (up to ``max_retry_after``). Non-retryable errors (400, 403, 404, 409, 422, …) return None at
    once, so they surface with the API's message.
    """

    base: float = 0.25
    factor: float = 2.0
    cap: float = 10.0
    max_attempts: int = 6
    jitter: float = 0.5
    max_retry_after: float = 60.0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def backoff(self, attempt: int) -> float:
        """The jittered delay for ``attempt`` ignoring limits (also used to pace watch reconnects)."""
        raw = min(self.cap, self.base * self.factor ** max(0, attempt - 1))
        return raw * (1.0 - self.jitter * self.rng.random())

    def __call__(self, error: ApiError, attempt: int) -> float | None:
        if not is_retryable(error) or attempt >= self.max_attempts:
            return None
        # The API server sends Retry-After with 429 (max-in-flight, priority and fairness) and
        # some 503s/504s; proxies and gateways send it with 503. Honour it whatever the status.
        if error.retry_after is not None:
            return max(0.0, min(error.retry_after, self.max_retry_after))
        return self.backoff(attempt)


class NoRetry:
    """A policy that never retries (useful to see raw errors)."""

    def backoff(self, attempt: int) -> float:
        return 0.5

    def __call__(self, error: ApiError, attempt: int) -> float | None:
        return None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds (what Kubernetes sends) or an
    HTTP-date (RFC 9110, what some proxies and gateways send). None when unparseable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime
    import time as _time

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT
        from datetime import timezone

        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - (_time.time() if now is None else now))
