"""``PodcStepHandler``: one compiled, policy-checked Kubernetes Job per Dagster step.

* launch: read the step's tags → build its layers → compile → check policies → submit through
  :class:`podc.runtime.Runtime` (deterministic name from run id + step key + attempt, so a
  resubmission adopts the Job instead of duplicating it). A compile error or a blocking policy
  violation fails the step *before* anything is submitted, with the source location.
* health: answered from the run's shared watch (no API request); a failed Job reports the
  runtime's diagnosis (``OOMKilled: container `main` exceeded its 512Mi memory limit``).
* terminate: cancel the whole run by label — every Job and Pod of the run is deleted and the
  watch confirms it.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, Callable, Iterator, Protocol

from dagster._core.events import DagsterEvent, DagsterEventType, EngineEventData
from dagster._core.execution.plan.objects import StepFailureData
from dagster._core.executor.step_delegating.step_handler.base import (
    CheckStepHealthResult,
    StepHandler,
    StepHandlerContext,
)
from dagster._utils.error import SerializableErrorInfo

from podc.dagster.compile import CompiledStep, CompileSession
from podc.dagster.config import ExecutorSettings
from podc.dagster.events import explain_markdown, explain_rows, redacted_manifest
from podc.dagster.layers import StepInfo, StepLayer, step_layers
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


RuntimeFactory = Callable[[str, str | None], StepRuntime]  # (run id, namespace) -> runtime
Compiler = Callable[[list[StepLayer], str, ExecutorSettings], CompiledStep]


def describe_reason(reason: Any) -> str:
    """``OOMKilled: container `main` exceeded its 512Mi memory limit`` — the cause first, then the
    Job's own condition when it differs, then any log tail."""
    if reason is None:
        return "the Job failed (no reason reported)"
    code, message = reason.code, reason.message
    text = message if message.startswith(code) else f"{code}: {message}"
    if reason.job_condition and reason.job_condition != code:
        text += f" (Job condition {reason.job_condition})"
    if reason.log_tail:
        text += "\n  last log lines:\n" + "\n".join(f"    {line}" for line in reason.log_tail)
    return text


class PodcStepHandler(StepHandler):
    def __init__(self, settings: ExecutorSettings, *, runtime_factory: RuntimeFactory | None = None,
                 compiler: Compiler | None = None) -> None:
        super().__init__()
        self.settings = settings
        self._runtime_factory = runtime_factory or _default_runtime_factory(settings)
        self.session = CompileSession(settings)
        self._compile = compiler or self.session.compile
        self._runtimes: dict[tuple[str, str | None], StepRuntime] = {}
        self._namespaces: dict[tuple[str, str], str | None] = {}  # (run, step) -> namespace
        self._cancelled: set[str] = set()
        self._succeeded_at: dict[str, float] = {}
        self._lock = threading.Lock()
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

    def runtime(self, run_id: str, namespace: str | None) -> StepRuntime:
        with self._lock:
            key = (run_id, namespace)
            rt = self._runtimes.get(key)
            if rt is None:
                rt = self._runtime_factory(run_id, namespace)
                self._runtimes[key] = rt
            return rt

    def _info(self, ctx: StepHandlerContext, step_key: str) -> StepInfo:
        args = ctx.execute_step_args
        origin = args.job_origin.repository_origin
        if self.settings.step_command:
            command = (*self.settings.step_command, "api", "execute_step")
        elif self.settings.local_python:
            command = (origin.executable_path or sys.executable, "-m", "dagster", "api", "execute_step")
        else:
            command = tuple(args.get_command_args(skip_serialized_namedtuple=True))
        env = tuple((e["name"], e["value"]) for e in args.get_command_env())
        return StepInfo(run_id=args.run_id, job_name=ctx.dagster_run.job_name, step_key=step_key,
                        command=command, step_env=env,
                        code_location_image=getattr(origin, "container_image", None))

    def build(self, ctx: StepHandlerContext, step_key: str,
              attempt: int = 0) -> tuple[CompiledStep, list[str]]:
        """Compile and check the step's Job. Raises PodcError; returns (compiled, warnings)."""
        from podc.runtime.naming import job_name

        tags = layers_from_tags(ctx.step_tags.get(step_key) or {}, step_key)
        t0 = time.perf_counter()
        info = self._info(ctx, step_key)  # Dagster serialises the step's ExecuteStepArgs here
        self._args_seconds = time.perf_counter() - t0
        layers = step_layers(info, self.settings, tags, project_layers=self.session.project_layers())
        name = job_name(info.run_id, step_key, attempt)
        compiled = self._compile(layers, name, self.settings)
        return compiled, tags.warnings

    # -- StepHandler --------------------------------------------------------------------------
    def launch_step(self, step_handler_context: StepHandlerContext) -> Iterator[DagsterEvent]:
        ctx = step_handler_context
        step_key = self._step_key(ctx)
        step_context = ctx.get_step_context(step_key)
        run_id = ctx.execute_step_args.run_id
        attempt = self._attempt(ctx, step_key)
        t0 = time.perf_counter()
        try:
            compiled, warnings = self.build(ctx, step_key, attempt)
        except PodcError as err:
            yield _fail_step(step_context, f"podc could not build the Job for step {step_key!r}, "
                             f"nothing was submitted:\n{format_diagnostics(err.diagnostics)}")
            return
        t1 = time.perf_counter()
        for warning in warnings:
            step_context.log.warning(f"podc: dagster-k8s/config on step {step_key!r}: {warning}")
        if compiled.blocking:
            yield _fail_step(step_context, f"podc policy check failed for step {step_key!r}, "
                             "nothing was submitted:\n" + "\n".join(compiled.blocking))
            return
        t_submit = time.perf_counter()
        namespace = self.settings.namespace or compiled.namespace
        runtime = self.runtime(run_id, namespace)
        try:
            state = runtime.submit(compiled.manifest, step_key=step_key, attempt=attempt)
        except Exception as exc:  # noqa: BLE001 - any submit failure fails this step, not the run
            yield _fail_step(step_context, f"podc could not submit the Job for step {step_key!r}: "
                             f"{type(exc).__name__}: {exc}")
            return
        t2 = time.perf_counter()
        with self._lock:
            self._namespaces[(run_id, step_key)] = namespace
        args_s = self._args_seconds
        self.launch_timings.append({"args": args_s, "compile": t1 - t0 - args_s,
                                    "log_warnings": t_submit - t1, "submit": t2 - t_submit,
                                    "total": t2 - t0, "started": t0, "created": t2})
        yield _launch_event(step_context, step_key, state.name, namespace, attempt, compiled,
                            t1 - t0, t2 - t_submit)

    def _namespace_of(self, run_id: str, step_key: str) -> str | None:
        """The namespace the step was launched in; for a step launched by an earlier run worker
        (a resumed run), the one it would be launched in now."""
        key = (run_id, step_key)
        if key in self._namespaces:
            return self._namespaces[key]
        return self.session.namespace()

    def _state(self, ctx: StepHandlerContext, step_key: str) -> tuple[str, Any]:
        run_id = ctx.execute_step_args.run_id
        namespace = self._namespace_of(run_id, step_key)
        runtime = self.runtime(run_id, namespace)
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
        ctx = step_handler_context
        step_key = self._step_key(ctx)
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
            runtimes = [self.runtime(run_id, self._namespace_of(run_id, step_key))]
        for runtime in runtimes:
            try:
                result = runtime.cancel_run()
            except Exception as exc:  # noqa: BLE001 - e.g. RBAC without delete: say so, do not crash
                from podc.runtime.naming import run_selector

                yield DagsterEvent.engine_event(
                    step_context,
                    f"podc could not cancel run {run_id}: {type(exc).__name__}: {exc}; its Jobs "
                    f"may still be running (kubectl delete jobs -l {run_selector(run_id)})",
                    EngineEventData(metadata={"error": str(exc)}),
                )
                continue
            yield DagsterEvent.engine_event(
                step_context,
                f"podc cancelled run {run_id}: deleted every step Job and Pod of the run "
                f"(left: {result.jobs_left} Jobs, {result.pods_left} Pods)",
                EngineEventData(metadata={"jobs_left": result.jobs_left,
                                          "pods_left": result.pods_left}),
            )

    def close_run(self, run_id: str) -> None:
        """Stop the run's watches (the Jobs keep their TTL); called when the executor finishes."""
        with self._lock:
            keys = [k for k in self._runtimes if k[0] == run_id]
            runtimes = [self._runtimes.pop(k) for k in keys]
        for rt in runtimes:
            rt.close()


