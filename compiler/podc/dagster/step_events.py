"""The Dagster events the step handler writes: a step failure with one reason, the launch event
with podc's provenance, and the engine events of a cancellation."""

from __future__ import annotations

from typing import Any

from dagster._core.events import DagsterEvent
from dagster._core.execution.plan.objects import StepFailureData
from dagster._utils.error import SerializableErrorInfo

from podc.dagster.compile import CompiledStep
from podc.dagster.events import explain_markdown, explain_rows, redacted_manifest

__all__ = ["fail_step", "launch_event", "describe_reason"]


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


def fail_step(step_context: Any, message: str, cls_name: str = "PodcError") -> DagsterEvent:
    """A STEP_FAILURE whose error is ``message`` alone (no framework traceback)."""
    error = SerializableErrorInfo(message=message, stack=[], cls_name=cls_name)
    return DagsterEvent.step_failure_event(
        step_context=step_context,
        step_failure_data=StepFailureData(error=error, user_failure_data=None),
    )


def launch_event(step_context: Any, step_key: str, job: str, namespace: str | None, attempt: int,
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
