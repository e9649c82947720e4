"""One list+watch loop per (resource, namespace, label selector), resuming from resourceVersion.

:class:`ListWatch` lists once, then watches from the list's resourceVersion, remembering the last
version it saw (from events and bookmarks). A dropped stream resumes from there; a 410 Gone
(history compacted) re-lists and reconciles (objects missing from the new list are reported as
deleted); connection errors reconnect with backoff. Consumers get ``on_event(type, obj)`` calls on
this thread, in order.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Callable

from podc.runtime.retry import ApiError, is_retryable
from podc.runtime.transport import LineStream, Transport

__all__ = ["ListWatch"]

log = logging.getLogger("podc.runtime.watch")

EventHandler = Callable[[str, dict[str, Any]], None]


class ListWatch(threading.Thread):
    def __init__(self, transport: Transport, path: str, label_selector: str,
                 on_event: EventHandler, *, backoff: Callable[[int], float],
                 watch_timeout: int = 290, name: str = "podc-watch") -> None:
        super().__init__(name=name, daemon=True)
        self._transport = transport
        self._path = path
        self._selector = label_selector
        self._on_event = on_event
        self._backoff = backoff
        self._watch_timeout = watch_timeout
        self._halt = threading.Event()
        self._stream: LineStream | None = None
        self._lock = threading.Lock()
        self._known: dict[str, dict[str, Any]] = {}  # uid/name -> last object, for re-list diffs
        self.resource_version: str | None = None
        self.synced = threading.Event()
        self.relists = 0
        self.reconnects = 0
        self.last_error: Exception | None = None
        self.fatal_error: ApiError | None = None

    # -- control ------------------------------------------------------------------------------
    def stop(self) -> None:
        self._halt.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.close()

    @property
    def stopped(self) -> bool:
        return self._halt.is_set()

    # -- loop ---------------------------------------------------------------------------------
    def run(self) -> None:
        failures = 0
        while not self._halt.is_set():
            try:
                if self.resource_version is None:
                    self._relist()
                    failures = 0
                if self._watch_once():
                    failures = 0
                else:  # ended at once with nothing: do not spin on a server that hangs up
                    failures += 1
                    self._halt.wait(min(self._backoff(failures), 1.0))
            except ApiError as err:
                if self._halt.is_set():
                    break
                if err.gone:
                    self.resource_version = None
                    continue
                failures += 1
                self.last_error = err
                if not self.synced.is_set() and not is_retryable(err):
                    self.fatal_error = err  # e.g. 403 on list: tell start() now, keep trying
                log.debug("watch %s failed (%s); retry %d", self._path, err, failures)
                self._halt.wait(self._backoff(failures))
            except Exception as err:  # noqa: BLE001 - never let the watch thread die silently
                if self._halt.is_set():
                    break
                failures += 1
                self.last_error = err
                log.warning("watch %s: unexpected error %r", self._path, err)
                self._halt.wait(self._backoff(failures))

    def _relist(self) -> None:
        data = self._transport.request("GET", self._path,
                                       query={"labelSelector": self._selector})
        items = data.get("items") or []
        self.relists += 1
        fresh = {}
        for item in items:
            fresh[_key(item)] = item
        for key, old in list(self._known.items()):
            if key not in fresh:
                self._emit("DELETED", old)
        for item in items:
            self._emit("MODIFIED" if _key(item) in self._known else "ADDED", item)
        self.resource_version = (data.get("metadata") or {}).get("resourceVersion") or None
        self.synced.set()

    def _watch_once(self) -> bool:
        """Stream events until the server ends the watch. True if any event arrived."""
        query = {"watch": True, "labelSelector": self._selector,
                 "resourceVersion": self.resource_version, "allowWatchBookmarks": True,
                 "timeoutSeconds": self._watch_timeout}
        stream = self._transport.stream(self._path, query=query)
        with self._lock:
            self._stream = stream
        if self._halt.is_set():
            stream.close()
            return False
        got = False
        try:
            for line in stream:
                if self._halt.is_set():
                    break
                event = json.loads(line)
                kind = event.get("type")
                obj = event.get("object") or {}
                if kind == "ERROR":
                    code = obj.get("code")
                    if code == 410:
                        raise ApiError(410, obj.get("message") or "resourceVersion too old",
                                       reason="Expired")
                    raise ApiError(int(code or 500), obj.get("message") or "watch error",
                                   reason=obj.get("reason") or "")
                rv = (obj.get("metadata") or {}).get("resourceVersion")
                if rv:
                    self.resource_version = rv
                got = True
                if kind == "BOOKMARK":
                    continue
                self._emit(kind, obj)
        finally:
            with self._lock:
                self._stream = None
            stream.close()
        self.reconnects += 1
        return got

    def _emit(self, kind: str, obj: dict[str, Any]) -> None:
        key = _key(obj)
        if kind == "DELETED":
            self._known.pop(key, None)
        else:
            self._known[key] = obj
        try:
            self._on_event(kind, obj)
        except Exception:  # noqa: BLE001 - a consumer bug must not stop the watch
            log.exception("watch handler failed for %s %s", kind, key)


def _key(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}"
