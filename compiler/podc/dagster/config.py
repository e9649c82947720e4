"""The executor's run config: the Dagster schema and the plain settings object built from it.

:func:`config_schema` builds the Dagster schema (Dagster imported lazily);
:func:`settings_from_config` validates the combinations Dagster's schema cannot express and
returns an :class:`ExecutorSettings` that the step handler uses — a plain frozen dataclass, so the
layer-building logic is testable without Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from podc.errors import Diagnostic, PodcError, Pos

__all__ = ["ExecutorSettings", "config_schema", "settings_from_config"]

_WHERE = Pos("<run config: execution.config>", 1, 1)


@dataclass(frozen=True)
class ExecutorSettings:
    project: str | None = None  # podc project file or directory
    target: str | None = None  # project target whose layers every step starts from
    profile: str | None = None  # project profile
    layers: tuple[str, ...] = ()  # layer files, used when no project is given
    layer: Mapping[str, Any] | None = None  # an inline layer (executor config layer)
    namespace: str | None = None
    image: str | None = None
    kubeconfig_file: str | None = None
    load_incluster_config: bool = False
    context: str | None = None
    max_concurrent: int | None = None
    tag_concurrency_limits: tuple[Mapping[str, Any], ...] = ()
    step_timeout: float | None = None  # → Job activeDeadlineSeconds
    pending_timeout: float | None = None  # → runtime: unschedulable/image-pull/not-started grace
    step_command: tuple[str, ...] | None = None  # entry point, default: from the job's origin
    local_python: bool = False  # entry point = the run worker's interpreter (local clusters)
    env_passthrough: tuple[str, ...] = ()  # executor env vars copied into every step
    check_policies: bool = True
    health_check_interval: int = 1  # seconds; the runtime's watch makes checks free
    poll_interval: float | None = None  # executor event-log poll; Dagster default 1 s
    success_grace: float = 60.0  # Job succeeded but Dagster saw no step outcome → unhealthy
    base_dir: str | None = None  # where relative layer paths are resolved (default: cwd)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def uses_project(self) -> bool:
        return self.project is not None


def _error(message: str, hint: str) -> PodcError:
    return PodcError([Diagnostic("dagster.bad-config", message, _WHERE, hint)])


def settings_from_config(cfg: Mapping[str, Any]) -> ExecutorSettings:
    """Validate a (Dagster-processed) executor config dict into settings."""
    project = cfg.get("project")
    layers = tuple(cfg.get("layers") or ())
    if project and layers:
        raise _error("set either 'project' (with 'target') or 'layers', not both",
                     "a project already lists its layers; add extra files with the podc/layers tag")
    if cfg.get("target") and not project:
        raise _error("'target' needs 'project'", "add project: path/to/podc.yaml")
    if cfg.get("step_command") and cfg.get("local_python"):
        raise _error("set either 'step_command' or 'local_python', not both",
                     "local_python runs `<this interpreter> -m dagster`; step_command names another")
    if cfg.get("load_incluster_config") and cfg.get("kubeconfig_file"):
        raise _error("'kubeconfig_file' is set but 'load_incluster_config' is true",
                     "set only one of them")
    layer = cfg.get("layer")
    if layer is not None and not isinstance(layer, Mapping):
        raise _error(f"'layer' must be a mapping of podc layer fields, got {type(layer).__name__}",
                     "e.g. layer: {resources: {limits: {memory: 1Gi}}}")
    for key in ("step_timeout", "pending_timeout"):
        value = cfg.get(key)
        if value is not None and float(value) <= 0:
            raise _error(f"'{key}' must be a positive number of seconds, got {value}",
                         f"e.g. {key}: 3600")
    max_concurrent = cfg.get("max_concurrent")
    if max_concurrent is not None and int(max_concurrent) < 1:
        raise _error(f"'max_concurrent' must be at least 1, got {max_concurrent}",
                     "leave it unset for no limit")
    base_dir = cfg.get("base_dir")
    if base_dir is None and project:
        path = Path(project)
        base_dir = str(path if path.is_dir() else path.parent)
    return ExecutorSettings(
        project=project,
        target=cfg.get("target"),
        profile=cfg.get("profile"),
        layers=layers,
        layer=dict(layer) if layer else None,
        namespace=cfg.get("namespace"),
        image=cfg.get("image"),
        kubeconfig_file=cfg.get("kubeconfig_file"),
        load_incluster_config=bool(cfg.get("load_incluster_config")),
        context=cfg.get("context"),
        max_concurrent=int(max_concurrent) if max_concurrent is not None else None,
        tag_concurrency_limits=tuple(cfg.get("tag_concurrency_limits") or ()),
        step_timeout=float(cfg["step_timeout"]) if cfg.get("step_timeout") else None,
        pending_timeout=float(cfg["pending_timeout"]) if cfg.get("pending_timeout") else None,
        step_command=tuple(cfg["step_command"]) if cfg.get("step_command") else None,
        local_python=bool(cfg.get("local_python")),
        env_passthrough=tuple(cfg.get("env_passthrough") or ()),
        check_policies=bool(cfg.get("check_policies", True)),
        health_check_interval=int(cfg.get("health_check_interval") or 1),
        poll_interval=float(cfg["poll_interval"]) if cfg.get("poll_interval") else None,
        success_grace=float(cfg.get("success_grace") or 60.0),
        base_dir=base_dir,
    )


def config_schema() -> dict[str, Any]:
    """The Dagster config schema of ``podc_executor``."""
    from dagster import Array, BoolSource, Field, IntSource, Noneable, Permissive, StringSource
    from dagster._core.execution.retries import get_retries_config
    from dagster._core.execution.tags import get_tag_concurrency_limits_config

    def opt(kind: Any, description: str, **kw: Any) -> Field:
        return Field(kind, is_required=False, description=description, **kw)

    return {
        "project": opt(StringSource, "podc project (file or directory). Its target's layers come "
                       "first for every step."),
        "target": opt(StringSource, "Project target whose layers every step starts from."),
        "profile": opt(StringSource, "Project profile."),
        "layers": opt(Array(StringSource), "Layer files applied first, when no project is used."),
        "layer": opt(Permissive(), "An inline podc layer applied after the project layers."),
        "namespace": opt(StringSource, "Namespace for the step Jobs (default: the kubeconfig "
                         "context's namespace)."),
        "image": opt(StringSource, "Container image for the step Jobs (executor layer)."),
        "kubeconfig_file": opt(StringSource, "Path to a kubeconfig file."),
        "load_incluster_config": opt(BoolSource, "Use the Pod's service account.", default_value=False),
        "context": opt(StringSource, "kubeconfig context."),
        "max_concurrent": opt(IntSource, "Limit on concurrently running step Jobs in this run."),
        "tag_concurrency_limits": get_tag_concurrency_limits_config(),
        "retries": get_retries_config(),
        "step_timeout": opt(Noneable(float), "Seconds a step Job may run "
                            "(Job activeDeadlineSeconds)."),
        "pending_timeout": opt(Noneable(float), "Seconds a step Pod may stay unschedulable, "
                               "unable to pull its image or not started before the step fails."),
        "step_command": opt(Array(StringSource), "Entry point that runs Dagster in the step "
                            "container, e.g. ['dagster']. Default: the job origin's "
                            "(usually `dagster`)."),
        "local_python": opt(BoolSource, "Run steps with the run worker's own interpreter "
                            "(`<sys.executable> -m dagster`): for local clusters and the podc "
                            "emulator, where step processes share this machine.",
                            default_value=False),
        "env_passthrough": opt(Array(StringSource), "Names of environment variables copied from "
                               "the run worker into every step (e.g. DAGSTER_HOME)."),
        "check_policies": opt(BoolSource, "Check each compiled Job against the project's "
                              "policies before submitting it.", default_value=True),
        "health_check_interval": opt(IntSource, "Seconds between step health checks (answered "
                                     "from the run's watch, no API request).", default_value=1),
        "poll_interval": opt(float, "Seconds between event-log polls of the executor loop."),
        "success_grace": opt(float, "Seconds a step Job may be complete without Dagster seeing "
                             "the step's outcome before the step is failed.", default_value=60.0),
        "base_dir": opt(StringSource, "Directory relative layer paths are resolved against."),
    }
