"""Pod endings that are not a container exit: eviction, node loss, the pod's own deadline.

Each ends the pod Failed with the ``status.reason``/``message`` (and ``DisruptionTarget``
condition) that the real kubelet or taint manager writes, whatever the pod's restartPolicy.
"""

from __future__ import annotations

from typing import Any

from podc.testing._util import dig, now_iso

# podc.testing.kubelet's Kubelet and PodRuntime: typed loosely, the kubelet imports this module.
Kubelet = PodRuntime = Any

Result = tuple[int, str, "str | None"]


def pod_deadline(kubelet: Kubelet, pod: dict[str, Any], rt: PodRuntime) -> None:
    message = "Pod was active on the node longer than the specified deadline"
    kubelet._event(pod, rt, "Normal", "DeadlineExceeded", message)
    if kubelet.runner and kubelet._uses_process(rt):
        kubelet.runner.kill_pod(rt.uid, grace=0)

    def exceeded(st: dict[str, Any]) -> None:
        st["reason"], st["message"] = "DeadlineExceeded", message
    kubelet._finish(pod, rt, {c["name"]: (137, "Error", None) for c in kubelet._containers(pod)}, exceeded)


def evict(kubelet: Kubelet, pod: dict[str, Any], rt: PodRuntime) -> None:
    container = kubelet._containers(pod)[0]["name"]
    message = ("The node was low on resource: memory. Threshold quantity: 100Mi, available: 42Mi. "
               f"Container {container} was using 1945Mi, request is 0, has larger consumption of memory. ")
    kubelet._event(pod, rt, "Warning", "Evicted", message)
    _disrupt(kubelet, pod, rt, "Evicted", message, ("TerminationByKubelet", message), (137, "Error", None))


def node_lost(kubelet: Kubelet, pod: dict[str, Any], rt: PodRuntime) -> None:
    node = dig(pod, "spec", "nodeName", default="")
    kubelet.recorder.emit(pod, "Warning", "NodeNotReady", "Node is not ready", "node-controller")
    kubelet.recorder.emit(pod, "Normal", "TaintManagerEviction",
                          f"Marking for deletion Pod {rt.namespace}/{rt.name}", "taint-eviction-controller")
    _disrupt(kubelet, pod, rt, "NodeLost", f"Node {node} which was running pod {rt.name} is unresponsive",
             ("DeletionByTaintManager", "Taint manager: deleting due to NoExecute taint"),
             (137, "ContainerStatusUnknown", "The container could not be located when the pod was terminated"))


def _disrupt(kubelet: Kubelet, pod: dict[str, Any], rt: PodRuntime, reason: str, message: str,
             condition: tuple[str, str], result: Result) -> None:
    if kubelet.runner and kubelet._uses_process(rt):
        kubelet.runner.kill_pod(rt.uid, grace=0)

    def disrupted(st: dict[str, Any]) -> None:
        st["reason"], st["message"] = reason, message
        st.setdefault("conditions", []).insert(0, {
            "type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
            "lastTransitionTime": now_iso(), "reason": condition[0], "message": condition[1]})
    kubelet._finish(pod, rt, {c["name"]: result for c in kubelet._containers(pod)}, disrupted)
