"""Seeded generator of merge cases: a base Job and 1-3 strategic-merge overlays for each.

The bases and overlays cover env, envFrom, volumes and mounts, ports, tolerations, affinity,
nodeSelector, labels, pod and container security contexts, resources, several containers and
init containers, and every directive podc maps (``$patch: delete`` / ``replace`` on maps and list
items, ``null`` deletes). Every generated Job stays valid for the API server (mounts name declared
volumes, requests <= limits, unique keys), so any difference is a difference in merging.
"""

from __future__ import annotations

import copy
import random
from typing import Any

NAMES_ENV = ["A", "B", "C", "D", "E"]
VOLS = ["v1", "v2", "v3", "v4"]
PORTS = [(80, "TCP"), (53, "TCP"), (53, "UDP"), (8080, "TCP"), (9090, "UDP")]
IMAGES = ["busybox:1.36", "alpine:3.20", "python:3.12"]
LABEL_KEYS = ["team", "tier", "app"]


def _env(rnd: random.Random, names: list[str]) -> list[dict]:
    return [{"name": n, "value": f"{n.lower()}{rnd.randint(0, 9)}"} for n in names]


def _ports(rnd: random.Random, k: int) -> list[dict]:
    return [{"containerPort": p, "protocol": proto} for p, proto in rnd.sample(PORTS, k)]


def _container(rnd: random.Random, name: str, volumes: list[str], rich: bool) -> dict:
    c: dict[str, Any] = {"name": name, "image": rnd.choice(IMAGES)}
    if rnd.random() < 0.8:
        c["env"] = _env(rnd, sorted(rnd.sample(NAMES_ENV, rnd.randint(1, 3))))
    if rich and rnd.random() < 0.5:
        c["envFrom"] = [{"configMapRef": {"name": f"cm{rnd.randint(1, 3)}"}}]
    if rich and rnd.random() < 0.6:
        c["ports"] = _ports(rnd, rnd.randint(1, 2))
    mounts = [v for v in volumes if rnd.random() < 0.6]
    if mounts:
        c["volumeMounts"] = [{"name": v, "mountPath": f"/m/{name}/{v}"} for v in mounts]
    if rnd.random() < 0.7:
        c["resources"] = {"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "500m"}}
    if rnd.random() < 0.5:
        c["securityContext"] = {"runAsUser": rnd.randint(1000, 1010), "readOnlyRootFilesystem": rnd.random() < 0.5}
    return c


def base_job(rnd: random.Random, name: str) -> dict:
    volumes = sorted(rnd.sample(VOLS[:3], rnd.randint(0, 2)))
    pod: dict[str, Any] = {"containers": [_container(rnd, "main", volumes, True)]}
    if rnd.random() < 0.4:
        pod["containers"].append(_container(rnd, "side", volumes, False))
    if rnd.random() < 0.3:
        pod["initContainers"] = [_container(rnd, "init", volumes, False)]
    if volumes:
        pod["volumes"] = [_volume(rnd, v) for v in volumes]
    if rnd.random() < 0.5:
        pod["nodeSelector"] = {"pool": rnd.choice(["a", "b"]), "disk": "ssd"}
    if rnd.random() < 0.5:
        pod["tolerations"] = [{"key": "spot", "operator": "Exists", "effect": "NoSchedule"}]
    if rnd.random() < 0.4:
        pod["affinity"] = _affinity(rnd)
    if rnd.random() < 0.5:
        pod["securityContext"] = {"fsGroup": 2000, "runAsUser": 1000}
    job: dict[str, Any] = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
                           "spec": {"template": {"spec": pod}}}
    if rnd.random() < 0.6:
        job["metadata"]["labels"] = {k: "x" for k in rnd.sample(LABEL_KEYS, 2)}
    return job


def _volume(rnd: random.Random, name: str) -> dict:
    if rnd.random() < 0.5:
        return {"name": name, "emptyDir": {}}
    return {"name": name, "configMap": {"name": f"cfg-{name}"}}


def _affinity(rnd: random.Random) -> dict:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": [rnd.choice(["a", "b", "c"])]}]}]}}}


class _State:
    """What the Job looks like after the patches so far (to keep every patch valid)."""

    def __init__(self, job: dict):
        self.job = copy.deepcopy(job)

    @property
    def pod(self) -> dict:
        return self.job["spec"]["template"]["spec"]

    def containers(self, field: str = "containers") -> list[dict]:
        return self.pod.get(field) or []

    def volumes(self) -> list[str]:
        return [v["name"] for v in self.pod.get("volumes") or []]


