"""``PodcRunLauncher``: each Dagster run's worker as a compiled, policy-checked Kubernetes Job.

``dagster.yaml``::

    run_launcher:
      module: podc.dagster
      class: PodcRunLauncher
      config:
        project: /opt/dagster/deploy/podc.yaml
        target: run-worker

* launch/resume: layers (see :mod:`podc.dagster.run_layers`) → compile → policy check → submit
  ``dagster api execute_run`` (``resume_run``) through :mod:`podc.runtime`. The layers,
  provenance and policy result go to the run's event log; a compile error or blocking violation
  fails the run with the located findings before any API request.
* health: answered from one shared watch per namespace (:mod:`podc.dagster.run_workers`), with
  podc's diagnosis as the reason. A worker that never starts fails its run as soon as the
  runtime's grace for that cause ends (Dagster's run monitoring only checks STARTED runs).
* terminate: delete the worker Job, confirm its Pods are gone, then sweep the run's step and
  Pipes Jobs; the run is marked canceled if the dead worker could not say so itself.
"""

from __future__ import annotations

import logging
import queue
from collections import deque
import sys
import threading
import time
from typing import Any

from dagster._core.events import EngineEventData
from dagster._core.launcher import LaunchRunContext, ResumeRunContext, RunLauncher
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus
from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus
from dagster._serdes import ConfigurableClass, ConfigurableClassData

from podc.dagster.compile import CompileSession
from podc.dagster.job_metadata import job_metadata
from podc.dagster.launcher_config import LauncherSettings, launcher_config_schema, launcher_settings
from podc.dagster.run_layers import (RunInfo, container_context_namespace, run_tag_layers,
                                     run_worker_layers)
from podc.dagster.run_workers import RunWorkers, sweep_run, worker_job_name
from podc.dagster.step_events import describe_reason
from podc.errors import PodcError, format_diagnostics

__all__ = ["PodcRunLauncher", "TAG_WORKER_NAMESPACE"]

log = logging.getLogger("podc.dagster")

TAG_WORKER_NAMESPACE = "podc/run-worker-namespace"  # where the worker went (other processes read it)
_UNSTARTED = (DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING)


