"""``PodcStepHandler``: one compiled, policy-checked Kubernetes Job per Dagster step.

* launch: read the step's tags and the dagster-k8s levels → build its layers → compile → check
  policies → submit through :class:`podc.runtime.Runtime` (deterministic name from run id + step
  key + attempt, so a resubmission adopts the Job instead of duplicating it). A config error, a
  compile error, a blocking policy violation or an unusable cluster (missing kubeconfig, TLS,
  401/403, no answer within ``cluster_timeout``) fails the step with one clear reason — a
  STEP_FAILURE, never an exception out of the executor.
* health: answered from the run's shared watch (no API request); a failed Job reports the
  runtime's diagnosis (``OOMKilled: container `main` exceeded its 512Mi memory limit``).
* terminate: cancel the whole run by label — every Job and Pod of the run is deleted and the
  watch confirms it.
* every Runtime opened for a run is closed (and its threads joined) when the run's execution
  ends, on every path (:meth:`close_run`).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Iterator, Protocol

from dagster._core.events import DagsterEvent, DagsterEventType, EngineEventData
from dagster._core.executor.step_delegating.step_handler.base import (
    CheckStepHealthResult,
    StepHandler,
    StepHandlerContext,
)

from podc.dagster.cluster import (ClusterAccess, ClusterUnavailable, access_for, describe_cluster_error,
                                  join_run_threads, open_runtime)
from podc.dagster.compile import CompiledStep, CompileSession
from podc.dagster.config import ExecutorSettings
from podc.dagster.events import env_reference_warnings
from podc.dagster.layers import StepInfo, StepLayer, StepPlan, executor_level, step_plan
from podc.dagster.step_context import launcher_config, owner_reference, step_info
from podc.dagster.step_events import describe_reason, fail_step, launch_event
from podc.dagster.tags import layers_from_tags
from podc.errors import PodcError, format_diagnostics

__all__ = ["PodcStepHandler", "StepRuntime", "describe_reason"]

_OUTCOME_EVENTS = {DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE,
                   DagsterEventType.STEP_UP_FOR_RETRY}


class StepRuntime(Protocol):
    """The part of :class:`podc.runtime.Runtime` the handler uses (a fake in unit tests)."""

    def submit(self, manifest: dict[str, Any], *, step_key: str | None = None,
               attempt: int = 0) -> Any: ...

    def name_for(self, step_key: str, attempt: int = 0) -> str: ...

    def state(self, name: str) -> Any: ...

    def attach(self) -> Any: ...

    def cancel_run(self) -> Any: ...

    def close(self) -> None: ...


RuntimeFactory = Callable[[str, "str | None"], StepRuntime]  # (run id, namespace) -> runtime
Compiler = Callable[[list[StepLayer], str, ExecutorSettings], CompiledStep]


class PodcStepHandler(StepHandler):
    def __init__(self, settings: ExecutorSettings, *, runtime_factory: RuntimeFactory | None = None,
                 compiler: Compiler | None = None) -> None:
        super().__init__()
        self.settings = settings
        self._runtime_factory = runtime_factory or self._open_runtime
        self.session = CompileSession(settings)
        self._compile = compiler or self.session.compile
        self._runtimes: dict[tuple[str, str | None], StepRuntime] = {}
        self._unavailable: dict[tuple[str, str | None], tuple[ClusterUnavailable, float]] = {}
        self._namespaces: dict[tuple[str, str], str | None] = {}  # (run, step) -> namespace
        self._failed_launches: set[tuple[str, str, int]] = set()
        self._cancelled: set[str] = set()
        self._succeeded_at: dict[str, float] = {}
        self._lock = threading.RLock()
        self._launcher: dict[str, Any] | None = None
        self._access: ClusterAccess | None = None
        self._executor_level: Any = None  # the executor's dagster-k8s level, read once (or its error)
        # per launch: args (Dagster's ExecuteStepArgs), compile (layers+compile+check), submit,
        # total seconds; started/created perf_counter stamps (read by bench/bench_dagster.py)
        self.launch_timings: list[dict[str, float]] = []
        self._args_seconds = 0.0

    @property
    def name(self) -> str:
        return "PodcStepHandler"

    # -- helpers ------------------------------------------------------------------------------
    @staticmethod
    def _step_key(ctx: StepHandlerContext) -> str:
        keys = ctx.execute_step_args.step_keys_to_execute or []
        if len(keys) != 1:
            raise ValueError("PodcStepHandler launches exactly one step per Job")
        return keys[0]

    @staticmethod
    def _attempt(ctx: StepHandlerContext, step_key: str) -> int:
        known = ctx.execute_step_args.known_state
        return known.get_retry_state().get_attempt_count(step_key) if known else 0

    def _read_instance(self, ctx: StepHandlerContext) -> None:
        """The instance's K8sRunLauncher config (dagster-k8s reads it too) and cluster access."""
        if self._access is None:
            self._launcher = launcher_config(getattr(ctx, "instance", None))
            self._access = access_for(self.settings, self._launcher)

    def _open_runtime(self, run_id: str, namespace: str | None) -> StepRuntime:
        return open_runtime(self._access or access_for(self.settings, None), run_id, namespace)

    def runtime(self, run_id: str, namespace: str | None) -> StepRuntime:
        """The run's runtime for ``namespace`` (opened once). Raises :class:`ClusterUnavailable`;
        a permanent problem is remembered for the run, a transient one for ``cluster_timeout``."""
        key = (run_id, namespace)
        with self._lock:
            rt = self._runtimes.get(key)
            if rt is not None:
                return rt
            known = self._unavailable.get(key)
            if known is not None and (known[0].permanent or
                                      time.monotonic() - known[1] < self.settings.cluster_timeout):
                raise known[0]
            try:
                rt = self._runtime_factory(run_id, namespace)
            except Exception as exc:  # noqa: BLE001 - a fake factory may raise anything
                problem = exc if isinstance(exc, ClusterUnavailable) else \
                    ClusterUnavailable(*describe_cluster_error(exc))
                self._unavailable[key] = (problem, time.monotonic())
                raise problem from exc
            self._runtimes[key] = rt
            return rt

    def plan(self, ctx: StepHandlerContext, step_key: str) -> tuple[StepInfo, StepPlan]:
        self._read_instance(ctx)
        tags = layers_from_tags(ctx.step_tags.get(step_key) or {}, step_key)
        t0 = time.perf_counter()
        info = step_info(ctx, step_key, self.settings, self._launcher)  # serialises ExecuteStepArgs
        self._args_seconds = time.perf_counter() - t0
        plan = step_plan(info, self.settings, tags, project_layers=self.session.project_layers(),
                         executor=self._executor())
        return info, plan

    def _executor(self) -> Any:
        """Read once, as dagster-k8s reads its executor config at start; a bad one fails every
        step with the same reason."""
        with self._lock:
            if self._executor_level is None:
                try:
                    self._executor_level = executor_level(self.settings)
                except PodcError as err:
                    self._executor_level = err
        if isinstance(self._executor_level, PodcError):
            raise self._executor_level
        return self._executor_level

    def build(self, ctx: StepHandlerContext, step_key: str,
              attempt: int = 0) -> tuple[CompiledStep, list[str], str | None]:
        """Compile and check the step's Job. Raises PodcError; returns (compiled, warnings,
        namespace from the dagster-k8s levels)."""
        from podc.runtime.naming import job_name

        info, plan = self.plan(ctx, step_key)
        compiled = self._compile(plan.layers, job_name(info.run_id, step_key, attempt), self.settings)
        warnings = [format_diagnostics([w]).rstrip() for w in plan.warnings]
        warnings.extend(env_reference_warnings(compiled.manifest))
        return compiled, warnings, plan.namespace

    # -- StepHandler --------------------------------------------------------------------------
    def launch_step(self, step_handler_context: StepHandlerContext) -> Iterator[DagsterEvent]:
        ctx = step_handler_context
        step_key = self._step_key(ctx)
        step_context = ctx.get_step_context(step_key)
        run_id = ctx.execute_step_args.run_id
        attempt = self._attempt(ctx, step_key)
        failed = (run_id, step_key, attempt)
        if self.settings.config_error is not None:
            self._failed_launches.add(failed)
            yield fail_step(step_context, "podc_executor config is invalid, nothing was submitted:\n"
                            + format_diagnostics(self.settings.config_error.diagnostics))
            return
        t0 = time.perf_counter()
        try:
            compiled, warnings, k8s_namespace = self.build(ctx, step_key, attempt)
        except PodcError as err:
            self._failed_launches.add(failed)
            yield fail_step(step_context, f"podc could not build the Job for step {step_key!r}, "
                            f"nothing was submitted:\n{format_diagnostics(err.diagnostics)}")
            return
        t1 = time.perf_counter()
        for warning in warnings:
            step_context.log.warning(f"podc: step {step_key!r}: {warning}")
        if compiled.blocking:
            self._failed_launches.add(failed)
            yield fail_step(step_context, f"podc policy check failed for step {step_key!r}, "
                            "nothing was submitted:\n" + "\n".join(compiled.blocking))
            return
        t_submit = time.perf_counter()
        namespace = k8s_namespace or self.settings.namespace or compiled.namespace
        try:
            runtime = self.runtime(run_id, namespace)
            manifest = compiled.manifest
            if self.settings.enable_owner_references:
                manifest = owner_reference(runtime, namespace, manifest, step_context.log)
            state = runtime.submit(manifest, step_key=step_key, attempt=attempt)
        except Exception as exc:  # noqa: BLE001 - any submit failure fails this step, not the run
            self._failed_launches.add(failed)
            reason, _ = describe_cluster_error(exc)
            yield fail_step(step_context, f"podc could not submit the Job for step {step_key!r}, "
                            f"nothing is running: {reason}", type(exc).__name__)
            return
        t2 = time.perf_counter()
        with self._lock:
            self._namespaces[(run_id, step_key)] = namespace
        args_s = self._args_seconds
        self.launch_timings.append({"args": args_s, "compile": t1 - t0 - args_s,
                                    "log_warnings": t_submit - t1, "submit": t2 - t_submit,
                                    "total": t2 - t0, "started": t0, "created": t2})
        yield launch_event(step_context, step_key, state.name, namespace, attempt, compiled,
                           t1 - t0, t2 - t_submit)

    def _namespace_of(self, run_id: str, step_key: str) -> str | None:
        """The namespace the step was launched in; for a step launched by an earlier run worker
        (a resumed run), the one it would be launched in now."""
        key = (run_id, step_key)
        if key in self._namespaces:
            return self._namespaces[key]
        return self.settings.namespace or self.session.namespace()

    def _state(self, ctx: StepHandlerContext, step_key: str) -> tuple[str, Any]:
        run_id = ctx.execute_step_args.run_id
        runtime = self.runtime(run_id, self._namespace_of(run_id, step_key))
        name = runtime.name_for(step_key, self._attempt(ctx, step_key))
        try:
            return name, runtime.state(name)
        except KeyError:
            runtime.attach()  # e.g. a resumed run in a new process: adopt the run's Jobs
            try:
                return name, runtime.state(name)
            except KeyError:
                return name, None

    def check_step_health(self, step_handler_context: StepHandlerContext) -> CheckStepHealthResult:
        """Never raises (Dagster would log the error and keep the step "running" forever)."""
        ctx = step_handler_context
        step_key = self._step_key(ctx)
        run_id = ctx.execute_step_args.run_id
        if (run_id, step_key, self._attempt(ctx, step_key)) in self._failed_launches:
            return CheckStepHealthResult.healthy()  # its STEP_FAILURE is already in the event log
        try:
            self._read_instance(ctx)
            return self._health(ctx, step_key)
        except Exception as exc:  # noqa: BLE001
            reason, _ = describe_cluster_error(exc)
            return CheckStepHealthResult.unhealthy(f"podc cannot check step {step_key}: {reason}")

    def _health(self, ctx: StepHandlerContext, step_key: str) -> CheckStepHealthResult:
        name, state = self._state(ctx, step_key)
        if state is None:
            return CheckStepHealthResult.unhealthy(f"Kubernetes Job {name} for step {step_key} "
                                                   "does not exist (deleted?)")
        phase = getattr(state.phase, "value", state.phase)
        if phase == "failed":
            if self._outcome_reported(ctx, step_key):
                return CheckStepHealthResult.healthy()  # Dagster already has the step's own event
            return CheckStepHealthResult.unhealthy(f"Kubernetes Job {name}: "
                                                   f"{describe_reason(state.reason)}")
        if phase == "succeeded":
            first = self._succeeded_at.setdefault(name, time.monotonic())
            if (time.monotonic() - first > self.settings.success_grace
                    and not self._outcome_reported(ctx, step_key)):
                return CheckStepHealthResult.unhealthy(
                    f"Kubernetes Job {name} completed but step {step_key} reported no outcome to "
                    f"Dagster within {self.settings.success_grace:g}s")
        return CheckStepHealthResult.healthy()

    def _outcome_reported(self, ctx: StepHandlerContext, step_key: str) -> bool:
        """Whether the step process already wrote this attempt's outcome to the event log (its
        Job may fail *after* writing STEP_FAILURE; reporting again would double-count)."""
        attempt = self._attempt(ctx, step_key)
        records = ctx.instance.get_records_for_run(ctx.execute_step_args.run_id,
                                                   of_type=_OUTCOME_EVENTS).records
        seen = sum(1 for r in records if r.event_log_entry.step_key == step_key)
        return seen > attempt

    def terminate_step(self, step_handler_context: StepHandlerContext) -> Iterator[DagsterEvent]:
        """Cancel the run (once). Never raises: a cluster that cannot be reached is reported in
        an engine event, within ``cluster_timeout``."""
        ctx = step_handler_context
        step_key = self._step_key(ctx)
        run_id = ctx.execute_step_args.run_id
        step_context = ctx.get_step_context(step_key)
        with self._lock:
            first = run_id not in self._cancelled
            self._cancelled.add(run_id)
            runtimes = [rt for (rid, _ns), rt in self._runtimes.items() if rid == run_id]
        if not first:
            return
        if not runtimes:
            try:
                self._read_instance(ctx)
                runtimes = [self.runtime(run_id, self._namespace_of(run_id, step_key))]
            except Exception as exc:  # noqa: BLE001
                reason, _ = describe_cluster_error(exc)
                yield DagsterEvent.engine_event(
                    step_context, f"podc could not cancel run {run_id}: {reason}",
                    EngineEventData(metadata={"error": reason}))
                return
        for runtime in runtimes:
            yield self._cancel(runtime, run_id, step_context)

    @staticmethod
    def _cancel(runtime: StepRuntime, run_id: str, step_context: Any) -> DagsterEvent:
        try:
            result = runtime.cancel_run()
        except Exception as exc:  # noqa: BLE001 - e.g. RBAC without delete: say so, do not crash
            from podc.runtime.naming import run_selector

            return DagsterEvent.engine_event(
                step_context,
                f"podc could not cancel run {run_id}: {type(exc).__name__}: {exc}; its Jobs "
                f"may still be running (kubectl delete jobs -l {run_selector(run_id)})",
                EngineEventData(metadata={"error": str(exc)}),
            )
        return DagsterEvent.engine_event(
            step_context,
            f"podc cancelled run {run_id}: deleted every step Job and Pod of the run "
            f"(left: {result.jobs_left} Jobs, {result.pods_left} Pods)",
            EngineEventData(metadata={"jobs_left": result.jobs_left, "pods_left": result.pods_left}),
        )

    def close_run(self, run_id: str, join_timeout: float = 10.0) -> list[str]:
        """Stop the run's watches (the Jobs keep their TTL) and wait for their threads; called
        when the executor finishes, whatever the outcome. Returns threads still alive."""
        with self._lock:
            keys = [k for k in self._runtimes if k[0] == run_id]
            runtimes = [self._runtimes.pop(k) for k in keys]
            for k in [k for k in self._unavailable if k[0] == run_id]:
                del self._unavailable[k]
        for rt in runtimes:
            try:
                rt.close()
            except Exception:  # noqa: BLE001 - closing the others matters more
                pass
        return join_run_threads(run_id, join_timeout)