def overlay(rnd: random.Random, state: _State, name: str) -> dict:
    """One strategic-merge patch for Job ``name``; ``state`` is updated to what kustomize gives."""
    pod: dict[str, Any] = {}
    job: dict[str, Any] = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
                           "spec": {"template": {"spec": pod}}}
    ops = rnd.sample(_OPS, rnd.randint(1, 4))
    for op in ops:
        op(rnd, state, job, pod)
    if not pod:
        del job["spec"]
    return job


# -- overlay operations: each edits the patch and the expected state alike ----------------------

def _op_labels(rnd, state, job, pod):
    labels = job["metadata"].setdefault("labels", {})
    have = state.job["metadata"].get("labels") or {}
    key = rnd.choice(LABEL_KEYS)
    if key in have and rnd.random() < 0.4:
        labels[key] = None
    else:
        labels[key] = rnd.choice(["y", "z"])


def _op_node_selector(rnd, state, job, pod):
    r = rnd.random()
    if r < 0.3:
        pod["nodeSelector"] = {"$patch": "delete"}
    elif r < 0.5:
        pod["nodeSelector"] = {"$patch": "replace", "pool": "c"}
    elif r < 0.7 and state.pod.get("nodeSelector"):
        pod["nodeSelector"] = {"disk": None}
    else:
        pod["nodeSelector"] = {"pool": rnd.choice(["a", "b", "c"])}


def _op_tolerations(rnd, state, job, pod):
    pod["tolerations"] = [{"key": k, "operator": "Exists"} for k in rnd.sample(["gpu", "spot", "big"], rnd.randint(1, 2))]


def _op_affinity(rnd, state, job, pod):
    pod["affinity"] = {"$patch": "delete"} if rnd.random() < 0.5 else _affinity(rnd)


def _op_pod_security(rnd, state, job, pod):
    r = rnd.random()
    if r < 0.25:
        pod["securityContext"] = {"$patch": "delete"}
    elif r < 0.5 and (state.pod.get("securityContext") or {}).get("fsGroup") is not None:
        pod["securityContext"] = {"fsGroup": None}
    else:
        pod["securityContext"] = {"runAsGroup": rnd.randint(3000, 3003)}


def _container_patch(rnd, state, pod, field="containers") -> tuple[dict, dict] | None:
    existing = state.containers(field)
    if not existing:
        return None
    target = rnd.choice(existing)
    patch_list = pod.setdefault(field, [])
    for item in patch_list:
        if item["name"] == target["name"]:
            return item, target
    item = {"name": target["name"]}
    patch_list.append(item)
    return item, target


def _op_env(rnd, state, job, pod):
    got = _container_patch(rnd, state, pod)
    if got is None:
        return
    item, target = got
    have = [e["name"] for e in target.get("env") or []]
    r = rnd.random()
    if r < 0.15 and have:  # replace-on-absent-list (deliberate-differences.yaml)
        item["env"] = [{"$patch": "replace"}] + _env(rnd, sorted(rnd.sample(NAMES_ENV, 2)))
        return
    env = []
    for n in rnd.sample(NAMES_ENV, rnd.randint(1, 2)):
        if n in have and rnd.random() < 0.4:
            env.append({"name": n, "$patch": "delete"})
        else:
            env.append({"name": n, "value": f"p{rnd.randint(0, 9)}"})
    item["env"] = env


def _op_env_from(rnd, state, job, pod):
    got = _container_patch(rnd, state, pod)
    if got is not None:
        got[0]["envFrom"] = [{"secretRef": {"name": f"s{rnd.randint(1, 3)}"}}]


def _op_ports(rnd, state, job, pod):
    got = _container_patch(rnd, state, pod)
    if got is None:
        return
    item, target = got
    have = [(p["containerPort"], p.get("protocol")) for p in target.get("ports") or []]
    ports = []
    for port, proto in rnd.sample(PORTS, rnd.randint(1, 2)):
        if (port, proto) in have and rnd.random() < 0.5:
            ports.append({"containerPort": port, "protocol": proto, "$patch": "delete"})
        else:
            ports.append({"containerPort": port, "protocol": proto, "name": f"p{port}{proto.lower()}"})
    item["ports"] = ports


def _any_container(rnd, state, pod) -> tuple[dict, dict, float] | None:
    """(patch item, current container, a random draw) for a container or init container."""
    got = _container_patch(rnd, state, pod, rnd.choice(["containers", "initContainers"]))
    return None if got is None else (got[0], got[1], rnd.random())


