"""Builders for realistic Pod status fragments (container states, conditions)."""

from __future__ import annotations

import hashlib
from typing import Any

from podc.testing._util import now_iso, set_condition


def waiting(reason: str, message: str | None = None) -> dict[str, Any]:
    w: dict[str, Any] = {"reason": reason}
    if message:
        w["message"] = message
    return {"waiting": w}


def running(started_at: str) -> dict[str, Any]:
    return {"running": {"startedAt": started_at}}


def terminated(code: int, reason: str, started_at: str | None, container_id: str | None,
               message: str | None = None) -> dict[str, Any]:
    t: dict[str, Any] = {"exitCode": code, "reason": reason, "finishedAt": now_iso()}
    if started_at:
        t["startedAt"] = started_at
    if container_id:
        t["containerID"] = container_id
    if message:
        t["message"] = message
    return {"terminated": t}


def image_id(image: str) -> str:
    repo = image.split("@")[0].rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image.split("@")[0]
    if "/" not in repo:
        repo = f"docker.io/library/{repo}"
    return f"{repo}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


def container_id(pod_uid: str, name: str, restarts: int) -> str:
    return "containerd://" + hashlib.sha256(f"{pod_uid}/{name}/{restarts}".encode()).hexdigest()


def container_status(
    c: dict[str, Any], state: dict[str, Any], *, ready: bool = False, restarts: int = 0,
    last_state: dict[str, Any] | None = None, cid: str | None = None,
) -> dict[str, Any]:
    started = "running" in state or "terminated" in state
    status: dict[str, Any] = {
        "name": c["name"], "image": c.get("image", ""), "imageID": image_id(c.get("image", "")) if started else "",
        "ready": ready, "restartCount": restarts, "started": "running" in state,
        "state": state, "lastState": last_state or {},
    }
    if cid and started:
        status["containerID"] = cid
    return status


def set_pod_conditions(status: dict[str, Any], *, initialized: bool, ready: bool, sandbox: bool,
                       reason: str | None = None, message: str | None = None) -> None:
    conds = status.setdefault("conditions", [])
    now = now_iso()

    def cond(type_: str, ok: bool, why: str | None = None, msg: str | None = None) -> dict[str, Any]:
        c: dict[str, Any] = {"type": type_, "status": "True" if ok else "False", "lastProbeTime": None,
                             "lastTransitionTime": now}
        if not ok and why:
            c["reason"] = why
        if not ok and msg:
            c["message"] = msg
        return c

    set_condition(conds, cond("PodReadyToStartContainers", sandbox))
    set_condition(conds, cond("Initialized", initialized))
    set_condition(conds, cond("Ready", ready, reason or "ContainersNotReady", message))
    set_condition(conds, cond("ContainersReady", ready, reason or "ContainersNotReady", message))
    order = {"PodReadyToStartContainers": 0, "Initialized": 1, "Ready": 2, "ContainersReady": 3, "PodScheduled": 4}
    conds.sort(key=lambda c: order.get(c["type"], 9))
