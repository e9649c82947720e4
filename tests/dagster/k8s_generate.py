"""Seeded random dagster-k8s configurations with overlapping levels, for the differential test.

Values come from small pools (env names A-E, volumes v1-v3, mount paths /m1-/m3, toleration keys
t1-t3, …) so levels collide often: the same env var at the executor and on the op tag, a volume
redefined, SHALLOW over DEEP, identical items repeated. Every generated configuration is one
dagster-k8s accepts.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

ENV_NAMES = ["A", "B", "C", "D", "E"]
HOST_ENV = {"PODC_DIFF_HOST_A": "from-run-worker", "PODC_DIFF_HOST_B": "b=c"}


@dataclass
class Case:
    seed: int
    executor: dict[str, Any]  # raw run config of execution.config (both executors accept it)
    launcher: dict[str, Any]  # K8sRunLauncher attributes
    container_context: dict[str, Any] | None
    op_tags: dict[str, str]
    run_tags: dict[str, str]
    op_name: str = "train"
    origin_image: str | None = "loc/image:1"
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return json.dumps({"seed": self.seed, "executor": self.executor, "launcher": self.launcher,
                           "container_context": self.container_context, "op_tags": self.op_tags,
                           "run_tags": self.run_tags}, indent=1, sort_keys=True, default=str)


class Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def pick(self, items: list[Any]) -> Any:
        return self.r.choice(items)

    def some(self, items: list[Any], n: int = 2) -> list[Any]:
        return self.r.sample(items, self.r.randint(1, min(n, len(items))))

    def case_key(self, snake: str) -> str:
        """dagster-k8s reads snake_case and camelCase alike."""
        if self.chance(0.3):
            head, *rest = snake.split("_")
            return head + "".join(p.capitalize() for p in rest)
        return snake

    # -- Kubernetes values ------------------------------------------------------------------
    def env(self) -> dict[str, Any]:
        name = self.pick(ENV_NAMES)
        kind = self.r.random()
        if kind < 0.55:
            return {"name": name, "value": self.pick(["1", "2", "x", f"$({self.pick(ENV_NAMES)})"])}
        if kind < 0.75:
            return {"name": name, self.case_key("value_from"): {self.case_key("secret_key_ref"): {
                "name": self.pick(["s1", "s2"]), "key": self.pick(["k1", "k2"])}}}
        if kind < 0.9:
            return {"name": name, "value_from": {"field_ref": {"field_path": "metadata.name"}}}
        return {"name": name, "value_from": {"resource_field_ref": {
            "container_name": self.pick(["dagster", "box"]), "resource": "limits.memory"}}}

    def volume(self) -> dict[str, Any]:
        name = self.pick(["v1", "v2", "v3"])
        source = self.pick([{"empty_dir": {}}, {"emptyDir": {"size_limit": self.pick(["1Gi", "2Gi"])}},
                            {"config_map": {"name": self.pick(["cm1", "cm2"])}},
                            {"secret": {"secret_name": "sec1"}}])
        return {"name": name, **source}

    def mount(self) -> dict[str, Any]:
        out = {"name": self.pick(["v1", "v2", "v3"]), self.case_key("mount_path"): self.pick(["/m1", "/m2", "/m3"])}
        if self.chance(0.3):
            out["read_only"] = self.pick([True, False])
        return out

    def toleration(self) -> dict[str, Any]:
        tol = {"key": self.pick(["t1", "t2", "t3"]), "operator": self.pick(["Exists", "Equal"]),
               "effect": self.pick(["NoSchedule", "NoExecute"])}
        if tol["operator"] == "Equal":
            tol["value"] = self.pick(["a", "b"])
        if tol["effect"] == "NoExecute" and self.chance(0.5):
            tol["toleration_seconds"] = self.pick([30, 60])
        return tol

    def resources(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.chance(0.7):
            out["limits"] = {k: self.pick(v) for k, v in (("cpu", ["1", "2", "500m"]), ("memory", ["1Gi", "2Gi"]))
                             if self.chance(0.7)}
        if self.chance(0.7):
            out["requests"] = {k: self.pick(v) for k, v in (("cpu", ["100m", "250m"]), ("memory", ["256Mi", "512Mi"]))
                               if self.chance(0.7)}
        return out

    def labels(self) -> dict[str, str]:
        return {k: self.pick(["a", "b", "c"]) for k in self.some(["team", "tier", "kueue.x-k8s.io/queue-name"], 2)}

    def security_context(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.chance(0.6):
            out[self.case_key("run_as_user")] = self.pick([1000, 2000])
        if self.chance(0.4):
            out["capabilities"] = {"drop": self.some(["ALL", "NET_RAW"])}
        if self.chance(0.3):
            out["read_only_root_filesystem"] = self.pick([True, False])
        return out or {"run_as_non_root": True}

    def affinity(self) -> dict[str, Any]:
        term = {"match_expressions": [{"key": self.pick(["zone", "pool"]), "operator": "In",
                                       "values": self.some(["a", "b", "c"])}]}
        return {"node_affinity": {"required_during_scheduling_ignored_during_execution": {
            "node_selector_terms": [term]}}}

    # -- dagster-k8s sections -----------------------------------------------------------------
    def container_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.chance(0.6):
            out["env"] = [self.env() for _ in range(self.r.randint(1, 3))]
        if self.chance(0.3):
            out[self.case_key("env_from")] = [{self.pick(["config_map_ref", "secret_ref"]): {"name": self.pick(["cm1", "s1"])}}]
        if self.chance(0.35):
            out["resources"] = self.resources()
        if self.chance(0.3):
            out[self.case_key("volume_mounts")] = [self.mount() for _ in range(self.r.randint(1, 2))]
        if self.chance(0.2):
            out[self.case_key("image_pull_policy")] = self.pick(["IfNotPresent", "Never"])
        if self.chance(0.2):
            out["image"] = self.pick(["tag/image:2", "tag/image:3"])
        if self.chance(0.2):
            out[self.case_key("security_context")] = self.security_context()
        if self.chance(0.1):
            out["name"] = "box"
        if self.chance(0.1):
            out[self.case_key("working_dir")] = self.pick(["/w1", "/w2"])
        if self.chance(0.1):
            out["command"] = ["/entry.sh"]
        return out

    def pod_spec_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.chance(0.4):
            out["tolerations"] = [self.toleration() for _ in range(self.r.randint(1, 2))]
        if self.chance(0.3):
            out["volumes"] = [self.volume() for _ in range(self.r.randint(1, 2))]
        if self.chance(0.3):
            out[self.case_key("node_selector")] = {self.pick(["pool", "zone"]): self.pick(["a", "b"])}
        if self.chance(0.2):
            out["affinity"] = self.affinity()
        if self.chance(0.2):
            out[self.case_key("service_account_name")] = self.pick(["sa1", "sa2"])
        if self.chance(0.15):
            out[self.case_key("image_pull_secrets")] = [{"name": self.pick(["reg1", "reg2"])}]
        if self.chance(0.15):
            out[self.case_key("priority_class_name")] = self.pick(["low", "high"])
        if self.chance(0.1):
            out["security_context"] = {"fs_group": self.pick([1000, 2000])}
        if self.chance(0.1):
            out["containers"] = [{"name": "sidecar", "image": "busybox:1.36"}]
        if self.chance(0.1):
            out["share_process_namespace"] = True
        return out

    def declare(self, mounts: list[dict[str, Any]], volumes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Volumes for every mount (mostly: an undeclared one is a case podc must refuse)."""
        names = {v["name"] for v in volumes}
        for m in mounts:
            if m["name"] not in names and self.chance(0.9):
                volumes.append({**self.volume(), "name": m["name"]})
                names.add(m["name"])
        return volumes

    def user_config(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.chance(0.7):
            out["container_config"] = self.container_config()
        if self.chance(0.6):
            out["pod_spec_config"] = self.pod_spec_config()
        mounts = out.get("container_config", {}).get("volume_mounts") or \
            out.get("container_config", {}).get("volumeMounts") or []
        if mounts:
            pod = out.setdefault("pod_spec_config", {})
            pod["volumes"] = self.declare(mounts, pod.get("volumes") or [])
        if self.chance(0.25):
            out["pod_template_spec_metadata"] = {self.pick(["labels", "annotations"]): self.labels()}
        if self.chance(0.25):
            meta: dict[str, Any] = {self.pick(["labels", "annotations"]): self.labels()}
            if self.chance(0.2):
                meta["finalizers"] = ["example.com/keep"]
            out["job_metadata"] = meta
        if self.chance(0.25):
            out["job_spec_config"] = {self.pick(["backoff_limit", "ttl_seconds_after_finished",
                                                 "active_deadline_seconds"]): self.pick([1, 3, 600])}
        if self.chance(0.3):
            out["merge_behavior"] = self.pick(["DEEP", "SHALLOW"])
        return {k: v for k, v in out.items() if v}

    def flat(self, host_env: bool) -> dict[str, Any]:
        """The flat keys shared by the executor, K8sRunLauncher and container_context.k8s."""
        out: dict[str, Any] = {}
        if self.chance(0.5):
            pool = [f"{n}={self.pick(['1', '2', 'p=q'])}" for n in ENV_NAMES]
            if host_env:
                pool += list(HOST_ENV)
            out["env_vars"] = self.some(pool, 3)
        if self.chance(0.2):
            out["env_config_maps"] = self.some(["cm1", "cm2"])
        if self.chance(0.2):
            out["env_secrets"] = self.some(["s1", "s2"])
        if self.chance(0.25):
            out["volumes"] = [self.volume()]
        if self.chance(0.25):
            out["volume_mounts"] = [self.mount()]
            out["volumes"] = self.declare(out["volume_mounts"], out.get("volumes") or [])
        if self.chance(0.3):
            out["labels"] = self.labels()
        if self.chance(0.25):
            out["resources"] = self.resources()
        if self.chance(0.15):
            out["image_pull_policy"] = self.pick(["IfNotPresent", "Always"])
        if self.chance(0.15):
            out["image_pull_secrets"] = [{"name": self.pick(["reg1", "reg2"])}]
        if self.chance(0.15):
            out["service_account_name"] = self.pick(["sa1", "sa3"])
        if self.chance(0.1):
            out["scheduler_name"] = "custom-scheduler"
        if self.chance(0.15):
            out["security_context"] = self.security_context()
        return out

    def case(self, seed: int) -> Case:
        executor = self.flat(host_env=True)
        if self.chance(0.4):
            executor["step_k8s_config"] = self.user_config()
        if self.chance(0.25):
            executor["per_step_k8s_config"] = {self.pick(["train", "other"]): self.user_config()}
        if self.chance(0.3):
            executor["job_image"] = self.pick(["exec/image:1", "exec/image:2"])
        if self.chance(0.2):
            executor["job_namespace"] = self.pick(["ns-exec", "default"])
        launcher: dict[str, Any] = {}
        if self.chance(0.4):
            launcher = self.flat(host_env=False)
            if self.chance(0.3):
                launcher["run_k8s_config"] = {k: v for k, v in self.user_config().items() if k != "merge_behavior"}
            if self.chance(0.3):
                launcher["job_image"] = "launcher/image:1"
        container_context = None
        if self.chance(0.4):
            k8s = self.flat(host_env=False)
            if self.chance(0.4):
                k8s["run_k8s_config"] = self.user_config()
            if self.chance(0.2):
                k8s["env"] = [self.env()]
            if self.chance(0.2):
                k8s["namespace"] = "ns-location"
            container_context = {"k8s": k8s}
            if self.chance(0.3):
                container_context["env_vars"] = [f"{self.pick(ENV_NAMES)}=shared"]
        op_tags: dict[str, str] = {}
        if self.chance(0.6):
            op_tags["dagster-k8s/config"] = json.dumps(self.user_config())
        if self.chance(0.1):
            op_tags["dagster-k8s/resource_requirements"] = json.dumps(self.resources())
        run_tags = {"dagster-k8s/config": json.dumps(self.user_config())} if self.chance(0.3) else {}
        return Case(seed, executor, launcher, container_context, op_tags, run_tags,
                    origin_image=None if self.chance(0.1) else "loc/image:1")


def generate(seed: int) -> Case:
    return Gen(seed).case(seed)
