"""``podc_executor``: Dagster's step-delegating executor with a podc step handler.

Usage::

    from podc.dagster import podc_executor

    @job(executor_def=podc_executor)
    def my_job(): ...

    # run config
    execution:
      config:
        project: deploy/podc          # or layers: [base.yaml, team.yaml]
        target: dagster-step
        image: registry.example.com/etl:1.4
        max_concurrent: 20
        retries: {enabled: {}}
"""

from __future__ import annotations

from typing import Any, Iterator

from dagster import executor
from dagster._core.definitions.executor_definition import multiple_process_executor_requirements
from dagster._core.execution.retries import RetryMode
from dagster._core.executor.step_delegating.step_delegating_executor import StepDelegatingExecutor

from podc.dagster.config import ExecutorSettings, config_schema, settings_from_config
from podc.dagster.step_handler import PodcStepHandler
from podc.errors import PodcError

__all__ = ["podc_executor", "PodcExecutor", "make_executor"]


class PodcExecutor(StepDelegatingExecutor):
    """Closes the run's runtimes and joins their threads when the run's execution loop ends
    (success, failure, interruption or an error), so nothing podc started outlives the run."""

    def __init__(self, step_handler: PodcStepHandler, **kwargs: Any) -> None:
        super().__init__(step_handler, **kwargs)
        self.podc_handler = step_handler

    def execute(self, plan_context: Any, execution_plan: Any) -> Iterator[Any]:
        try:
            yield from super().execute(plan_context, execution_plan)
        finally:
            self.podc_handler.close_run(plan_context.run_id)


def make_executor(settings: ExecutorSettings, retries: RetryMode, *,
                  runtime_factory: Any = None, compiler: Any = None) -> PodcExecutor:
    from dagster._core.execution.step_dependency_config import StepDependencyConfig

    handler = PodcStepHandler(settings, runtime_factory=runtime_factory, compiler=compiler)
    return PodcExecutor(
        handler,
        retries=retries,
        sleep_seconds=settings.poll_interval,
        check_step_health_interval_seconds=settings.health_check_interval,
        max_concurrent=settings.max_concurrent,
        tag_concurrency_limits=list(settings.tag_concurrency_limits) or None,
        should_verify_step=True,
        step_dependency_config=StepDependencyConfig.from_config(
            settings.step_dependency_config),  # type: ignore[arg-type]
    )


@executor(
    name="podc",
    config_schema=config_schema(),
    requirements=multiple_process_executor_requirements(),
)
def podc_executor(init_context: Any) -> PodcExecutor:
    """Runs every step as a compiled, policy-checked Kubernetes Job (see docs/dagster.md)."""
    cfg = init_context.executor_config
    try:
        settings = settings_from_config(cfg)
    except PodcError as err:  # every step fails with this reason (a STEP_FAILURE, not a crash)
        settings = ExecutorSettings(config_error=err)
    return make_executor(settings, RetryMode.from_config(cfg["retries"]))  # type: ignore[arg-type]
