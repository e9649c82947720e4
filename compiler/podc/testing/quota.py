"""ResourceQuota admission (the part that makes pod creation fail, as in a real namespace).

Tracked: ``pods``, ``requests.cpu``/``cpu``, ``requests.memory``/``memory``, ``limits.cpu``,
``limits.memory`` and ``count/jobs.batch``. Usage counts non-terminal pods, like the real quota
controller. Messages match the API server::

    pods "etl-" is forbidden: exceeded quota: compute, requested: requests.cpu=2,
    used: requests.cpu=7, limited: requests.cpu=8
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from podc.kube.quantity import format_quantity, parse_quantity
from podc.testing._util import dig
from podc.testing.api_errors import forbidden
from podc.testing.resources import RESOURCE_TYPES
from podc.testing.store import Store

_ALIASES = {"cpu": "requests.cpu", "memory": "requests.memory"}


def _pod_usage(pod: dict[str, Any]) -> dict[str, Decimal]:
    use: dict[str, Decimal] = {"pods": Decimal(1)}
    for c in dig(pod, "spec", "containers", default=[]):
        for section in ("requests", "limits"):
            for res, q in (dig(c, "resources", section) or {}).items():
                if res in ("cpu", "memory"):
                    key = f"{section}.{res}"
                    use[key] = use.get(key, Decimal(0)) + parse_quantity(q)
    # Without explicit requests, Kubernetes defaults requests to limits.
    for res in ("cpu", "memory"):
        if f"requests.{res}" not in use and f"limits.{res}" in use:
            use[f"requests.{res}"] = use[f"limits.{res}"]
    return use


def namespace_usage(store: Store, namespace: str) -> dict[str, Decimal]:
    total: dict[str, Decimal] = {"count/jobs.batch": Decimal(len(store.items("jobs", namespace)))}
    for pod in store.items("pods", namespace):
        if dig(pod, "status", "phase") in ("Succeeded", "Failed"):
            continue
        for k, v in _pod_usage(pod).items():
            total[k] = total.get(k, Decimal(0)) + v
    return total


def _fmt(resource: str, value: Decimal) -> str:
    return format_quantity(value, binary=resource.endswith("memory"))


def check_quota(store: Store, resource: str, obj: dict[str, Any]) -> None:
    """Raise 403 Forbidden when creating ``obj`` would exceed a ResourceQuota in its namespace."""
    if resource not in ("pods", "jobs"):
        return
    namespace = obj["metadata"].get("namespace", "default")
    quotas = store.items("resourcequotas", namespace)
    if not quotas:
        return
    rt = RESOURCE_TYPES[resource]
    shown = obj["metadata"].get("name") or obj["metadata"].get("generateName", "")
    wanted = _pod_usage(obj) if resource == "pods" else {"count/jobs.batch": Decimal(1)}
    used = namespace_usage(store, namespace)
    for quota in quotas:
        hard = {_ALIASES.get(k, k): parse_quantity(v) for k, v in (dig(quota, "spec", "hard") or {}).items()}
        qname = quota["metadata"]["name"]
        if resource == "pods":
            missing = sorted(k for k in hard if k != "pods" and k.startswith(("requests.", "limits.")) and k not in wanted)
            if missing:
                raise forbidden(rt, shown, f"failed quota: {qname}: must specify {','.join(missing)}")
        over = sorted(k for k, limit in hard.items() if k in wanted and used.get(k, Decimal(0)) + wanted[k] > limit)
        if over:
            def join(values: dict[str, Decimal]) -> str:
                return ",".join(f"{k}={_fmt(k, values.get(k, Decimal(0)))}" for k in over)
            raise forbidden(rt, shown, f"exceeded quota: {qname}, requested: {join(wanted)}, "
                                       f"used: {join(used)}, limited: {join(hard)}")


def quota_status(store: Store, quota: dict[str, Any]) -> dict[str, Any]:
    """``status.hard``/``status.used`` as the quota controller would write them."""
    hard = dict(dig(quota, "spec", "hard") or {})
    used = namespace_usage(store, quota["metadata"].get("namespace", "default"))
    return {"hard": hard, "used": {k: _fmt(k, used.get(_ALIASES.get(k, k), Decimal(0))) for k in hard}}