def _fail_step(step_context: Any, message: str) -> DagsterEvent:
    error = SerializableErrorInfo(message=message, stack=[], cls_name="PodcError")
    return DagsterEvent.step_failure_event(
        step_context=step_context,
        step_failure_data=StepFailureData(error=error, user_failure_data=None),
    )


def _launch_event(step_context: Any, step_key: str, job: str, namespace: str | None, attempt: int,
                  compiled: CompiledStep, compile_s: float, submit_s: float) -> DagsterEvent:
    from dagster import MetadataValue

    rows = explain_rows(compiled.job)
    return DagsterEvent.step_worker_starting(
        step_context,
        message=f'Executing step "{step_key}" in Kubernetes job {namespace or "default"}/{job} '
                f"(attempt {attempt}); layers: {' → '.join(compiled.layer_names)}; "
                f"policy check {compiled.check_summary}",
        metadata={
            "Kubernetes Job name": MetadataValue.text(job),
            "Kubernetes namespace": MetadataValue.text(namespace or "default"),
            "attempt": MetadataValue.int(attempt),
            "podc layers": MetadataValue.json({"layers": compiled.layer_names}),
            "podc explain": MetadataValue.md(explain_markdown(rows, compiled.layer_names)),
            "podc provenance": MetadataValue.json(
                {r.field: {"layer": r.layer, "source": r.source} for r in rows}),
            "podc manifest": MetadataValue.json(redacted_manifest(compiled.manifest)),
            "podc policy check": MetadataValue.text(
                "\n".join([compiled.check_summary, *compiled.warnings])),
            "compile+check seconds": MetadataValue.float(round(compile_s, 6)),
            "submit seconds": MetadataValue.float(round(submit_s, 6)),
        },
    )


def _default_runtime_factory(settings: ExecutorSettings) -> RuntimeFactory:
    def factory(run_id: str, namespace: str | None) -> StepRuntime:
        from podc.runtime.cluster import connect, default_namespace
        from podc.runtime.diagnose import Timeouts
        from podc.runtime.runtime import Runtime

        transport = connect(kubeconfig=settings.kubeconfig_file, context=settings.context,
                            in_cluster=True if settings.load_incluster_config else None)
        ns = namespace or default_namespace(settings.kubeconfig_file, settings.context)
        timeouts = Timeouts()
        if settings.pending_timeout:
            p = settings.pending_timeout
            timeouts = Timeouts(start=max(p, 1.0), pending=p, image_pull=p,
                                config_error=min(p, timeouts.config_error),
                                failed_create=min(p, timeouts.failed_create))
        runtime = Runtime(transport, run_id=run_id, namespace=ns, timeouts=timeouts)
        runtime.start()
        return runtime

    return factory

