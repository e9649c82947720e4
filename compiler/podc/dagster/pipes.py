"""``PipesPodcClient``: Dagster Pipes on Kubernetes, the Job compiled and checked by podc.

::

    from dagster import AssetExecutionContext, asset
    from podc.dagster import PipesPodcClient

    @asset(check_specs=[...])
    def scores(context: AssetExecutionContext, pipes_podc: PipesPodcClient):
        return pipes_podc.run(context=context, target="scoring",
                              command=["python", "/app/score.py"]).get_results()

``run`` compiles a podc target or layers plus the call's overrides into a Job (layer order in
:mod:`podc.dagster.pipes_layers`), checks it against the project's policies (a blocking finding
fails the step before anything is submitted), submits it through :mod:`podc.runtime`, reads
Pipes messages from the Pod's log stream as dagster-k8s's log reader does (other lines go to the
step's stdout, i.e. its compute logs) and returns the completed invocation. A Job that fails —
or never starts: image pull, missing Secret, unschedulable, FailedCreate, an init container that
fails — raises :class:`PodcPipesError` with podc's diagnosis once the runtime's grace for that
cause ends; an interrupted step deletes the Job and its Pods before it re-raises.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping, Sequence

from dagster._core.definitions.resource_annotation import TreatAsResourceParam
from dagster._core.errors import DagsterPipesExecutionError
from dagster._core.pipes.client import (PipesClient, PipesClientCompletedInvocation,
                                        PipesContextInjector, PipesMessageReader, PipesParams)
from dagster._core.pipes.utils import (PipesEnvContextInjector,
                                       extract_message_or_forward_to_stdout, open_pipes_session)
from dagster_pipes import PipesDefaultMessageWriter

from podc._record import replace
from podc.dagster.compile import CompileSession
from podc.dagster.config import ExecutorSettings, settings_from_config
from podc.dagster.pipes_layers import PipesCall, pipes_layers
from podc.dagster.run_workers import timeouts_for
from podc.dagster.step_events import describe_reason
from podc.errors import PodcError, Pos, format_diagnostics

__all__ = ["PipesPodcClient", "PipesPodcLogsMessageReader", "PodcPipesError"]

_CALL_NUMBERS: dict[tuple[str, str, int], int] = {}  # (run, step, attempt) -> calls so far
_CALL_LOCK = threading.Lock()


class PodcPipesError(DagsterPipesExecutionError):
    """The Pipes Job could not be built, was refused by policy, or failed; ``reason`` is the
    runtime's :class:`~podc.runtime.Reason` when Kubernetes said why."""

    def __init__(self, message: str, reason: Any = None) -> None:
        super().__init__(message)
        self.reason = reason


class PipesPodcLogsMessageReader(PipesMessageReader):
    """Pipes messages from the Pod's log stream (the external process writes them to stderr).
    Lines that are not Pipes messages are forwarded to this process's stdout."""

    def __init__(self) -> None:
        self._handler: Any = None

    @contextmanager
    def read_messages(self, handler: Any) -> Iterator[PipesParams]:
        self._handler = handler
        try:
            yield {PipesDefaultMessageWriter.STDIO_KEY: PipesDefaultMessageWriter.STDERR}
        finally:
            self._handler = None

    def on_line(self) -> Callable[[str], None]:
        handler = self._handler
        if handler is None:
            raise RuntimeError("PipesPodcLogsMessageReader: use inside read_messages()")
        return lambda line: extract_message_or_forward_to_stdout(handler, line)

    @property
    def expected_writer_count(self) -> int:  # one writer: the Pod's main container
        return 1

    def no_messages_debug_text(self) -> str:
        return "Attempted to read messages from the Kubernetes Pod's log stream."


