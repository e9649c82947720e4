"""The simulated scheduler: binds Pods to simulated Nodes or reports them Unschedulable.

Filters run in the real default-profile order and each node reports its first failing filter,
so the FailedScheduling message has the real shape::

    0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption:
    0/1 nodes are available: 1 Preemption is not helpful for scheduling.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from podc.kube.quantity import parse_quantity
from podc.testing._util import dig, now_iso, set_condition

if TYPE_CHECKING:
    from podc.testing.api import Api
    from podc.testing.events import EventRecorder

_RESOLVABLE_BY_PREEMPTION = "No preemption victims found for incoming pod"
_NOT_HELPFUL = "Preemption is not helpful for scheduling"


def _match_expr(expr: dict[str, Any], labels: dict[str, str]) -> bool:
    key, op, values = expr.get("key", ""), expr.get("operator", "In"), expr.get("values") or []
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if op in ("Gt", "Lt") and key in labels and values:
        try:
            a, b = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return a > b if op == "Gt" else a < b
    return False


def node_affinity_ok(pod: dict[str, Any], node: dict[str, Any]) -> bool:
    labels = dig(node, "metadata", "labels", default={})
    for k, v in (dig(pod, "spec", "nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    terms = dig(pod, "spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution",
                "nodeSelectorTerms")
    if not terms:
        return True
    fields = {"metadata.name": node["metadata"]["name"]}
    return any(
        all(_match_expr(e, labels) for e in t.get("matchExpressions") or [])
        and all(_match_expr(e, fields) for e in t.get("matchFields") or [])
        and (t.get("matchExpressions") or t.get("matchFields"))
        for t in terms
    )


def _tolerates(tol: dict[str, Any], taint: dict[str, Any]) -> bool:
    if tol.get("effect") and tol["effect"] != taint.get("effect"):
        return False
    if tol.get("operator", "Equal") == "Exists":
        return not tol.get("key") or tol["key"] == taint.get("key")
    return tol.get("key") == taint.get("key") and (tol.get("value") or "") == (taint.get("value") or "")


def untolerated_taint(pod: dict[str, Any], node: dict[str, Any]) -> dict[str, Any] | None:
    tolerations = dig(pod, "spec", "tolerations", default=[])
    for taint in dig(node, "spec", "taints", default=[]):
        if taint.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        if not any(_tolerates(t, taint) for t in tolerations):
            return taint
    return None


def pod_requests(pod: dict[str, Any]) -> dict[str, Decimal]:
    total: dict[str, Decimal] = {}
    for c in dig(pod, "spec", "containers", default=[]):
        for res, q in (dig(c, "resources", "requests") or dig(c, "resources", "limits") or {}).items():
            total[res] = total.get(res, Decimal(0)) + parse_quantity(q)
    for c in dig(pod, "spec", "initContainers", default=[]):
        for res, q in (dig(c, "resources", "requests") or {}).items():
            total[res] = max(total.get(res, Decimal(0)), parse_quantity(q))
    return total


class Scheduler:
    def __init__(self, api: Api, recorder: EventRecorder) -> None:
        self.api = api
        self.store = api.store
        self.recorder = recorder

    def _used(self) -> dict[str, dict[str, Decimal]]:
        used: dict[str, dict[str, Decimal]] = {}
        for pod in self.store.items("pods"):
            node = dig(pod, "spec", "nodeName")
            if node and dig(pod, "status", "phase") not in ("Succeeded", "Failed"):
                slot = used.setdefault(node, {"pods": Decimal(0)})
                slot["pods"] += 1
                for res, q in pod_requests(pod).items():
                    slot[res] = slot.get(res, Decimal(0)) + q
        return used

    def _fit(self, pod: dict[str, Any], node: dict[str, Any], used: dict[str, Decimal]) -> tuple[list[str], bool]:
        """(reasons the node does not fit, whether preemption could help)."""
        if dig(node, "spec", "unschedulable"):
            return ["node(s) were unschedulable"], False
        taint = untolerated_taint(pod, node)
        if taint is not None:
            return [f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value', '')}}}"], False
        if not node_affinity_ok(pod, node):
            return ["node(s) didn't match Pod's node affinity/selector"], False
        alloc = dig(node, "status", "allocatable", default={})
        reasons = []
        if used.get("pods", 0) + 1 > parse_quantity(alloc.get("pods", "110")):
            reasons.append("Too many pods")
        for res, q in sorted(pod_requests(pod).items()):
            if q > 0 and used.get(res, Decimal(0)) + q > parse_quantity(alloc.get(res, "0")):
                reasons.append(f"Insufficient {res}")
        return reasons, True

    def sync(self) -> None:
        pending = [p for p in self.store.items("pods")
                   if not dig(p, "spec", "nodeName") and not p["metadata"].get("deletionTimestamp")
                   and dig(p, "status", "phase") not in ("Succeeded", "Failed")
                   and dig(p, "spec", "schedulerName", default="default-scheduler") == "default-scheduler"]
        if not pending:
            return
        nodes = self.store.items("nodes")
        used = self._used()
        for pod in pending:
            counts: dict[str, int] = {}
            preempt: dict[str, int] = {}
            chosen = None
            for node in nodes:
                reasons, resolvable = self._fit(pod, node, used.get(node["metadata"]["name"], {}))
                if not reasons:
                    chosen = node
                    break
                for r in reasons:
                    counts[r] = counts.get(r, 0) + 1
                key = _RESOLVABLE_BY_PREEMPTION if resolvable else _NOT_HELPFUL
                preempt[key] = preempt.get(key, 0) + 1
            if chosen is not None:
                self._bind(pod, chosen)
                slot = used.setdefault(chosen["metadata"]["name"], {"pods": Decimal(0)})
                slot["pods"] += 1
                for res, q in pod_requests(pod).items():
                    slot[res] = slot.get(res, Decimal(0)) + q
            else:
                self._unschedulable(pod, self._message(len(nodes), counts, preempt))

    @staticmethod
    def _message(n: int, counts: dict[str, int], preempt: dict[str, int]) -> str:
        if n == 0:
            return "no nodes available to schedule pods"
        reasons = ", ".join(f"{c} {r}" for r, c in sorted(counts.items()))
        pre = ", ".join(f"{c} {r}" for r, c in sorted(preempt.items()))
        return f"0/{n} nodes are available: {reasons}. preemption: 0/{n} nodes are available: {pre}."

    def _bind(self, pod: dict[str, Any], node: dict[str, Any]) -> None:
        meta = pod["metadata"]
        node_name = node["metadata"]["name"]

        def fn(p: dict[str, Any]) -> None:
            p["spec"]["nodeName"] = node_name
            st = p.setdefault("status", {})
            set_condition(st.setdefault("conditions", []), {
                "type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": now_iso()})
            for c in st["conditions"]:
                if c["type"] == "PodScheduled":
                    c.pop("reason", None)
                    c.pop("message", None)
        if self.store.mutate("pods", meta.get("namespace"), meta["name"], fn) is not None:
            self.recorder.emit(pod, "Normal", "Scheduled",
                               f"Successfully assigned {meta.get('namespace')}/{meta['name']} to {node_name}",
                               "default-scheduler")

    def _unschedulable(self, pod: dict[str, Any], message: str) -> None:
        meta = pod["metadata"]
        current = next((c for c in dig(pod, "status", "conditions", default=[]) if c.get("type") == "PodScheduled"), None)
        if current and current.get("message") == message:
            return

        def fn(p: dict[str, Any]) -> None:
            set_condition(p.setdefault("status", {}).setdefault("conditions", []), {
                "type": "PodScheduled", "status": "False", "lastProbeTime": None, "lastTransitionTime": now_iso(),
                "reason": "Unschedulable", "message": message})
        if self.store.mutate("pods", meta.get("namespace"), meta["name"], fn) is not None:
            self.recorder.emit(pod, "Warning", "FailedScheduling", message, "default-scheduler")
