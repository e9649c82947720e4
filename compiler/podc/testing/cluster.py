"""``LocalCluster``: the API server, store and simulated control plane wired together."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from podc._record import field, record
from podc.testing.api import Api
from podc.testing.compat import Compat
from podc.testing.events import EventRecorder
from podc.testing.faults import Faults, RequestLog
from podc.testing.gc import GarbageCollector
from podc.testing.http_server import ApiHttpServer
from podc.testing.job_controller import JobController
from podc.testing.kubeconfig import new_token, write_kubeconfig
from podc.testing.kubelet import Kubelet
from podc.testing.outcomes import ScriptRule, parse_outcome
from podc.testing.scheduler import Scheduler
from podc.testing.store import Store

T = TypeVar("T")

_DEFAULT_ALLOCATABLE = {"cpu": "64", "memory": "256Gi", "pods": "110", "ephemeral-storage": "1Ti"}


@record
class SimNode:
    """A simulated node: what the scheduler matches pods against."""

    name: str
    labels: dict[str, str] = field(default_factory=dict)
    taints: list[dict[str, str]] = field(default_factory=list)
    allocatable: dict[str, str] = field(default_factory=dict)
    unschedulable: bool = False

    def to_object(self, index: int) -> dict[str, Any]:
        alloc = {**_DEFAULT_ALLOCATABLE, **{k: str(v) for k, v in self.allocatable.items()}}
        labels = {"kubernetes.io/hostname": self.name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                  **self.labels}
        spec: dict[str, Any] = {"taints": [dict(t) for t in self.taints]} if self.taints else {}
        if self.unschedulable:
            spec["unschedulable"] = True
        return {
            "metadata": {"name": self.name, "labels": labels},
            "spec": spec,
            "status": {
                "capacity": dict(alloc), "allocatable": alloc,
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                "message": "kubelet is posting ready status"}],
                "addresses": [{"type": "InternalIP", "address": f"10.0.0.{index + 2}"},
                              {"type": "Hostname", "address": self.name}],
                "nodeInfo": {"kubeletVersion": "v1.33.0-podc-emulator", "kubeProxyVersion": "",
                             "operatingSystem": "linux", "architecture": "amd64", "osImage": "podc emulator",
                             "kernelVersion": "", "containerRuntimeVersion": "podc-emulator://1",
                             "machineID": f"{index:032x}", "systemUUID": f"00000000-0000-0000-0000-{index:012x}",
                             "bootID": f"00000000-0000-0000-0000-{index:012x}"},
            },
        }


class LocalCluster:
    """An in-process Kubernetes API emulator. Use as a context manager or call start()/stop()."""

    def __init__(
        self,
        mode: str = "scripted",
        nodes: Iterable[SimNode] | None = None,
        service_accounts: Iterable[str] = ("default",),
        process_env: Mapping[str, str] | None = None,
        port: int = 0,
        kubeconfig_path: str | None = None,
        namespace: str = "default",
        default_outcome: str | None = None,
        inherit_env: bool = False,
        pass_env: Iterable[str] = (),
        max_grace_seconds: float = 2.0,
        tick: float = 0.01,
        compat: Mapping[str, Any] | None = None,
    ) -> None:
        if mode not in ("scripted", "process"):
            raise ValueError(f"mode must be 'scripted' or 'process', got {mode!r}")
        self.mode = mode
        self.namespace = namespace
        # The bearer token every API request must carry (written to the kubeconfig, mode 0600):
        # a local process or a web page's cross-origin request without it is refused.
        self.token = new_token()
        # Opt-in behaviours of other implementations (podc.testing.compat); defaults unchanged.
        self.compat = Compat(compat)
        self._nodes = list(nodes) if nodes is not None else [SimNode("emulator-node-1")]
        self._port = port
        self._tick = tick
        self._workdir = tempfile.mkdtemp(prefix="podc-emulator-")
        self.kubeconfig_path = kubeconfig_path or os.path.join(self._workdir, "kubeconfig")
        self.store = Store()
        self.api = Api(self.store, service_accounts)
        self.recorder = EventRecorder(self.api)
        self.request_log = RequestLog()
        self.faults = Faults(self.store.drop_watches, self.store.compact)
        self.internal_errors: list[str] = []
        self._rules: list[ScriptRule] = []
        from podc.testing.process_runner import ProcessRunner

        # Process mode starts commands with a clean environment: only PATH, the variables passed
        # explicitly (process_env, and pass_env names copied from this process) and the pod's own.
        passed = {name: os.environ[name] for name in pass_env if name in os.environ}
        self.runner = ProcessRunner(self.store, os.path.join(self._workdir, "volumes"),
                                    {**passed, **dict(process_env or {})}, inherit_env, max_grace_seconds)
        default = parse_outcome(default_outcome) if default_outcome else None
        self.kubelet = Kubelet(self.api, self.recorder, mode, self._rules, self.runner, default)
        self.scheduler = Scheduler(self.api, self.recorder)
        self.job_controller = JobController(self.api, self.recorder, self.compat)
        self.recorder.compat = self.compat
        self.gc = GarbageCollector(self.api)
        self._wake = threading.Event()
        self.store.add_listener(lambda _ev: self._wake.set())
        self.stopping = False
        self._server: ApiHttpServer | None = None
        self._manager: threading.Thread | None = None

    # ---- lifecycle ------------------------------------------------------------------------
    def start(self) -> LocalCluster:
        for ns in ("default", "kube-system", "kube-public", self.namespace):
            self.api._ensure_namespace(ns)
        for i, node in enumerate(self._nodes):
            self.api.create("nodes", None, node.to_object(i))
        try:
            self._server = ApiHttpServer(self, port=self._port)
        except OSError:
            shutil.rmtree(self._workdir, ignore_errors=True)
            raise
        self._server.start()
        write_kubeconfig(self.kubeconfig_path, self.url, self.namespace, token=self.token)
        self._manager = threading.Thread(target=self._run_controllers, name="podc-emulator-controllers", daemon=True)
        self._manager.start()
        return self

    def stop(self) -> None:
        self.stopping = True
        self.store.close()
        self._wake.set()
        if self._manager:
            self._manager.join(timeout=5)
        self.kubelet.shutdown()
        if self._server:
            self._server.stop()
        shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run_controllers(self) -> None:
        controllers: list[Callable[[], None]] = [self.scheduler.sync, self.kubelet.sync, self.job_controller.sync,
                                                 self.gc.sync]
        if self.compat.no_job_controller:
            controllers.remove(self.job_controller.sync)
        while not self.stopping:
            self._wake.wait(self._tick)
            self._wake.clear()
            for sync in controllers:
                try:
                    sync()
                except Exception:  # a controller bug must not kill the cluster; tests can assert on it
                    self.internal_errors.append(traceback.format_exc())

    # ---- access ---------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._server is not None, "the cluster is not started"
        return self._server.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api_client(self) -> Any:
        """A ``kubernetes.client.ApiClient`` configured from this cluster's kubeconfig."""
        from kubernetes import config

        return config.new_client_from_config(config_file=self.kubeconfig_path)

    def restart_api(self, downtime: float = 0.0) -> None:
        """Close the listening socket and every connection, then listen again on the same port."""
        assert self._server is not None
        self.store.drop_watches()
        self._server.restart(downtime)

    # ---- scripting ------------------------------------------------------------------------
    def script(self, outcome: str, match_labels: Mapping[str, str] | None = None, job_name: str | None = None,
               namespace: str | None = None, pod_name_prefix: str | None = None) -> ScriptRule:
        """Decide the outcome of matching pods (first matching rule wins; a pod's
        ``podc.dev/emulator-outcome`` annotation beats every rule)."""
        rule = ScriptRule(parse_outcome(outcome), dict(match_labels or {}), job_name, namespace, pod_name_prefix)
        self._rules.append(rule)
        return rule

    def unscript(self, rule: ScriptRule | None = None) -> None:
        """Remove one rule returned by :meth:`script`, or all rules."""
        if rule is None:
            self._rules.clear()
        else:
            self._rules.remove(rule)

    def add_node(self, node: SimNode) -> None:
        self.api.create("nodes", None, node.to_object(len(self.store.items("nodes"))))

    # ---- assertions helpers ---------------------------------------------------------------
    def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0, interval: float = 0.01,
                 message: str | None = None) -> T:
        """Poll ``predicate`` until it returns something truthy; return it or raise TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(message or f"condition not met within {timeout}s")
            time.sleep(interval)

    def job(self, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        return self.store.get("jobs", namespace or self.namespace, name)

    def pods_of(self, job_name: str, namespace: str | None = None) -> list[dict[str, Any]]:
        return self.store.list("pods", namespace or self.namespace,
                               lambda p: (p["metadata"].get("labels") or {}).get("job-name") == job_name)

    def events_for(self, name: str, namespace: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        return self.store.list("events", namespace or self.namespace,
                               lambda e: e["involvedObject"].get("name") == name
                               and (kind is None or e["involvedObject"].get("kind") == kind))

    def job_condition(self, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """The job's Complete or Failed condition (status True), or None while it runs."""
        job = self.job(name, namespace)
        for c in (job or {}).get("status", {}).get("conditions", []) if job else []:
            if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
                return c
        return None