def _op_resources(rnd, state, job, pod):
    picked = _any_container(rnd, state, pod)
    if picked is None:
        return
    item, target, r = picked
    if r < 0.25:
        item["resources"] = {"$patch": "delete"}
    elif r < 0.5 and target.get("resources"):
        item["resources"] = {"requests": {"cpu": None, "memory": "256Mi"}}
    elif r < 0.7:
        item["resources"] = {"limits": {"$patch": "replace", "cpu": "4", "memory": "2Gi"}}
    else:
        item["resources"] = {"requests": {"cpu": rnd.choice(["100m", "250m"])}}


def _op_container_security(rnd, state, job, pod):
    picked = _any_container(rnd, state, pod)
    if picked is None:
        return
    item, _, r = picked
    if r < 0.3:
        item["securityContext"] = {"$patch": "delete"}
    elif r < 0.6:
        item["securityContext"] = {"runAsUser": rnd.randint(2000, 2005)}
    else:
        item["securityContext"] = {"readOnlyRootFilesystem": None, "privileged": False}


def _op_image(rnd, state, job, pod):
    got = _container_patch(rnd, state, pod, rnd.choice(["containers", "initContainers"]))
    if got is not None:
        got[0]["image"] = rnd.choice(IMAGES)


def _op_add_volume(rnd, state, job, pod):
    free = [v for v in VOLS if v not in state.volumes()]
    if not free:
        return
    v = rnd.choice(free)
    pod.setdefault("volumes", []).append(_volume(rnd, v))
    got = _container_patch(rnd, state, pod)
    if got is not None:
        got[0].setdefault("volumeMounts", []).append({"name": v, "mountPath": f"/m/new/{v}"})


def _op_delete_volume(rnd, state, job, pod):
    if not state.volumes():
        return
    v = rnd.choice(state.volumes())
    if any(x.get("name") == v for x in pod.get("volumes", [])):
        return
    pod.setdefault("volumes", []).append({"name": v, "$patch": "delete"})
    for field in ("containers", "initContainers"):
        for c in state.containers(field):
            paths = [m["mountPath"] for m in c.get("volumeMounts") or [] if m["name"] == v]
            if not paths:
                continue
            lst = pod.setdefault(field, [])
            item = next((i for i in lst if i["name"] == c["name"]), None)
            if item is None:
                item = {"name": c["name"]}
                lst.append(item)
            item.setdefault("volumeMounts", []).extend({"mountPath": p, "$patch": "delete"} for p in paths)


def _add_or_delete_container(field: str, name: str, env: str, delete_odds: float):
    def op(rnd, state, job, pod):
        names = [c["name"] for c in state.containers(field)]
        lst = pod.setdefault(field, [])
        if any(i["name"] == name for i in lst):
            return
        if name in names and rnd.random() < delete_odds:
            lst.append({"name": name, "$patch": "delete"})
        else:
            lst.append({"name": name, "image": rnd.choice(IMAGES), "env": _env(rnd, [env])})
    return op


_op_side_container = _add_or_delete_container("containers", "side", "E", 0.6)
_op_init_container = _add_or_delete_container("initContainers", "init", "A", 0.5)


_OPS = [_op_labels, _op_node_selector, _op_tolerations, _op_affinity, _op_pod_security, _op_env, _op_env_from,
        _op_ports, _op_resources, _op_container_security, _op_image, _op_add_volume, _op_delete_volume,
        _op_side_container, _op_init_container]


def generate(seed: int, n: int) -> list[tuple[dict, list[dict]]]:
    """``n`` cases of (base Job, overlays), named c0000 …"""
    rnd = random.Random(seed)
    cases = []
    for i in range(n):
        name = f"c{i:04d}"
        base = base_job(rnd, name)
        state = _State(base)
        overlays = []
        for _ in range(rnd.randint(1, 3)):
            patch = overlay(rnd, state, name)
            overlays.append(patch)
            state.job = _apply_for_state(state.job, patch)
        cases.append((base, overlays))
    return cases


def _apply_for_state(job: dict, patch: dict) -> dict:
    """A rough merge, only to know which items exist when generating the next overlay."""
    from podc.errors import Diagnostics, Pos
    from podc.merge import merge
    from podc.tree import Origin, from_plain, to_plain

    o = Origin("gen", Pos("gen"))
    return to_plain(merge(from_plain(job, o), from_plain(patch, o), "smp", Diagnostics()))
