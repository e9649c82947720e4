"""Reading Kubernetes Events whichever API wrote them (pure, no I/O).

Controllers write core/v1 Events (``lastTimestamp``, aggregated with ``count``); newer writers
(the scheduler, the kubelet in recent versions) use events.k8s.io/v1, which reads through core/v1
with ``eventTime`` (MicroTime) and ``series.lastObservedTime`` instead and no ``lastTimestamp``.
resourceVersions are opaque strings and never decide an order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

__all__ = ["event_time", "latest_event"]


def event_time(event: dict[str, Any]) -> float:
    """When an Event was last seen, in seconds since the epoch (0 when it says nothing)."""
    series = event.get("series") or {}
    for value in (series.get("lastObservedTime"), event.get("lastTimestamp"),
                  event.get("eventTime"), event.get("firstTimestamp"),
                  (event.get("metadata") or {}).get("creationTimestamp")):
        if value:
            try:
                return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return 0.0


def latest_event(events: Sequence[dict[str, Any]], reasons: Iterable[str]) -> dict[str, Any] | None:
    """The most recent Warning Event with one of ``reasons``; ties keep the listing order."""
    wanted = set(reasons)
    hits = [e for e in events
            if e.get("reason") in wanted and (e.get("type") or "Warning") == "Warning"]
    if not hits:
        return None
    return max(enumerate(hits), key=lambda ie: (event_time(ie[1]), ie[0]))[1]
