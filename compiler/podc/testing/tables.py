"""Server-side printing: ``Accept: application/json;as=Table;g=meta.k8s.io;v=v1`` (what
``kubectl get`` asks for) answered with a ``meta.k8s.io/v1 Table`` and the columns the API
server prints for pods and jobs; other kinds get the default NAME / AGE columns."""

from __future__ import annotations

import time
from calendar import timegm
from typing import Any, Callable

__all__ = ["wants_table", "to_table"]


def wants_table(accept: str | None) -> bool:
    """True when the client prefers a Table (the first media type it lists asks for one)."""
    if not accept:
        return False
    first = accept.split(",")[0].replace(" ", "")
    return "as=Table" in first and "g=meta.k8s.io" in first


def _age(ts: str | None, now: float) -> str:
    if not ts:
        return "<unknown>"
    try:
        seconds = max(0, int(now - timegm(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ"))))
    except ValueError:
        return "<unknown>"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * 2 or (unit == "m" and seconds >= 120):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _col(name: str, kind: str = "string", priority: int = 0, fmt: str = "") -> dict[str, Any]:
    return {"name": name, "type": kind, "format": fmt, "description": name, "priority": priority}


def _pod(obj: dict, now: float) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for c in statuses if c.get("ready"))
    reason = status.get("reason") or status.get("phase") or "Pending"
    for c in statuses:  # a waiting or terminated container's reason (Completed, OOMKilled…), as kubectl shows
        state = c.get("state") or {}
        detail = (state.get("waiting") or state.get("terminated") or {}).get("reason")
        if detail:
            reason = detail
    if obj.get("metadata", {}).get("deletionTimestamp"):
        reason = "Terminating"
    restarts = sum(int(c.get("restartCount") or 0) for c in statuses)
    return [obj["metadata"]["name"], f"{ready}/{len(spec.get('containers') or [])}", reason, restarts,
            _age(obj["metadata"].get("creationTimestamp"), now), status.get("podIP") or "<none>",
            spec.get("nodeName") or "<none>"]


def _job(obj: dict, now: float) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    state = ("Complete" if conditions.get("Complete") == "True" else "Failed" if conditions.get("Failed") == "True"
             else "Suspended" if spec.get("suspend") else "Running")
    completions = spec.get("completions")
    done = int(status.get("succeeded") or 0)
    shown = f"{done}/{completions}" if completions is not None else f"{done}/1 of {spec.get('parallelism', 1)}"
    start, end = status.get("startTime"), status.get("completionTime")
    duration = _age(start, now if not end else timegm(time.strptime(end, "%Y-%m-%dT%H:%M:%SZ"))) if start else ""
    containers = (spec.get("template") or {}).get("spec", {}).get("containers") or []
    return [obj["metadata"]["name"], state, shown, duration, _age(obj["metadata"].get("creationTimestamp"), now),
            ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)]


_PRINTERS: dict[str, tuple[list[dict[str, Any]], Callable[[dict, float], list[Any]]]] = {
    "pods": ([_col("Name", fmt="name"), _col("Ready"), _col("Status"), _col("Restarts", "integer"), _col("Age"),
              _col("IP", priority=1), _col("Node", priority=1)], _pod),
    "jobs": ([_col("Name", fmt="name"), _col("Status"), _col("Completions"), _col("Duration"), _col("Age"),
              _col("Containers", priority=1), _col("Images", priority=1)], _job),
}


def _default(obj: dict, now: float) -> list[Any]:
    return [obj["metadata"]["name"], _age(obj["metadata"].get("creationTimestamp"), now)]


def to_table(resource: str, body: dict[str, Any]) -> dict[str, Any]:
    """A Table for a single object or a ``<Kind>List``."""
    columns, printer = _PRINTERS.get(resource, ([_col("Name", fmt="name"), _col("Age")], _default))
    items = body.get("items") if "items" in body and body.get("kind", "").endswith("List") else [body]
    now = time.time()
    rows = [{"cells": printer(obj, now),
             "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                        "metadata": obj.get("metadata", {})}} for obj in items or []]
    meta = {k: v for k, v in (body.get("metadata") or {}).items() if k in ("resourceVersion", "continue")} \
        if "items" in body else {"resourceVersion": (body.get("metadata") or {}).get("resourceVersion", "")}
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "columnDefinitions": columns,
            "rows": rows}
