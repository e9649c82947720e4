"""The simulated kubelet: drives bound Pods through Pending -> Running -> Succeeded/Failed.

Scripted mode decides each Pod's fate from an :class:`~podc.testing.outcomes.Outcome`; process
mode (or the ``process`` outcome) really runs the container command (see ``process_runner``).
Runs inside the controller-manager thread; only process bookkeeping uses extra threads.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from podc._record import field, record
from podc.testing._util import dig, now_iso
import podc.testing.disruptions as disruptions
from podc.testing.logbuffer import LogBuffer
from podc.testing.outcomes import Outcome, ScriptRule, choose_outcome
from podc.testing.podenv import ConfigError, resolve_env, volume_problem
import podc.testing.podstatus as ps

if TYPE_CHECKING:
    from podc.testing.api import Api
    from podc.testing.events import EventRecorder
    from podc.testing.process_runner import ProcessRunner

TERMINAL = ("Succeeded", "Failed")
_REPEAT_EVENT_SECONDS = 10.0
_IMAGE_BACKOFF_AFTER = 0.2
_CRASHLOOP_DELAY = 0.05  # first restart back-off (the real kubelet: 10 s doubling to 5 min)
_CRASHLOOP_MAX = 5.0


@record
class PodRuntime:
    uid: str
    namespace: str
    name: str
    outcome: Outcome | None
    outcome_error: str | None = None
    stage: str = "new"
    since: float = field(default_factory=time.monotonic)
    started_at: str | None = None
    restarts: int = 0
    fail_this_run: bool = False
    logs: dict[str, LogBuffer] = field(default_factory=dict)
    previous_logs: dict[str, LogBuffer] = field(default_factory=dict)
    last_state: dict[str, dict[str, Any]] = field(default_factory=dict)
    events_sent: dict[tuple[str, str], float] = field(default_factory=dict)
    stopping: bool = False
    first_started: float | None = None


class Kubelet:
    def __init__(
        self, api: Api, recorder: EventRecorder, mode: str, rules: list[ScriptRule],
        runner: ProcessRunner | None = None, default_outcome: Outcome | None = None,
    ) -> None:
        self.api = api
        self.store = api.store
        self.recorder = recorder
        self.mode = mode
        self.rules = rules
        self.runner = runner
        self.default_outcome = default_outcome or Outcome("process" if mode == "process" else "succeed")
        self.runtime: dict[str, PodRuntime] = {}
        self._attempts: dict[str, int] = {}
        self._ip_counter = itertools.count(10)
        self._pod_ips: dict[str, str] = {}
        self._lock = threading.Lock()

    # ---- public (HTTP log endpoint) ----------------------------------------------------------
    def log_buffer(self, uid: str, container: str, previous: bool = False) -> LogBuffer | None:
        with self._lock:
            rt = self.runtime.get(uid)
            if rt is None:
                return None
            return (rt.previous_logs if previous else rt.logs).get(container)

    # ---- the sync loop -----------------------------------------------------------------------
    def sync(self) -> None:
        seen: set[str] = set()
        for pod in self.store.items("pods"):
            if not dig(pod, "spec", "nodeName"):
                continue
            uid = pod["metadata"]["uid"]
            seen.add(uid)
            rt = self.runtime.get(uid)
            if pod["metadata"].get("deletionTimestamp"):
                self._stop_pod(pod, rt)
                continue
            if dig(pod, "status", "phase") in TERMINAL:
                continue
            if rt is None:
                rt = self._admit(pod)
            self._advance(pod, rt)
        with self._lock:
            for uid in [u for u in self.runtime if u not in seen]:
                rt = self.runtime.pop(uid)
                self._pod_ips.pop(uid, None)
                if self.runner:
                    self.runner.kill_pod(uid, grace=0)
                for buf in rt.logs.values():
                    buf.close()

    def _admit(self, pod: dict[str, Any]) -> PodRuntime:
        meta = pod["metadata"]
        try:
            outcome: Outcome | None = choose_outcome(pod, self.rules, self.default_outcome)
            error = None
        except ValueError as e:
            outcome, error = None, str(e)
        rt = PodRuntime(meta["uid"], meta.get("namespace", "default"), meta["name"], outcome, error)
        with self._lock:
            self.runtime[rt.uid] = rt
        self._pod_ips[rt.uid] = f"10.244.0.{next(self._ip_counter) % 250 + 2}"
        return rt

    def _event(self, pod: dict[str, Any], rt: PodRuntime, type_: str, reason: str, message: str,
               field_path: str | None = None, once_per_run: bool = False) -> None:
        """Emit an event; a state re-checked every tick repeats it at most every 10 s, while
        ``once_per_run`` events (Created, Started, BackOff) repeat on each container run."""
        key = (reason, message)
        now = time.monotonic()
        last = rt.events_sent.get(key)
        if not once_per_run and last is not None and now - last < _REPEAT_EVENT_SECONDS:
            return
        rt.events_sent[key] = now
        self.recorder.emit(pod, type_, reason, message, "kubelet", dig(pod, "spec", "nodeName"), field_path)

    def _update(self, rt: PodRuntime, fn: Callable[[dict[str, Any]], None]) -> None:
        self.store.mutate("pods", rt.namespace, rt.name, fn)

    def _containers(self, pod: dict[str, Any]) -> list[dict[str, Any]]:
        return list(dig(pod, "spec", "containers", default=[]))

    def _set_waiting(self, pod: dict[str, Any], rt: PodRuntime, reason: str, message: str | None) -> None:
        containers = self._containers(pod)

        def fn(p: dict[str, Any]) -> None:
            st = p.setdefault("status", {})
            st["phase"] = "Pending"
            st["hostIP"] = self._host_ip(p)
            st.setdefault("startTime", now_iso())
            st["containerStatuses"] = [
                ps.container_status(c, ps.waiting(reason, message), restarts=rt.restarts,
                                    last_state=rt.last_state.get(c["name"])) for c in containers]
            ps.set_pod_conditions(st, initialized=True, ready=False, sandbox=True,
                                  message=f"containers with unready status: [{' '.join(c['name'] for c in containers)}]")
        self._update(rt, fn)

    def _host_ip(self, pod: dict[str, Any]) -> str:
        node = self.store.peek("nodes", None, dig(pod, "spec", "nodeName", default=""))
        for addr in dig(node, "status", "addresses", default=[]):
            if addr.get("type") == "InternalIP":
                return str(addr["address"])
        return "10.0.0.1"

    # ---- state machine -----------------------------------------------------------------------
    def _advance(self, pod: dict[str, Any], rt: PodRuntime) -> None:
        now = time.monotonic()
        if rt.stage == "new":
            self._start(pod, rt)
        elif rt.stage == "image-error" and now - rt.since >= _IMAGE_BACKOFF_AFTER:
            image = self._containers(pod)[0].get("image", "")
            # Events first: whoever sees the new status can already read why.
            self._event(pod, rt, "Normal", "BackOff", f'Back-off pulling image "{image}"')
            self._event(pod, rt, "Warning", "Failed", "Error: ImagePullBackOff")
            self._set_waiting(pod, rt, "ImagePullBackOff", f'Back-off pulling image "{image}"')
            rt.stage = "image-backoff"
        elif rt.stage == "creating":
            self._run(pod, rt)
        elif rt.stage == "crashloop" and now - rt.since >= min(_CRASHLOOP_MAX, _CRASHLOOP_DELAY * 2 ** (rt.restarts - 1)):
            self._run(pod, rt)
        elif rt.stage == "running":
            self._check_running(pod, rt, now)

    def _start(self, pod: dict[str, Any], rt: PodRuntime) -> None:
        containers = self._containers(pod)
        if rt.outcome is not None and rt.outcome.kind == "image-pull-error":
            image = containers[0].get("image", "")
            msg = (f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and unpack '
                   f'image "{image}": failed to resolve reference "{image}": {image}: not found')
            self._event(pod, rt, "Normal", "Pulling", f'Pulling image "{image}"')
            self._event(pod, rt, "Warning", "Failed", msg)
            self._event(pod, rt, "Warning", "Failed", "Error: ErrImagePull")
            self._set_waiting(pod, rt, "ErrImagePull", msg)
            rt.stage, rt.since = "image-error", time.monotonic()
            return
        problem = volume_problem(self.store, pod)
        if problem:
            self._event(pod, rt, "Warning", "FailedMount", problem)
            self._set_waiting(pod, rt, "ContainerCreating", None)
            return
        for c in containers:
            try:
                resolve_env(self.store, pod, c)
            except ConfigError as e:
                self._event(pod, rt, "Warning", "Failed", f"Error: {e}")
                self._set_waiting(pod, rt, "CreateContainerConfigError", str(e))
                return
        for c in containers:
            image = c.get("image", "")
            self._event(pod, rt, "Normal", "Pulled",
                        f'Container image "{image}" already present on machine and can be accessed by the pod')
        # Watchers see Pending/ContainerCreating before Running, as on a real node.
        self._set_waiting(pod, rt, "ContainerCreating", None)
        rt.stage, rt.since = "creating", time.monotonic()

    def _uses_process(self, rt: PodRuntime) -> bool:
        return rt.outcome is not None and rt.outcome.kind == "process"

    def _run(self, pod: dict[str, Any], rt: PodRuntime) -> None:
        containers = self._containers(pod)
        rt.started_at = now_iso()
        rt.since = time.monotonic()
        if rt.first_started is None:
            rt.first_started = rt.since
        rt.stage = "running"
        with self._lock:
            if rt.logs:
                rt.previous_logs = rt.logs
            rt.logs = {c["name"]: LogBuffer() for c in containers}
        owner = next(iter(dig(pod, "metadata", "ownerReferences", default=[])), {}).get("uid", rt.uid)
        attempt = self._attempts.get(owner, 0)
        self._attempts[owner] = attempt + 1
        rt.fail_this_run = rt.outcome is not None and rt.outcome.kind == "fail-then-succeed" and attempt < rt.outcome.failures
        for c in containers:
            path = f"spec.containers{{{c['name']}}}"
            self._event(pod, rt, "Normal", "Created", f"Created container: {c['name']}", path, once_per_run=True)
            self._event(pod, rt, "Normal", "Started", f"Started container {c['name']}", path, once_per_run=True)
        if rt.outcome_error:
            for buf in rt.logs.values():
                buf.write(f"podc emulator: bad {pod['metadata'].get('name')} outcome annotation: {rt.outcome_error}\n".encode())
        elif self._uses_process(rt):
            assert self.runner is not None, "process outcome needs a process runner"
            error = self.runner.start_pod(pod, rt.logs, self._pod_ips.get(rt.uid, ""))
            if error:
                self._finish(pod, rt, {c["name"]: (128, "StartError", error) for c in containers})
                return
        elif rt.outcome is not None and rt.outcome.logs:
            for buf in rt.logs.values():
                buf.write(rt.outcome.logs.encode() + (b"" if rt.outcome.logs.endswith("\n") else b"\n"))
        pod_ip = self._pod_ips.get(rt.uid, "10.244.0.2")

        def fn(p: dict[str, Any]) -> None:
            st = p.setdefault("status", {})
            st["phase"] = "Running"
            st["hostIP"] = self._host_ip(p)
            st["hostIPs"] = [{"ip": st["hostIP"]}]
            st["podIP"], st["podIPs"] = pod_ip, [{"ip": pod_ip}]
            st.setdefault("startTime", rt.started_at)
            st["containerStatuses"] = [
                ps.container_status(c, ps.running(rt.started_at or now_iso()), ready=True, restarts=rt.restarts,
                                    last_state=rt.last_state.get(c["name"]),
                                    cid=ps.container_id(rt.uid, c["name"], rt.restarts)) for c in containers]
            ps.set_pod_conditions(st, initialized=True, ready=True, sandbox=True)
        self._update(rt, fn)

    def _check_running(self, pod: dict[str, Any], rt: PodRuntime, now: float) -> None:
        containers = self._containers(pod)
        deadline = dig(pod, "spec", "activeDeadlineSeconds")
        if deadline and rt.first_started is not None and now - rt.first_started >= deadline:
            return disruptions.pod_deadline(self, pod, rt)
        if rt.outcome_error:
            self._finish(pod, rt, {c["name"]: (1, "Error", None) for c in containers})
            return
        assert rt.outcome is not None
        if self._uses_process(rt):
            assert self.runner is not None
            results = self.runner.poll_pod(rt.uid)
            if results is not None:
                self._finish(pod, rt, {n: (code, "Completed" if code == 0 else "Error", None) for n, code in results.items()})
            return
        kind = rt.outcome.kind
        if kind == "sleep" or now - rt.since < rt.outcome.after:
            return
        if kind == "evict":
            disruptions.evict(self, pod, rt)
        elif kind == "node-lost":
            disruptions.node_lost(self, pod, rt)
        elif kind == "oom":
            self._finish(pod, rt, {c["name"]: (137, "OOMKilled", None) for c in containers})
        elif kind == "exit" or rt.fail_this_run:
            code = rt.outcome.code if kind == "exit" else 1
            self._finish(pod, rt, {c["name"]: (code, "Completed" if code == 0 else "Error", None) for c in containers})
        else:
            self._finish(pod, rt, {c["name"]: (0, "Completed", None) for c in containers})

    def _finish(self, pod: dict[str, Any], rt: PodRuntime, results: dict[str, tuple[int, str, str | None]],
                extra: Callable[[dict[str, Any]], None] | None = None) -> None:
        containers = self._containers(pod)
        failed = any(code != 0 for code, _, _ in results.values())
        states = {c["name"]: ps.terminated(*results.get(c["name"], (0, "Completed", None))[:2], rt.started_at,
                                           ps.container_id(rt.uid, c["name"], rt.restarts),
                                           results.get(c["name"], (0, "", None))[2]) for c in containers}
        policy = dig(pod, "spec", "restartPolicy")
        # Disruptions and deadlines (``extra``) end the pod whatever its restartPolicy.
        if extra is None and ((failed and policy == "OnFailure") or policy == "Always"):
            self._crashloop(pod, rt, states)
            return
        for buf in rt.logs.values():
            buf.close()
        rt.stage = "done"

        def fn(p: dict[str, Any]) -> None:
            st = p.setdefault("status", {})
            st["phase"] = "Failed" if failed else "Succeeded"
            st["containerStatuses"] = [
                ps.container_status(c, states[c["name"]], restarts=rt.restarts, last_state=rt.last_state.get(c["name"]),
                                    cid=ps.container_id(rt.uid, c["name"], rt.restarts)) for c in containers]
            ps.set_pod_conditions(st, initialized=True, ready=False, sandbox=False,
                                  reason="PodFailed" if failed else "PodCompleted", message="")
            if extra is not None:
                extra(st)  # in the same write: nobody may see Failed without its reason
        self._update(rt, fn)

    def _crashloop(self, pod: dict[str, Any], rt: PodRuntime, states: dict[str, dict[str, Any]]) -> None:
        containers = self._containers(pod)
        rt.last_state = dict(states)
        rt.restarts += 1
        rt.stage, rt.since = "crashloop", time.monotonic()
        ns, name = rt.namespace, rt.name
        for c in containers:
            self._event(pod, rt, "Warning", "BackOff",
                        f"Back-off restarting failed container {c['name']} in pod {name}_{ns}({rt.uid})",
                        once_per_run=True)

        def fn(p: dict[str, Any]) -> None:
            st = p.setdefault("status", {})
            st["containerStatuses"] = [
                ps.container_status(c, ps.waiting("CrashLoopBackOff", f"back-off 10s restarting failed container={c['name']} pod={name}_{ns}({rt.uid})"),
                                    restarts=rt.restarts, last_state=rt.last_state.get(c["name"])) for c in containers]
            ps.set_pod_conditions(st, initialized=True, ready=False, sandbox=True,
                                  message=f"containers with unready status: [{' '.join(c['name'] for c in containers)}]")
        self._update(rt, fn)

    def _stop_pod(self, pod: dict[str, Any], rt: PodRuntime | None) -> None:
        if rt is not None and rt.stopping:
            return
        meta = pod["metadata"]
        if rt is None:
            self.api.finish_delete("pods", meta.get("namespace"), meta["name"])
            return
        rt.stopping = True
        for c in self._containers(pod):
            self._event(pod, rt, "Normal", "Killing", f"Stopping container {c['name']}", f"spec.containers{{{c['name']}}}")
        grace = float(meta.get("deletionGracePeriodSeconds", 30))

        def stop() -> None:
            if self.runner:
                self.runner.kill_pod(rt.uid, grace=grace)
            for buf in rt.logs.values():
                buf.close()
            self.api.finish_delete("pods", meta.get("namespace"), meta["name"])
        if self.runner and self._uses_process(rt):
            threading.Thread(target=stop, name=f"podc-emulator-stop-{rt.name}", daemon=True).start()
        else:
            stop()

    def shutdown(self) -> None:
        if self.runner:
            self.runner.kill_all()
