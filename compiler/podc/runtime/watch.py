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

from podc.runtime.retry import ApiError, RetryPolicy, is_retryable
from podc.runtime.transport import Transport

__all__ = ["ListWatch", "list_all"]

log = logging.getLogger("podc.runtime.watch")

EventHandler = Callable[[str, dict[str, Any]], None]


class ListWatch(threading.Thread):
    def __init__(self, transport: Transport, path: str, label_selector: str,
                 on_event: EventHandler, *, backoff: Callable[[int], float],
                 watch_timeout: int = 290, name: str = "podc-watch",
                 retry: RetryPolicy | None = None) -> None:
        super().__init__(name=name, daemon=True)
        self._transport = transport
        self._retry = retry
        self._path = path
        self._selector = label_selector
        self._on_event = on_event
        self._backoff = backoff
        self._watch_timeout = watch_timeout
        self._halt = threading.Event()
        self._stream: Any = None
        self._lock = threading.Lock()
        self._known: dict[str, dict[str, Any]] = {}  # uid/name -> last object, for re-list diffs
        self._wanted = _equality_selector(label_selector)
        self.resource_version: str | None = None
        self.synced = threading.Event()
        self.relists = 0
        self.reconnects = 0
        self.last_error: Exception | None = None
        self.fatal_error: ApiError | None = None

    # -- control ------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop the loop and end what it is blocked in (a stream read, a request, a sleep)."""
        self._halt.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.close()
        interrupt = getattr(self._transport, "interrupt", None)
        if interrupt is not None and self.is_alive():
            interrupt(self)

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
                if err.reason == "WatchError":
                    # Like client-go's reflector: after an ERROR event the resourceVersion is
                    # suspect (compacted, "too large", a server-side failure), so list again.
                    self.resource_version = None
                failures += 1
                self.last_error = err
                if not self.synced.is_set() and self._hopeless(err, failures):
                    self.fatal_error = err  # e.g. 403 on list: start() raises it and closes
                    self._halt.wait()  # no more requests to a server that said no
                    break
                log.debug("watch %s failed (%s); retry %d", self._path, err, failures)
                # An overloaded server (429/503 with Retry-After) says when to come back.
                self._halt.wait(max(self._backoff(failures), min(err.retry_after or 0.0, 60.0)))
            except Exception as err:  # noqa: BLE001 - never let the watch thread die silently
                if self._halt.is_set():
                    break
                failures += 1
                self.last_error = err
                log.warning("watch %s: unexpected error %r", self._path, err)
                self._halt.wait(self._backoff(failures))

    def _hopeless(self, err: ApiError, failures: int) -> bool:
        """Before the first list succeeded: an error that cannot heal (403, TLS, the deadline),
        or one the transport already retried to the end of its policy, is final."""
        if not is_retryable(err) or err.attempts > 1:
            return True
        return self._retry is not None and self._retry(err, failures) is None

    def _relist(self) -> None:
        data = list_all(self._transport, self._path, {"labelSelector": self._selector})
        items = [i for i in data.get("items") or [] if self._selected(i)]
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
                    raise _watch_error(obj)
                rv = (obj.get("metadata") or {}).get("resourceVersion")
                if rv:
                    self.resource_version = rv
                got = True
                if kind == "BOOKMARK":
                    continue
                if not self._selected(obj):
                    # A server that ignored the selector (or an object that left it): the
                    # consumer only ever sees matching objects.
                    if _key(obj) in self._known:
                        self._emit("DELETED", obj)
                    continue
                self._emit(kind, obj)
        finally:
            with self._lock:
                self._stream = None
            stream.close()
        self.reconnects += 1
        return got

    def _selected(self, obj: dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(labels.get(k) == v for k, v in self._wanted.items())

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


_EXPIRED_HINTS = ("too old resource version", "required revision has been compacted",
                  "resourceversion too old", "expired")


def _watch_error(status: dict[str, Any]) -> ApiError:
    """An ERROR event as an ApiError. 410 Gone is one way to say "re-list"; older servers and
    other implementations say it as a 500 "too old resource version" (etcd compaction) or with
    no code at all; every other ERROR is marked ``WatchError`` so the loop re-lists as well."""
    try:
        code = int(status.get("code") or 0)
    except (TypeError, ValueError):
        code = 0
    message = str(status.get("message") or "watch error")
    reason = str(status.get("reason") or "")
    if code == 410 or reason in ("Expired", "Gone") or any(
            hint in message.lower() for hint in _EXPIRED_HINTS):
        return ApiError(410, message, reason="Expired")
    return ApiError(code or 500, message, reason="WatchError")


def list_all(transport: Transport, path: str, query: dict[str, Any],
             max_restarts: int = 3, page_size: int | None = None,
             max_pages: int = 10_000) -> dict[str, Any]:
    """A list, in pages of ``page_size`` (``limit``/``continue``; default the transport's
    ``list_page_size``, 500), so no single response holds the whole collection; every page is
    filtered by the selector as it arrives.

    Proxies, aggregated servers and other implementations may page even when not asked, or ignore
    ``limit``; both work. The resourceVersion is the first page's (the snapshot the pages belong
    to on a real server; on a server whose pages follow the live state, watching from the earliest
    version replays what changed meanwhile). An expired continue token (410) restarts the list.
    """
    wanted = _equality_selector(str(query.get("labelSelector") or ""))
    if page_size is None:
        page_size = getattr(transport, "list_page_size", 500)
    base = {**query, "limit": page_size} if page_size else dict(query)
    restarts = 0
    while True:
        data = transport.request("GET", path, query=base)
        meta = dict(data.get("metadata") or {})
        unique: dict[Any, dict[str, Any]] = {}
        _keep(unique, data.get("items") or [], wanted)
        token = meta.get("continue")
        seen_tokens: set[str] = set()
        try:
            while token and token not in seen_tokens and len(seen_tokens) < max_pages:
                seen_tokens.add(token)
                page = transport.request("GET", path, query={**base, "continue": token})
                _keep(unique, page.get("items") or [], wanted)
                token = (page.get("metadata") or {}).get("continue")
        except ApiError as err:
            if err.gone and restarts < max_restarts:
                restarts += 1
                continue
            raise
        meta.pop("continue", None)
        meta.pop("remainingItemCount", None)
        return {**data, "metadata": meta, "items": list(unique.values())}


def _keep(unique: dict[Any, dict[str, Any]], items: list[Any], wanted: dict[str, str]) -> None:
    """Add the items matching ``wanted``; a live-state pager may return an object twice (it
    moved between pages): the last copy wins."""
    for item in items:
        if not isinstance(item, dict):
            continue
        meta = item.get("metadata") or {}
        labels = meta.get("labels") or {}
        if any(labels.get(k) != v for k, v in wanted.items()):
            continue
        unique[_key(item) if meta.get("uid") or meta.get("name") else len(unique)] = item


def _equality_selector(selector: str) -> dict[str, str]:
    """The ``key=value`` terms of a label selector (the runtime only uses those), checked again
    on every object received: not every server applies selectors to watches correctly."""
    wanted = {}
    for term in filter(None, (t.strip() for t in selector.split(","))):
        key, sep, value = term.partition("=")
        if sep and not key.endswith("!"):
            wanted[key.strip()] = value.lstrip("=").strip()
    return wanted


def _key(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}"
