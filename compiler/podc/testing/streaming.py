"""Long-running responses: watch streams and pod log streams (chunked transfer encoding)."""

from __future__ import annotations

import json
import time
from typing import Any

from podc.testing._util import dig
from podc.testing.api_errors import ApiError, bad_request
from podc.testing.resources import RESOURCE_TYPES
from podc.testing.routing import Route, is_true, number_param
from podc.testing.selectors import selector_predicate
from podc.testing.store import WatchDropped, WatchEvent

# podc.testing.cluster.LocalCluster and http_server._Handler, which import this module.
LocalCluster = _Handler = Any


def _line(type_: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": type_, "object": obj}, separators=(",", ":")).encode() + b"\n"


def _translate(ev: WatchEvent, pred: Any) -> str | None:
    """The event type a filtered watch reports (an object leaving the selector is DELETED)."""
    new_match = pred(ev.obj)
    if ev.type == "ADDED":
        return "ADDED" if new_match else None
    if ev.type == "DELETED":
        return "DELETED" if new_match else None
    old_match = ev.prev is not None and pred(ev.prev)
    if new_match:
        return "MODIFIED" if old_match else "ADDED"
    return "DELETED" if old_match else None


def stream_watch(handler: _Handler, cluster: LocalCluster, r: Route, query: dict[str, str]) -> None:
    assert r.resource is not None
    store = cluster.store
    rt = RESOURCE_TYPES[r.resource]
    namespace = r.namespace if rt.namespaced else None
    labels = None if cluster.compat.ignore_label_selectors else query.get("labelSelector")
    pred = selector_predicate(labels, query.get("fieldSelector"), r.resource)
    timeout = number_param(query, "timeoutSeconds") or None
    compat = cluster.compat
    if compat.watch_timeout_cap:  # a server that ends watches early, silently
        timeout = min(timeout or compat.watch_timeout_cap, compat.watch_timeout_cap)
    rv_param = query.get("resourceVersion")
    epoch = store.watch_epoch()
    initial: list[dict[str, Any]] = []
    expired: ApiError | None = None
    with store.lock:
        if rv_param in (None, "", "0"):
            initial = [o for o in store.items(r.resource, namespace) if pred(o)]
            cur = store.resource_version
        else:
            try:
                cur = int(rv_param)
            except ValueError:
                raise bad_request(f'invalid resource version "{rv_param}"') from None
            try:
                store.check_resumable(cur)
            except ApiError as e:
                expired = e
    if expired is not None and compat.watch_expired == "http":
        raise expired  # HTTP 410 on the watch request itself
    handler.start_stream()
    if expired is not None:
        body = expired.status_body()
        if compat.watch_expired == "event500":
            body.update(code=500, reason="InternalError",
                        message=f"etcdserver: mvcc: required revision has been compacted; "
                                f"{body.get('message')}")
        handler.write_chunk(_line("ERROR", body))
        handler.end_stream()
        return
    for obj in initial:
        handler.write_chunk(_line("ADDED", obj))
    deadline = time.monotonic() + timeout if timeout else None
    bookmarks = is_true(query.get("allowWatchBookmarks")) and compat.bookmarks
    sent_rv = cur
    while not cluster.stopping:
        wait = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
        if wait <= 0:
            break
        try:
            events = store.events_after(cur, (r.resource,), epoch, wait)
        except WatchDropped:
            handler.abort_stream()
            return
        except ApiError as e:
            handler.write_chunk(_line("ERROR", e.status_body()))
            break
        out = bytearray()
        for ev in events:
            cur = ev.rv
            if namespace is not None and ev.namespace != namespace:
                continue
            kind = _translate(ev, pred)
            if kind:
                out += _line(kind, ev.obj)
        if out:
            handler.write_chunk(bytes(out))
            sent_rv = cur
        elif handler.client_gone():
            return
        elif bookmarks and cur != sent_rv:
            # Tell the client how far it has seen, so a resume after compaction starts recent.
            handler.write_chunk(_line("BOOKMARK", {"kind": rt.kind, "apiVersion": rt.api_version,
                                                   "metadata": {"resourceVersion": str(cur)}}))
            sent_rv = cur
    handler.end_stream()


def _tail(data: bytes, lines: int) -> bytes:
    if lines <= 0:
        return b""
    parts = data.splitlines(keepends=True)
    return b"".join(parts[-lines:])


def stream_logs(handler: _Handler, cluster: LocalCluster, namespace: str, name: str, query: dict[str, str]) -> None:
    pod = cluster.api.get("pods", namespace, name)
    names = [c["name"] for c in dig(pod, "spec", "containers", default=[])]
    init_names = [c["name"] for c in dig(pod, "spec", "initContainers", default=[])]
    container = query.get("container")
    if not container:
        if len(names) != 1:
            raise bad_request(f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]")
        container = names[0]
    elif container not in names + init_names:
        raise bad_request(f"container {container} is not valid for pod {name}")
    previous = is_true(query.get("previous"))
    buf = cluster.kubelet.log_buffer(pod["metadata"]["uid"], container, previous)
    if buf is None:
        if previous:
            raise bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
        statuses = dig(pod, "status", "containerStatuses", default=[]) + dig(pod, "status", "initContainerStatuses", default=[])
        status = next((s for s in statuses if s.get("name") == container), None)
        reason = dig(status, "state", "waiting", "reason", default="ContainerCreating")
        if reason in ("ErrImagePull", "ImagePullBackOff"):
            raise bad_request(f'container "{container}" in pod "{name}" is waiting to start: trying and failing to pull image')
        if reason == "CreateContainerConfigError":
            raise bad_request(f'container "{container}" in pod "{name}" is waiting to start: CreateContainerConfigError')
        raise bad_request(f'container "{container}" in pod "{name}" is waiting to start: {reason}')
    tail = number_param(query, "tailLines")
    limit = number_param(query, "limitBytes")
    data = buf.snapshot()
    offset = len(data)
    if tail is not None:
        data = _tail(data, tail)
    if limit is not None:
        data = data[:limit]
    if not is_true(query.get("follow")):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Content-Length", str(len(data)))
        handler._status = 200
        handler._record()
        handler.end_headers()
        handler.wfile.write(data)
        return
    handler.start_stream("text/plain")
    handler.write_chunk(data)
    sent = len(data)
    while not cluster.stopping:
        chunk, closed = buf.read_from(offset, timeout=0.5)
        if chunk:
            if limit is not None:
                chunk = chunk[: max(0, limit - sent)]
            offset += len(chunk)
            sent += len(chunk)
            handler.write_chunk(chunk)
        if closed and not chunk:
            break
        if limit is not None and sent >= limit:
            break
        if not chunk and handler.client_gone():
            return
    handler.end_stream()