class PodcRunLauncher(RunLauncher, ConfigurableClass):
    """Run workers as podc-compiled Jobs. Config: see :func:`launcher_config_schema`."""

    def __init__(self, inst_data: ConfigurableClassData | None = None, *,
                 runtime_factory: Any = None, **config: Any) -> None:
        self._inst_data = inst_data
        self.settings: LauncherSettings = launcher_settings(config)
        self.session = CompileSession(self.settings.compile)
        self.workers = RunWorkers(self.settings, self._on_worker_change, runtime_factory)
        self._launched: set[str] = set()  # runs this process launched: it reports their failures
        self._failures: "queue.Queue[Any]" = queue.Queue()
        self._reporter: threading.Thread | None = None
        self._lock = threading.Lock()
        # read by bench/bench_dagster_launcher.py; bounded: a daemon launches runs for months
        self.launch_timings: deque[dict[str, float]] = deque(maxlen=10_000)
        super().__init__()

    # -- ConfigurableClass --------------------------------------------------------------------
    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return launcher_config_schema()

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value: Any) -> "PodcRunLauncher":
        return cls(inst_data=inst_data, **config_value)

    @property
    def inst_data(self) -> ConfigurableClassData | None:
        return self._inst_data

    @property
    def dagster_k8s_config(self) -> dict[str, Any]:
        """The launcher's dagster-k8s keys, which ``podc_executor`` merges into every step Job as
        ``k8s_job_executor`` does with ``K8sRunLauncher``'s; with the cluster access the run
        worker should use to reach the cluster (the launcher's own)."""
        cfg = self.settings.compile
        out: dict[str, Any] = dict(self.settings.k8s)
        if cfg.image:
            out["job_image"] = cfg.image
        if cfg.namespace:
            out["job_namespace"] = cfg.namespace
        if cfg.kubeconfig_file:
            out["kubeconfig_file"] = cfg.kubeconfig_file
        out["load_incluster_config"] = bool(cfg.load_incluster_config) or not cfg.kubeconfig_file
        if self.settings.allow_fields is not None:
            out["only_allow_user_defined_k8s_config_fields"] = dict(self.settings.allow_fields)
        if self.settings.allow_env_vars is not None:
            out["only_allow_user_defined_env_vars"] = list(self.settings.allow_env_vars)
        return out

    # -- launch / resume ----------------------------------------------------------------------
    def launch_run(self, context: LaunchRunContext) -> None:
        from dagster._grpc.types import ExecuteRunArgs

        run = context.dagster_run
        args = ExecuteRunArgs(job_origin=run.job_code_origin, run_id=run.run_id,
                              instance_ref=self._instance.get_ref(),
                              set_exit_code_on_failure=self.settings.fail_pod_on_run_failure)
        self._launch(run, args, "execute_run", 0)

    def resume_run(self, context: ResumeRunContext) -> None:
        from dagster._grpc.types import ResumeRunArgs

        run = context.dagster_run
        attempt = context.resume_attempt_number
        if attempt is None:
            attempt = self._instance.count_resume_run_attempts(run.run_id)
        args = ResumeRunArgs(job_origin=run.job_code_origin, run_id=run.run_id,
                             instance_ref=self._instance.get_ref(),
                             set_exit_code_on_failure=self.settings.fail_pod_on_run_failure)
        self._launch(run, args, "resume_run", attempt)

    def _run_info(self, run: DagsterRun, args: Any, verb: str) -> RunInfo:
        import base64
        import zlib

        from dagster._serdes import serialize_value

        origin = run.job_code_origin
        repo = origin.repository_origin
        if self.settings.entry_point:
            entry = self.settings.entry_point
        elif self.settings.compile.local_python:
            entry = (repo.executable_path or sys.executable, "-m", "dagster")
        else:
            entry = tuple(repo.entry_point or ("dagster",))
        payload = serialize_value(args)
        env: tuple[tuple[str, str], ...] = ()
        command = (*entry, "api", verb)
        if verb == "execute_run":  # the JSON goes in the env var `dagster api` reads, as for steps
            packed = base64.b64encode(zlib.compress(payload.encode())).decode()
            env = (("DAGSTER_COMPRESSED_EXECUTE_RUN_ARGS", packed),)
        else:  # resume_run takes its arguments only as an argument
            command = (*command, payload)
        location = None
        if run.remote_job_origin is not None:
            location = run.remote_job_origin.repository_origin.code_location_origin.location_name
        return RunInfo(run_id=run.run_id, job_name=run.job_name, command=command, run_env=env,
                       code_location_image=repo.container_image, location_name=location,
                       container_context=repo.container_context or {}, tags=dict(run.tags))

    def _build(self, run: DagsterRun, info: RunInfo, attempt: int) -> tuple[Any, list[str], str]:
        """(compiled Job, translation warnings, namespace). Raises PodcError."""
        tags = run_tag_layers(info.tags)
        layers, warnings = run_worker_layers(info, self.settings, tags,
                                             project_layers=self.session.project_layers())
        compiled = self.session.compile(layers, worker_job_name(run.run_id, attempt))
        namespace = (container_context_namespace(info) or compiled.namespace
                     or self.workers.default_namespace())
        return compiled, warnings, namespace

    def _launch(self, run: DagsterRun, args: Any, verb: str, attempt: int) -> None:
        t0 = time.perf_counter()
        name = worker_job_name(run.run_id, attempt)
        info = self._run_info(run, args, verb)
        try:
            compiled, warnings, namespace = self._build(run, info, attempt)
        except PodcError as err:
            self._fail(run, f"podc could not build the run worker Job for run {run.run_id}, "
                       f"nothing was submitted:\n{format_diagnostics(err.diagnostics)}")
            return
        t1 = time.perf_counter()
        if compiled.blocking:
            self._fail(run, f"podc policy check failed for the run worker of run {run.run_id}, "
                       "nothing was submitted:\n" + "\n".join(compiled.blocking),
                       job_metadata(compiled, name, namespace, attempt=attempt, warnings=warnings))
            return
        image = ((compiled.manifest["spec"]["template"]["spec"].get("containers") or [{}])[0]
                 .get("image"))
        new_tags = {TAG_WORKER_NAMESPACE: namespace}
        if image:
            new_tags["dagster/image"] = image
        self._instance.add_run_tags(run.run_id, new_tags)
        with self._lock:
            self._launched.add(run.run_id)
        t_submit = time.perf_counter()
        try:
            self.workers.submit(namespace, compiled.manifest, run.run_id, attempt)
        except Exception as exc:  # noqa: BLE001 - the run fails with the API's reason, no traceback
            self._fail(run, f"podc could not submit the run worker Job {namespace}/{name}: "
                       f"{type(exc).__name__}: {exc}")
            return
        t2 = time.perf_counter()
        self.launch_timings.append({"compile": t1 - t0, "submit": t2 - t_submit, "total": t2 - t0})
        self._instance.report_engine_event(
            f"podc {'resumed' if verb == 'resume_run' else 'launched'} run worker Job "
            f"{namespace}/{name} (attempt {attempt}); layers: {' → '.join(compiled.layer_names)}; "
            f"policy check {compiled.check_summary}",
            run, EngineEventData(job_metadata(compiled, name, namespace, attempt=attempt,
                                              warnings=warnings,
                                              timings={"compile+check": t1 - t0,
                                                       "submit": t2 - t_submit})),
            cls=self.__class__)

    def _fail(self, run: DagsterRun, message: str, metadata: dict | None = None) -> None:
        self._instance.report_engine_event(message, run, EngineEventData(metadata or {}),
                                           cls=self.__class__)
        self._instance.report_run_failed(run, message)

    # -- where a run's worker is --------------------------------------------------------------
    def _namespace(self, run: DagsterRun) -> str:
        return run.tags.get(TAG_WORKER_NAMESPACE) or self.settings.namespace \
            or self.session.namespace() or self.workers.default_namespace()

    def _attempt(self, run: DagsterRun) -> int:
        return self._instance.count_resume_run_attempts(run.run_id)

    # -- health -------------------------------------------------------------------------------
    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    @property
    def supports_resume_run(self) -> bool:
        return True

    @property
    def supports_run_worker_crash_recovery(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        namespace, attempt = self._namespace(run), self._attempt(run)
        name = worker_job_name(run.run_id, attempt)
        try:
            state = self.workers.state(namespace, run.run_id, attempt)
        except Exception as exc:  # noqa: BLE001 - cannot reach the API: say so, do not crash
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, f"podc could not read run worker "
                                        f"Job {namespace}/{name}: {type(exc).__name__}: {exc}")
        if state is None:
            return CheckRunHealthResult(WorkerStatus.NOT_FOUND, f"run worker Job {namespace}/"
                                        f"{name} does not exist (deleted?)", run_worker_id=name)
        phase = getattr(state.phase, "value", state.phase)
        if phase == "failed":
            return CheckRunHealthResult(WorkerStatus.FAILED, f"run worker Job {namespace}/{name}: "
                                        f"{describe_reason(state.reason)}", run_worker_id=name)
        if phase == "succeeded":
            if run.status in (DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING):
                return CheckRunHealthResult(
                    WorkerStatus.FAILED, f"run worker Job {namespace}/{name} completed but the "
                    f"run is still {run.status.value}: the worker exited without ending the run",
                    run_worker_id=name)
            return CheckRunHealthResult(WorkerStatus.SUCCESS, run_worker_id=name)
        message = describe_reason(state.reason) if state.reason else None
        return CheckRunHealthResult(WorkerStatus.RUNNING, message, run_worker_id=name)

    def get_run_worker_debug_info(self, run: DagsterRun,
                                  include_container_logs: bool | None = True) -> str | None:
        namespace, attempt = self._namespace(run), self._attempt(run)
        name = worker_job_name(run.run_id, attempt)
        try:
            state = self.workers.state(namespace, run.run_id, attempt)
        except Exception as exc:  # noqa: BLE001
            return f"podc could not read run worker Job {namespace}/{name}: {exc}"
        if state is None:
            return f"run worker Job {namespace}/{name} does not exist"
        text = f"run worker Job {namespace}/{name}: {state.phase.value}"
        if state.reason is not None:
            text += f": {describe_reason(state.reason)}"
        if include_container_logs and not (state.reason and state.reason.log_tail):
            lines = self.workers.tail(namespace, run.run_id, attempt)
            if lines:
                text += "\n  last log lines:\n" + "\n".join(f"    {line}" for line in lines)
        return text + (f"\nFor more: kubectl -n {namespace} describe job {name}; "
                       f"kubectl -n {namespace} logs job/{name}")

    def _on_worker_change(self, state: Any) -> None:
        """Runtime thread: hand worker failures to the reporter thread (no DB I/O under the
        runtime's lock)."""
        phase = getattr(state.phase, "value", state.phase)
        if phase == "succeeded":
            with self._lock:
                self._launched.discard(state.step_key)
        if phase == "failed":
            with self._lock:
                mine = state.step_key in self._launched
                self._launched.discard(state.step_key)  # a resume adds it again
                if mine and self._reporter is None:
                    self._reporter = threading.Thread(target=self._report_failures, daemon=True,
                                                      name="podc-launcher-reporter")
                    self._reporter.start()
            if mine:
                self._failures.put(state)

    def _report_failures(self) -> None:
        while True:
            state = self._failures.get()
            if state is None:
                return
            try:
                self._report_failure(state)
            except Exception:  # noqa: BLE001 - e.g. the instance was disposed meanwhile
                log.exception("podc: could not report run worker failure of %s", state.step_key)

    def _report_failure(self, state: Any) -> None:
        """A worker that never started the run fails the run now (run monitoring never checks a
        STARTING run's worker); one that died later is left to run monitoring (it may resume),
        unless monitoring is off — then nobody else would ever end the run."""
        run = self._instance.get_run_by_id(state.step_key)
        if run is None or run.is_finished or state.attempt != self._attempt(run):
            return
        if run.status in _UNSTARTED:
            why = "failed before the run started"
        elif not self._instance.run_monitoring_enabled and run.status == DagsterRunStatus.STARTED:
            why = "failed"
        else:
            return
        self._instance.report_run_failed(
            run, f"Run worker Job {self._namespace(run)}/{state.name} {why}: "
                 f"{describe_reason(state.reason)}")

    # -- terminate ----------------------------------------------------------------------------
    def terminate(self, run_id: str) -> bool:
        run = self._instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            return False
        self._instance.report_run_canceling(run)
        namespace, attempt = self._namespace(run), self._attempt(run)
        name = worker_job_name(run_id, attempt)
        timeout = self.settings.terminate_timeout
        try:
            worker = self.workers.cancel(namespace, run_id, attempt, timeout)
            others = sweep_run(self.workers.runtime(namespace).transport, namespace, run_id,
                               timeout)
        except Exception as exc:  # noqa: BLE001 - e.g. RBAC without delete: say so
            self._instance.report_engine_event(
                f"podc could not terminate run {run_id}: {type(exc).__name__}: {exc}; delete its "
                f"Jobs with: kubectl -n {namespace} delete jobs -l dagster/run-id={run_id}",
                run, cls=self.__class__)
            return False
        left = (worker.jobs_left + others[0], worker.pods_left + others[1])
        self._instance.report_engine_event(
            f"podc terminated run {run_id}: deleted run worker Job {namespace}/{name} and the "
            f"run's step and Pipes Jobs (left: {left[0]} Jobs, {left[1]} Pods)",
            run, EngineEventData({"jobs_left": left[0], "pods_left": left[1]}),
            cls=self.__class__)
        run = self._instance.get_run_by_id(run_id)
        if run is not None and not run.is_finished and left == (0, 0):
            # The worker is gone: if it did not record the cancellation, nobody else will.
            self._instance.report_run_canceled(run, "Run worker Job deleted by podc")
        return left == (0, 0)

    def dispose(self) -> None:
        with self._lock:
            reporter, self._reporter = self._reporter, None
        if reporter is not None:
            self._failures.put(None)
            reporter.join(timeout=10)
        self.workers.close()
