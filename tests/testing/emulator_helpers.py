"""Shared helpers for the emulator tests (bodies and waits)."""

from __future__ import annotations

from typing import Any


def job_body(name: str, *, outcome: str | None = None, labels: dict[str, str] | None = None,
             restart_policy: str = "Never", **spec: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"labels": dict(labels or {})}
    if outcome:
        meta["annotations"] = {"podc.dev/emulator-outcome": outcome}
    container = spec.pop("container", None) or {"name": "main", "image": "busybox:1.36"}
    pod_spec = {"restartPolicy": restart_policy, "containers": [container], **spec.pop("pod_spec", {})}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"backoffLimit": 0, **spec, "template": {"metadata": meta, "spec": pod_spec}}}


def pod_body(name: str, *, outcome: str | None = None, **spec: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if outcome:
        meta["annotations"] = {"podc.dev/emulator-outcome": outcome}
    container = spec.pop("container", None) or {"name": "main", "image": "busybox:1.36"}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"restartPolicy": "Never", "containers": [container], **spec}}


def wait_job_finished(cluster: Any, name: str, timeout: float = 5.0) -> dict[str, Any]:
    return cluster.wait_for(lambda: cluster.job_condition(name), timeout, message=f"job {name} did not finish")


def wait_pod_phase(cluster: Any, name: str, phase: str, timeout: float = 5.0) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        pod = cluster.store.get("pods", "default", name)
        return pod if pod and pod.get("status", {}).get("phase") == phase else None
    return cluster.wait_for(check, timeout, message=f"pod {name} never reached {phase}")


# The official client changed how it decodes some answers between releases (36 returns
# "b'...'" for pod logs and a V1Status for deletes, 37 a str and a dict): read the raw body.
def pod_log(core: Any, name: str, namespace: str, **kwargs: Any) -> str:
    resp = core.read_namespaced_pod_log(name, namespace, _preload_content=False, **kwargs)
    return resp.data.decode("utf-8")


def raw_json(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    import json

    return json.loads(call(*args, _preload_content=False, **kwargs).data)
