"""core/v1 Events as the real controllers, scheduler and kubelet write them (deduplicated by count)."""

from __future__ import annotations

import threading
import time
from typing import Any

from podc.testing._util import now_iso
from podc.testing.api import Api
from podc.testing.api_errors import ApiError


class EventRecorder:
    def __init__(self, api: Api) -> None:
        from podc.testing.compat import Compat

        self.compat = Compat()  # LocalCluster sets its own
        self.api = api
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str, str, str], tuple[str, str]] = {}  # key -> (namespace, event name)

    def emit(
        self, obj: dict[str, Any], type_: str, reason: str, message: str, component: str,
        host: str | None = None, field_path: str | None = None,
    ) -> None:
        meta = obj["metadata"]
        ns = meta.get("namespace") or "default"
        key = (meta.get("uid", ""), reason, message, component)
        now = now_iso()
        with self._lock:
            seen = self._seen.get(key)
            if seen is not None:
                def bump(ev: dict[str, Any]) -> None:
                    if ev.get("series") is not None or ev.get("lastTimestamp") is None:
                        # events.k8s.io/v1 writers: a series, not count/lastTimestamp
                        series = ev.get("series") or {"count": 1}
                        ev["series"] = {"count": series["count"] + 1,
                                        "lastObservedTime": _micro_time()}
                        return
                    ev["count"] = ev.get("count", 1) + 1
                    ev["lastTimestamp"] = now
                if self.api.store.mutate("events", seen[0], seen[1], bump) is not None:
                    return
            involved = {
                "kind": obj.get("kind"), "namespace": meta.get("namespace"), "name": meta["name"],
                "uid": meta.get("uid"), "apiVersion": obj.get("apiVersion"),
                "resourceVersion": meta.get("resourceVersion"),
            }
            if field_path:
                involved["fieldPath"] = field_path
            source: dict[str, str] = {"component": component}
            if host:
                source["host"] = host
            event = {
                "metadata": {"name": f"{meta['name']}.{time.time_ns():x}", "namespace": ns},
                "involvedObject": {k: v for k, v in involved.items() if v is not None},
                "reason": reason,
                "message": message,
                "source": source,
                "firstTimestamp": now,
                "lastTimestamp": now,
                "count": 1,
                "type": type_,
                "eventTime": None,
                "reportingComponent": component,
                "reportingInstance": host or "",
            }
            if self.compat.event_style == "events.k8s.io":
                # How an event written through events.k8s.io/v1 reads through core/v1.
                event.update({"firstTimestamp": None, "lastTimestamp": None, "count": None,
                              "source": {}, "eventTime": _micro_time(),
                              "reportingComponent": component, "action": reason})
                event = {k: v for k, v in event.items() if v is not None}
            try:
                created = self.api.create("events", ns, event)
            except ApiError:
                return
            self._seen[key] = (ns, created["metadata"]["name"])


def _micro_time() -> str:
    """A MicroTime, as events.k8s.io/v1 writes ``eventTime``."""
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