class PipesPodcClient(PipesClient, TreatAsResourceParam):
    """Run an external process as a podc-compiled Kubernetes Job with Dagster Pipes.

    ``project``/``target``/``profile``/``layers``/``layer``/``namespace``/``image`` and cluster
    access mean what they mean for ``podc_executor``. ``env`` is added to every Job;
    ``timeout`` bounds the Job's run time (activeDeadlineSeconds); ``pending_timeout`` bounds how
    long its Pod may be unschedulable, unable to pull its image or start, or miss a Secret.
    ``delete_on_completion`` deletes the Job (and Pods) when the call ends, whatever the outcome
    (podc's diagnosis is taken first). ``log_drain_timeout`` is how long the log reader may still
    deliver messages after the Job ended.
    """

    def __init__(self, *, project: str | None = None, target: str | None = None,
                 profile: str | None = None, layers: Sequence[str] = (),
                 layer: Mapping[str, Any] | None = None, namespace: str | None = None,
                 image: str | None = None, env: Mapping[str, str] | None = None,
                 kubeconfig_file: str | None = None, context: str | None = None,
                 load_incluster_config: bool | None = None, timeout: float | None = None,
                 pending_timeout: float | None = None, check_policies: bool = True,
                 base_dir: str | None = None, delete_on_completion: bool = True,
                 log_drain_timeout: float = 30.0, cancel_timeout: float = 30.0,
                 context_injector: PipesContextInjector | None = None,
                 message_reader: PipesMessageReader | None = None,
                 runtime_factory: Callable[[str, str], Any] | None = None) -> None:
        try:
            self.settings: ExecutorSettings = settings_from_config({
                "project": project, "target": target, "profile": profile, "layers": list(layers),
                "layer": layer, "namespace": namespace, "image": image,
                "kubeconfig_file": kubeconfig_file, "context": context,
                "load_incluster_config": bool(load_incluster_config),
                "pending_timeout": pending_timeout, "step_timeout": timeout,
                "check_policies": check_policies, "base_dir": base_dir})
        except PodcError as err:
            raise PodcError([replace(d, pos=Pos("<PipesPodcClient(...)>", 1, 1),
                                     message=d.message.replace("step_timeout", "timeout"))
                             for d in err.diagnostics]) from None
        self.env = dict(env or {})
        self.in_cluster = load_incluster_config
        self.delete_on_completion = delete_on_completion
        self.log_drain_timeout = float(log_drain_timeout)
        self.cancel_timeout = float(cancel_timeout)
        self.context_injector = context_injector or PipesEnvContextInjector()
        self.message_reader = message_reader or PipesPodcLogsMessageReader()
        self._runtime_factory = runtime_factory or self._default_runtime
        self.session = CompileSession(self.settings)

    @classmethod
    def _is_dagster_maintained(cls) -> bool:
        return False

    # -- plumbing -----------------------------------------------------------------------------
    def _default_runtime(self, run_id: str, namespace: str | None) -> Any:
        from podc.runtime.cluster import connect, default_namespace
        from podc.runtime.runtime import Runtime

        s = self.settings
        transport = connect(kubeconfig=s.kubeconfig_file, context=s.context,
                            in_cluster=self.in_cluster)
        ns = namespace or default_namespace(s.kubeconfig_file, s.context)
        runtime = Runtime(transport, run_id=run_id, namespace=ns,
                          timeouts=timeouts_for(s.pending_timeout))
        runtime.start()
        return runtime

    @staticmethod
    def _call_key(run_id: str, step_key: str, attempt: int) -> str:
        """``<step>-pipes`` for the first call of a step attempt, ``<step>-pipes-2`` …: the Job
        name stays deterministic, so a resumed run worker adopts a call's Job."""
        with _CALL_LOCK:
            n = _CALL_NUMBERS.get((run_id, step_key, attempt), 0) + 1
            _CALL_NUMBERS[(run_id, step_key, attempt)] = n
        return f"{step_key}-pipes" + (f"-{n}" if n > 1 else "")

    def _compile(self, call: PipesCall, target: str | None, timeout: float | None) -> Any:
        settings = replace(self.settings, target=target) if target else self.settings
        if target and not settings.uses_project:
            raise PodcPipesError("PipesPodcClient.run(target=...) needs a client with a project")
        try:
            layers = pipes_layers(call, settings, client_env=self.env,
                                  timeout=timeout or self.settings.step_timeout,
                                  project_layers=self.session.project_layers())
            compiled = self.session.compile(layers, call.step_key, settings)
        except PodcError as err:
            raise PodcPipesError("podc could not build the Pipes Job, nothing was submitted:\n"
                                 + format_diagnostics(err.diagnostics)) from None
        if compiled.blocking:
            raise PodcPipesError("podc policy check failed for the Pipes Job, nothing was "
                                 "submitted:\n" + "\n".join(compiled.blocking))
        return compiled

    # -- run ----------------------------------------------------------------------------------
    def run(self, *, context: Any, extras: Mapping[str, Any] | None = None,  # type: ignore[override]
            target: str | None = None, layers: Sequence[Any] = (), image: str | None = None,
            command: Sequence[str] | str | None = None, args: Sequence[str] | None = None,
            env: Mapping[str, Any] | None = None, namespace: str | None = None,
            timeout: float | None = None,
            wait_timeout: float | None = None) -> PipesClientCompletedInvocation:
        """Run the external process; returns when its Job succeeded, raises
        :class:`PodcPipesError` with the cause otherwise. ``wait_timeout`` (seconds) bounds the
        whole call (the Job is deleted when it passes); ``timeout`` bounds the Job's run time."""
        step_key = context.get_step_execution_context().step.key
        attempt = context.retry_number
        with open_pipes_session(context=context, extras=extras,
                                context_injector=self.context_injector,
                                message_reader=self.message_reader) as session:
            call = PipesCall(run_id=context.run_id, job_name=context.job_name,
                             step_key=step_key, bootstrap_env=session.get_bootstrap_env_vars(),
                             layers=layers, image=image, command=command, args=args,
                             env=dict(env or {}))
            compiled = self._compile(call, target, timeout)
            ns = namespace or self.settings.namespace or compiled.namespace
            try:
                runtime = self._runtime_factory(f"{context.run_id}/{step_key}", ns)
            except Exception as exc:  # noqa: BLE001 - no kubeconfig, 401/403: say which
                raise PodcPipesError(f"podc could not reach the cluster for the Pipes Job: "
                                     f"{type(exc).__name__}: {exc}") from None
            try:
                name, final = self._execute(context, runtime, compiled,
                                            self._call_key(context.run_id, step_key, attempt),
                                            attempt, wait_timeout)
            finally:
                runtime.close()
        return PipesClientCompletedInvocation(session, metadata={
            "podc Job": f"{runtime.namespace}/{name}",
            "podc layers": ", ".join(compiled.layer_names),
            "podc policy check": compiled.check_summary,
        })

    def _execute(self, context: Any, runtime: Any, compiled: Any, call_key: str, attempt: int,
                 wait_timeout: float | None) -> tuple[str, Any]:
        from podc.runtime.log_follow import JobLogFollower

        name = runtime.name_for(call_key, attempt)
        where = f"{runtime.namespace}/{name}"
        context.log.info(f"podc: submitting Pipes Job {where}; layers: "
                         f"{' → '.join(compiled.layer_names)}; policy check "
                         f"{compiled.check_summary}" + "".join(f"\n{w}" for w in compiled.warnings))
        follower = None
        final = None
        try:
            runtime.submit(compiled.manifest, step_key=call_key, attempt=attempt)
            if isinstance(self.message_reader, PipesPodcLogsMessageReader):
                follower = JobLogFollower(runtime, name, self.message_reader.on_line()).start()
            final = self._wait(runtime, name, wait_timeout)
            if follower is not None and not follower.join(self.log_drain_timeout):
                context.log.warning(f"podc: the log stream of Pipes Job {where} was still open "
                                    f"{self.log_drain_timeout:g}s after the Job ended; stopped "
                                    "reading (messages after that point are lost)")
            if follower is not None and follower.error is not None:
                context.log.warning(f"podc: reading the logs of Pipes Job {where} failed: "
                                    f"{follower.error}")
        finally:
            if follower is not None:
                follower.stop()
                follower.join(5.0)
            if final is None:  # interrupted, or wait_timeout passed: nothing may outlive the step
                self._cancel(context, runtime, name, where)
            elif self.delete_on_completion:
                self._delete(context, runtime, name, where)
        if final is None:
            raise PodcPipesError(f"Pipes Job {where} did not finish within wait_timeout="
                                 f"{wait_timeout:g}s; it was deleted")
        if not final.succeeded:
            reason = _without_pipes_messages(final.reason)
            raise PodcPipesError(f"Pipes Job {where} failed: {describe_reason(reason)}", reason)
        return name, final

    @staticmethod
    def _wait(runtime: Any, name: str, wait_timeout: float | None) -> Any:
        """The terminal state; None when ``wait_timeout`` passed. Waits in short slices so an
        interrupt (Dagster's SIGTERM handling) is raised promptly."""
        deadline = None if wait_timeout is None else time.monotonic() + wait_timeout
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            state = runtime.wait([name], timeout=1.0 if left is None else min(left, 1.0))[name]
            if state.terminal:
                return state

    def _cancel(self, context: Any, runtime: Any, name: str, where: str) -> None:
        """Delete the Job and confirm (on the watch) that it and its Pods are gone."""
        try:
            result = runtime.cancel(name, confirm_timeout=self.cancel_timeout)
        except Exception as exc:  # noqa: BLE001 - report; the original exception goes on
            context.log.warning(f"podc could not delete Pipes Job {where}: "
                                f"{type(exc).__name__}: {exc}")
            return
        context.log.info(f"podc deleted Pipes Job {where} (left: {result.jobs_left} Jobs, "
                         f"{result.pods_left} Pods)")

    @staticmethod
    def _delete(context: Any, runtime: Any, name: str, where: str) -> None:
        """A finished Job: one delete request; Kubernetes removes its Pods."""
        from podc.runtime import api

        try:
            api.delete_job(runtime.transport, runtime.namespace, name, "Background")
        except Exception as exc:  # noqa: BLE001 - its TTL removes it anyway
            context.log.warning(f"podc could not delete finished Pipes Job {where}: {exc}")


def _without_pipes_messages(reason: Any) -> Any:
    """The log tail without Pipes protocol lines: they were delivered as Dagster events."""
    if reason is None or not reason.log_tail:
        return reason
    kept = tuple(line for line in reason.log_tail if '"__dagster_pipes_version"' not in line)
    return replace(reason, log_tail=kept)
