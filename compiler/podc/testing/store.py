"""The object store: one global resourceVersion counter, copy-on-write objects, watch history.

Objects are stored as plain JSON dicts and replaced (never mutated in place) on every write, so
references handed out by :meth:`Store.items` stay valid snapshots. Every write appends a
:class:`WatchEvent` to a bounded history that watches replay from; a watch asking for a
resourceVersion older than the history (see :meth:`Store.compact`) gets 410 Gone.
"""

from __future__ import annotations

import bisect
import copy
import threading
from collections.abc import Callable, Iterable
from typing import Any

from podc._record import record
from podc.testing._util import new_uid, now_iso
from podc.testing.api_errors import ApiError, already_exists, conflict, gone, not_found
from podc.testing.resources import RESOURCE_TYPES, resource_type

Key = tuple[str, str]  # (namespace or "", name)


@record(frozen=True)
class WatchEvent:
    rv: int
    type: str  # ADDED | MODIFIED | DELETED
    resource: str
    namespace: str
    obj: dict[str, Any]
    prev: dict[str, Any] | None


class WatchDropped(Exception):
    """Raised to a waiting watch when the test asked for all watches to be dropped."""


class Store:
    def __init__(self, history_limit: int = 50_000) -> None:
        self.lock = threading.RLock()
        self._cond = threading.Condition(self.lock)
        self._data: dict[str, dict[Key, dict[str, Any]]] = {r: {} for r in RESOURCE_TYPES}
        self._rv = 0
        self._history: list[WatchEvent] = []
        self._history_limit = history_limit
        self._min_rv = 0  # a watch may resume from any RV >= this
        self._watch_epoch = 0
        self._closed = False
        self._listeners: list[Callable[[WatchEvent], None]] = []

    # ---- reading -------------------------------------------------------------------------
    @property
    def resource_version(self) -> int:
        return self._rv

    def add_listener(self, fn: Callable[[WatchEvent], None]) -> None:
        self._listeners.append(fn)

    def get(self, resource: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """A deep copy of the object, or None."""
        obj = self.peek(resource, namespace, name)
        return copy.deepcopy(obj) if obj is not None else None

    def peek(self, resource: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """The stored object itself (treat as read-only)."""
        return self._data[resource].get((namespace or "", name))

    def items(self, resource: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Stored objects (read-only references), sorted by namespace and name."""
        with self.lock:
            pairs = sorted(self._data[resource].items())
        return [obj for (ns, _), obj in pairs if namespace is None or ns == namespace]

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
    ) -> list[dict[str, Any]]:
        """Deep copies of the matching objects."""
        return [copy.deepcopy(o) for o in self.items(resource, namespace) if predicate is None or predicate(o)]

    def list_with_rv(
        self, resource: str, namespace: str | None, predicate: Callable[[dict[str, Any]], bool]
    ) -> tuple[list[dict[str, Any]], int]:
        with self.lock:
            return [o for o in self.items(resource, namespace) if predicate(o)], self._rv

    # ---- writing -------------------------------------------------------------------------
    def _record(self, type_: str, resource: str, obj: dict[str, Any], prev: dict[str, Any] | None) -> None:
        ev = WatchEvent(self._rv, type_, resource, obj["metadata"].get("namespace", ""), obj, prev)
        self._history.append(ev)
        if len(self._history) > self._history_limit:
            drop = len(self._history) // 2
            self._min_rv = self._history[drop - 1].rv
            del self._history[:drop]
        self._cond.notify_all()
        for fn in self._listeners:
            fn(ev)

    def create(self, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        rt = resource_type(resource)
        assert rt is not None
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        key = (meta.get("namespace", "") if rt.namespaced else "", meta["name"])
        with self.lock:
            if key in self._data[resource]:
                raise already_exists(rt, meta["name"])
            self._rv += 1
            meta["uid"] = meta.get("uid") or new_uid()
            meta["creationTimestamp"] = meta.get("creationTimestamp") or now_iso()
            meta["resourceVersion"] = str(self._rv)
            obj["apiVersion"] = rt.api_version
            obj["kind"] = rt.kind
            self._data[resource][key] = obj
            self._record("ADDED", resource, obj, None)
            return obj

    def replace(self, resource: str, obj: dict[str, Any], expect_rv: str | None = None) -> dict[str, Any]:
        """Store ``obj`` over the existing object; no-op (no new RV) when nothing changed."""
        rt = resource_type(resource)
        assert rt is not None
        obj = copy.deepcopy(obj)
        meta = obj["metadata"]
        key = (meta.get("namespace", "") if rt.namespaced else "", meta["name"])
        with self.lock:
            old = self._data[resource].get(key)
            if old is None:
                raise not_found(rt, meta["name"])
            if expect_rv and expect_rv != old["metadata"]["resourceVersion"]:
                raise conflict(rt, meta["name"])
            for fixed in ("uid", "creationTimestamp", "resourceVersion"):
                meta[fixed] = old["metadata"][fixed]
            obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
            if obj == old:
                return old
            self._rv += 1
            meta["resourceVersion"] = str(self._rv)
            self._data[resource][key] = obj
            self._record("MODIFIED", resource, obj, old)
            return obj

    def mutate(
        self, resource: str, namespace: str | None, name: str, fn: Callable[[dict[str, Any]], None]
    ) -> dict[str, Any] | None:
        """Atomically apply ``fn`` to a copy of the object and store it; None when it is gone."""
        with self.lock:
            cur = self.peek(resource, namespace, name)
            if cur is None:
                return None
            new = copy.deepcopy(cur)
            fn(new)
            return self.replace(resource, new)

    def remove(self, resource: str, namespace: str | None, name: str) -> dict[str, Any]:
        rt = resource_type(resource)
        assert rt is not None
        key = (namespace or "" if rt.namespaced else "", name)
        with self.lock:
            old = self._data[resource].pop(key, None)
            if old is None:
                raise not_found(rt, name)
            self._rv += 1
            gone_obj = copy.deepcopy(old)
            gone_obj["metadata"]["resourceVersion"] = str(self._rv)
            self._record("DELETED", resource, gone_obj, old)
            return gone_obj

    # ---- watching ------------------------------------------------------------------------
    def compact(self) -> None:
        """Forget the history: any watch resuming from an RV older than now gets 410 Gone."""
        with self.lock:
            self._history.clear()
            self._min_rv = self._rv

    def drop_watches(self) -> None:
        with self.lock:
            self._watch_epoch += 1
            self._cond.notify_all()

    def close(self) -> None:
        with self.lock:
            self._closed = True
            self._watch_epoch += 1
            self._cond.notify_all()

    def watch_epoch(self) -> int:
        return self._watch_epoch

    def check_resumable(self, rv: int) -> None:
        if rv < self._min_rv:
            raise gone(f"too old resource version: {rv} ({self._min_rv})")

    def events_after(
        self, rv: int, resources: Iterable[str], epoch: int, timeout: float
    ) -> list[WatchEvent]:
        """Events with RV > ``rv`` for ``resources``; waits up to ``timeout`` when there are none."""
        wanted = set(resources)
        with self.lock:
            if self._watch_epoch != epoch:
                raise WatchDropped()
            self.check_resumable(rv)
            out = self._since(rv, wanted)
            if not out:
                self._cond.wait(timeout)
                if self._watch_epoch != epoch:
                    raise WatchDropped()
                self.check_resumable(rv)
                out = self._since(rv, wanted)
            return out

    def _since(self, rv: int, wanted: set[str]) -> list[WatchEvent]:
        start = bisect.bisect_right(self._history, rv, key=lambda e: e.rv)
        return [e for e in self._history[start:] if e.resource in wanted]

    def raise_if_unknown(self, resource: str) -> None:
        if resource not in self._data:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
