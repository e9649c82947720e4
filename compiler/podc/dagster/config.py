"""The executor's run config: the Dagster schema and the plain settings object built from it.

:func:`config_schema` builds the Dagster schema (Dagster imported lazily);
:func:`settings_from_config` validates the combinations Dagster's schema cannot express and
returns an :class:`ExecutorSettings` that the step handler uses — a plain frozen record, so the
layer-building logic is testable without Dagster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from podc._record import field, record
from podc.errors import Diagnostic, PodcError, Pos

__all__ = ["ExecutorSettings", "config_schema", "settings_from_config", "K8S_JOB_KEYS"]

_WHERE = Pos("<run config: execution.config>", 1, 1)


#: dagster-k8s ``k8s_job_executor`` keys that describe the step Jobs (translated by
#: :mod:`podc.dagster.k8s_config`): the flat keys plus ``step_k8s_config``
K8S_JOB_KEYS = ("image_pull_policy", "image_pull_secrets", "service_account_name", "env_config_maps",
                "env_secrets", "env_vars", "volume_mounts", "volumes", "labels", "resources",
                "scheduler_name", "security_context", "step_k8s_config")


@record(frozen=True)
class ExecutorSettings:
    project: str | None = None  # podc project file or directory
    target: str | None = None  # project target whose layers every step starts from
    profile: str | None = None  # project profile
    layers: tuple[str, ...] = ()  # layer files, used when no project is given
    layer: Mapping[str, Any] | None = None  # an inline layer (executor config layer)
    namespace: str | None = None  # `namespace` or dagster-k8s's `job_namespace`
    image: str | None = None  # `image` or dagster-k8s's `job_image`
    image_key: str = "image"  # which of the two the run config used (for provenance)
    kubeconfig_file: str | None = None
    load_incluster_config: bool | None = None  # None: the K8sRunLauncher's, else auto-detect
    context: str | None = None
    max_concurrent: int | None = None
    tag_concurrency_limits: tuple[Mapping[str, Any], ...] = ()
    step_timeout: float | None = None  # → Job activeDeadlineSeconds
    pending_timeout: float | None = None  # → runtime: unschedulable/image-pull/not-started grace
    cluster_timeout: float = 20.0  # seconds to connect and list the run's objects
    step_command: tuple[str, ...] | None = None  # entry point, default: from the job's origin
    local_python: bool = False  # entry point = the run worker's interpreter (local clusters)
    env_passthrough: tuple[str, ...] = ()  # executor env vars copied into every step
    check_policies: bool = True
    health_check_interval: int = 1  # seconds; the runtime's watch makes checks free
    poll_interval: float | None = None  # executor event-log poll; Dagster default 1 s
    success_grace: float = 60.0  # Job succeeded but Dagster saw no step outcome → unhealthy
    base_dir: str | None = None  # where relative layer paths are resolved (default: cwd)
    k8s: Mapping[str, Any] = field(default_factory=dict)  # dagster-k8s keys (K8S_JOB_KEYS)
    per_step_k8s_config: Mapping[str, Any] = field(default_factory=dict)  # op name → config
    enable_owner_references: bool = False
    step_dependency_config: Mapping[str, Any] | None = None
    config_error: PodcError | None = None  # a bad config: every step fails with it
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def uses_project(self) -> bool:
        return self.project is not None


def _error(message: str, hint: str) -> PodcError:
    return PodcError([Diagnostic("dagster.bad-config", message, _WHERE, hint)])


def _one_of(cfg: Mapping[str, Any], podc_key: str, k8s_key: str) -> tuple[Any, str]:
    a, b = cfg.get(podc_key), cfg.get(k8s_key)
    if a is not None and b is not None and a != b:
        raise _error(f"'{podc_key}' ({a!r}) and '{k8s_key}' ({b!r}) both set, to different values",
                     f"'{k8s_key}' is dagster-k8s's name for '{podc_key}': keep one")
    return (a, podc_key) if a is not None else (b, k8s_key)


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
    for key in ("step_timeout", "pending_timeout", "cluster_timeout"):
        value = cfg.get(key)
        if value is not None and float(value) <= 0:
            raise _error(f"'{key}' must be a positive number of seconds, got {value}",
                         f"e.g. {key}: 3600")
    max_concurrent = cfg.get("max_concurrent")
    if max_concurrent is not None and int(max_concurrent) < 1:
        raise _error(f"'max_concurrent' must be at least 1, got {max_concurrent}",
                     "leave it unset for no limit")
    per_step = cfg.get("per_step_k8s_config") or {}
    if not isinstance(per_step, Mapping):
        raise _error("'per_step_k8s_config' must map op names to dagster-k8s config",
                     "e.g. per_step_k8s_config: {train: {container_config: {...}}}")
    namespace, _ = _one_of(cfg, "namespace", "job_namespace")
    image, image_key = _one_of(cfg, "image", "job_image")
    base_dir = cfg.get("base_dir")
    if base_dir is None and project:
        path = Path(project)
        base_dir = str(path if path.is_dir() else path.parent)
    incluster = cfg.get("load_incluster_config")
    return ExecutorSettings(
        project=project,
        target=cfg.get("target"),
        profile=cfg.get("profile"),
        layers=layers,
        layer=dict(layer) if layer else None,
        namespace=namespace,
        image=image,
        image_key=image_key,
        kubeconfig_file=cfg.get("kubeconfig_file"),
        load_incluster_config=None if incluster is None else bool(incluster),
        context=cfg.get("context"),
        max_concurrent=int(max_concurrent) if max_concurrent is not None else None,
        tag_concurrency_limits=tuple(cfg.get("tag_concurrency_limits") or ()),
        step_timeout=float(cfg["step_timeout"]) if cfg.get("step_timeout") else None,
        pending_timeout=float(cfg["pending_timeout"]) if cfg.get("pending_timeout") else None,
        cluster_timeout=float(cfg.get("cluster_timeout") or 20.0),
        step_command=tuple(cfg["step_command"]) if cfg.get("step_command") else None,
        local_python=bool(cfg.get("local_python")),
        env_passthrough=tuple(cfg.get("env_passthrough") or ()),
        check_policies=bool(cfg.get("check_policies", True)),
        health_check_interval=int(cfg.get("health_check_interval") or 1),
        poll_interval=float(cfg["poll_interval"]) if cfg.get("poll_interval") else None,
        success_grace=float(cfg.get("success_grace") or 60.0),
        base_dir=base_dir,
        k8s={k: cfg[k] for k in K8S_JOB_KEYS if cfg.get(k) not in (None, [], {})},
        per_step_k8s_config=dict(per_step),
        enable_owner_references=bool(cfg.get("enable_owner_references")),
        step_dependency_config=cfg.get("step_dependency_config"),
    )


def _dagster_k8s_schema() -> dict[str, Any]:
    """The keys of dagster-k8s 0.29's ``k8s_job_executor`` with their types (same meaning)."""
    from dagster import (Array, BoolSource, Enum, EnumValue, Field, IntSource, Map, Noneable,
                         Permissive, Shape, StringSource)

    def opt(kind: Any, description: str, **kw: Any) -> Field:
        return Field(kind, is_required=False, description=description, **kw)

    user_k8s = Shape({
        **{k: Field(Permissive(), is_required=False) for k in (
            "container_config", "pod_template_spec_metadata", "pod_spec_config", "job_config",
            "job_metadata", "job_spec_config")},
        "merge_behavior": Field(Enum("K8sConfigMergeBehavior", [EnumValue("DEEP"), EnumValue("SHALLOW")]),
                                is_required=False),
    })
    mount = Permissive({"name": StringSource,
                        **{k: Field(kind, is_required=False) for k, kind in (
                            ("mount_path", StringSource), ("mount_propagation", StringSource),
                            ("read_only", BoolSource), ("sub_path", StringSource),
                            ("sub_path_expr", StringSource))}})
    return {
        "job_image": opt(Noneable(StringSource), "dagster-k8s name of `image`."),
        "job_namespace": opt(StringSource, "dagster-k8s name of `namespace`."),
        "image_pull_policy": opt(Noneable(StringSource), "Image pull policy of the step container "
                                 "(default Always, as in dagster-k8s)."),
        "image_pull_secrets": opt(Noneable(Array(Shape({"name": StringSource}))),
                                  "Secrets to pull the image with."),
        "service_account_name": opt(Noneable(StringSource), "Service account of the step Pods."),
        "env_config_maps": opt(Noneable(Array(StringSource)), "ConfigMaps loaded with envFrom."),
        "env_secrets": opt(Noneable(Array(StringSource)), "Secrets loaded with envFrom."),
        "env_vars": opt(Noneable(Array(str)), "Env vars: NAME=value, or NAME (its value in the "
                        "run worker)."),
        "volume_mounts": opt(Array(mount), "Volume mounts of the step container."),
        "volumes": opt(Array(Permissive({"name": str})), "Volumes of the step Pods."),
        "labels": opt(dict, "Labels of the step Jobs and Pods."),
        "resources": opt(Noneable({"limits": Field(dict, is_required=False),
                                   "requests": Field(dict, is_required=False)}),
                         "Resources of the step container."),
        "scheduler_name": opt(Noneable(StringSource), "Scheduler of the step Pods."),
        "security_context": opt(dict, "Security context of the step container."),
        "step_k8s_config": opt(user_k8s, "Raw Kubernetes config for every step (dagster-k8s "
                               "sections: container_config, pod_spec_config, ...)."),
        "per_step_k8s_config": opt(Map(str, user_k8s, key_label_name="step_name"),
                                   "Raw Kubernetes config per op name.", default_value={}),
        "enable_owner_references": opt(bool, "Make each step Job owned by the run worker's Pod "
                                       "(garbage-collected with it).", default_value=False),
        "step_dependency_config": opt(Shape({"require_upstream_step_success": Field(bool, default_value=True)}),
                                      "When steps run relative to their upstream steps."),
        "cluster_timeout": opt(float, "Seconds to connect to the cluster and list the run's Jobs "
                               "before the step fails (default 20).", default_value=20.0),
    }


def config_schema() -> dict[str, Any]:
    """The Dagster config schema of ``podc_executor``: podc's keys and every key of dagster-k8s's
    ``k8s_job_executor``."""
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
        "kubeconfig_file": opt(Noneable(StringSource), "Path to a kubeconfig file."),
        "load_incluster_config": opt(BoolSource, "Use the Pod's service account (default: the "
                                     "K8sRunLauncher's setting, else auto-detect)."),
        "context": opt(StringSource, "kubeconfig context."),
        "max_concurrent": opt(IntSource, "Limit on concurrently running step Jobs in this run."),
        "tag_concurrency_limits": get_tag_concurrency_limits_config(),
        "retries": get_retries_config(),
        "step_timeout": opt(Noneable(float), "Seconds a step Job may run "
                            "(Job activeDeadlineSeconds)."),
        "pending_timeout": opt(Noneable(float), "Seconds a step Pod may stay unschedulable, "
                               "unable to pull its image or not started before the step fails."),
        "step_command": opt(Array(StringSource), "Entry point that runs Dagster in the step "
                            "container, e.g. ['dagster']. Default: the image's entrypoint with "
                            "args `dagster api execute_step`, as dagster-k8s does."),
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
        **_dagster_k8s_schema(),
    }
