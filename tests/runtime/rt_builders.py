"""Builders for recorded-looking Job, Pod and Event dicts (shapes as the API server returns them)."""

from __future__ import annotations

from typing import Any


def job(name: str = "podc-train-abc", *, conditions: list[dict[str, Any]] | None = None,
        active: int = 0, failed: int = 0, succeeded: int = 0, **spec: Any) -> dict[str, Any]:
    status: dict[str, Any] = {}
    if conditions:
        status["conditions"] = conditions
    for key, value in (("active", active), ("failed", failed), ("succeeded", succeeded)):
        if value:
            status[key] = value
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"},
            "spec": {"backoffLimit": 0, **spec}, "status": status}


def cond(type_: str, reason: str = "", message: str = "", status: str = "True") -> dict[str, Any]:
    return {"type": type_, "status": status, "reason": reason, "message": message}


def pod(name: str = "podc-train-abc-x1y2z", *, phase: str = "Pending", created: str = "2026-11-24T05:00:00Z",
        containers: list[dict[str, Any]] | None = None, statuses: list[dict[str, Any]] | None = None,
        conditions: list[dict[str, Any]] | None = None, reason: str | None = None,
        message: str | None = None, memory_limit: str | None = "512Mi") -> dict[str, Any]:
    if containers is None:
        resources = {"limits": {"memory": memory_limit}} if memory_limit else {}
        containers = [{"name": "main", "image": "busybox:1.36", "resources": resources,
                       "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}},
                               {"name": "PLAIN", "value": "hunter2-plain-env-value"}]}]
    status: dict[str, Any] = {"phase": phase}
    if statuses is not None:
        status["containerStatuses"] = statuses
    if conditions is not None:
        status["conditions"] = conditions
    if reason:
        status["reason"] = reason
    if message:
        status["message"] = message
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "default", "creationTimestamp": created,
                         "ownerReferences": [{"kind": "Job", "name": "podc-train-abc"}]},
            "spec": {"containers": containers, "restartPolicy": "Never"}, "status": status}


def waiting(reason: str, message: str = "", name: str = "main", image: str = "busybox:1.36") -> dict[str, Any]:
    return {"name": name, "image": image, "ready": False, "restartCount": 0,
            "state": {"waiting": {"reason": reason, "message": message}}}


def running(name: str = "main") -> dict[str, Any]:
    return {"name": name, "image": "busybox:1.36", "ready": True, "restartCount": 0,
            "state": {"running": {"startedAt": "2026-11-24T05:00:01Z"}}}


def terminated(exit_code: int, reason: str = "Error", name: str = "main") -> dict[str, Any]:
    return {"name": name, "image": "busybox:1.36", "ready": False, "restartCount": 0,
            "state": {"terminated": {"exitCode": exit_code, "reason": reason}}}


def event(reason: str, message: str, type_: str = "Warning", last: str = "2026-11-24T05:00:05Z") -> dict[str, Any]:
    return {"metadata": {"name": f"ev-{reason}", "resourceVersion": "1"},
            "involvedObject": {"kind": "Job", "name": "podc-train-abc"}, "reason": reason,
            "message": message, "type": type_, "lastTimestamp": last}


FAST_TIMEOUTS: dict[str, float] = dict(start=3.0, pending=0.6, image_pull=0.4, config_error=0.4,
                                       failed_create=0.4)


def job_manifest(name: str, outcome: str | None = "succeed", *, memory: str = "512Mi",
                 pod_spec: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    annotations = {"podc.dev/emulator-outcome": outcome} if outcome else {}
    container = {"name": "main", "image": "busybox:1.36",
                 "resources": {"requests": {"cpu": "10m", "memory": "16Mi"},
                               "limits": {"memory": memory}}}
    return {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
        "spec": {"backoffLimit": 0, **spec, "template": {
            "metadata": {"annotations": annotations},
            "spec": {"restartPolicy": "Never", "containers": [container], **(pod_spec or {})}}},
    }
