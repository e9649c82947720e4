"""``PodcRunLauncher`` settings: the ``run_launcher.config`` block of ``dagster.yaml``.

The podc keys mean what they mean for ``podc_executor`` (``project``, ``target``, ``layers``,
``layer``, ``namespace``, ``image``, cluster access, ``pending_timeout``, ``local_python``,
``env_passthrough``, ``check_policies``). dagster-k8s's ``K8sRunLauncher`` keys are accepted with
their dagster-k8s meaning, so a ``dagster.yaml`` can switch ``class:`` first and be rewritten in
podc terms later. The shared keys are validated by :func:`podc.dagster.config.settings_from_config`
(one set of rules for executor and launcher); errors are re-pointed at ``dagster.yaml``.

Pure: Dagster is imported only by :func:`launcher_config_schema`.
"""

from __future__ import annotations

from typing import Any, Mapping

from podc._record import field, record, replace
from podc.dagster.config import ExecutorSettings, settings_from_config
from podc.errors import Diagnostic, PodcError, Pos

__all__ = ["LauncherSettings", "launcher_settings", "launcher_config_schema", "K8S_KEYS",
           "WHERE"]

WHERE = "<dagster.yaml: run_launcher.config>"
_POS = Pos(WHERE, 1, 1)

# K8sRunLauncher keys translated into the layer `dagster.yaml:run_launcher.config (dagster-k8s)`.
K8S_KEYS = ("image_pull_policy", "image_pull_secrets", "service_account_name", "env_config_maps",
            "env_secrets", "env_vars", "volume_mounts", "volumes", "labels", "resources",
            "scheduler_name", "security_context", "run_k8s_config")
# K8sRunLauncher keys podc refuses rather than ignore.
_REFUSED = {
    "k8s_api_ssl_ca_cert_file":
        "put the CA into the kubeconfig (certificate-authority) named by kubeconfig_file",
}


@record(frozen=True)
class LauncherSettings:
    """Everything the launcher needs; ``compile`` is what :class:`CompileSession` reads."""

    compile: ExecutorSettings
    k8s: Mapping[str, Any] = field(default_factory=dict)  # K8sRunLauncher keys, as written
    run_timeout: float | None = None  # → activeDeadlineSeconds of the run worker Job
    entry_point: tuple[str, ...] | None = None  # default: the code location's (`dagster`)
    dagster_home: str | None = None  # → env DAGSTER_HOME (dagster-k8s key)
    postgres_password_secret: str | None = None  # → env DAGSTER_PG_PASSWORD (dagster-k8s key)
    fail_pod_on_run_failure: bool | None = None
    terminate_timeout: float = 60.0  # seconds to confirm that the run's Jobs and Pods are gone
    # dagster-k8s's allow-lists for what code locations and run tags may set (None: no list)
    allow_fields: Mapping[str, Any] | None = None
    allow_env_vars: tuple[str, ...] | None = None

    @property
    def namespace(self) -> str | None:
        return self.compile.namespace


def _error(message: str, hint: str) -> PodcError:
    return PodcError([Diagnostic("dagster.bad-config", message, _POS, hint)])


def _repoint(err: PodcError) -> PodcError:
    """The executor's validation names the run config; here the input is dagster.yaml."""
    return PodcError([replace(d, pos=_POS, message=d.message.replace("execution.config",
                                                                     "run_launcher.config"))
                      for d in err.diagnostics])


def launcher_settings(cfg: Mapping[str, Any]) -> LauncherSettings:
    """Validate a (Dagster-processed) ``run_launcher.config`` dict. Raises PodcError."""
    for key, hint in _REFUSED.items():
        if cfg.get(key):
            raise _error(f"'{key}' (a K8sRunLauncher key) is not supported by PodcRunLauncher",
                         hint)
    if cfg.get("image") and cfg.get("job_image") and cfg["image"] != cfg["job_image"]:
        raise _error("'image' and 'job_image' are both set and differ",
                     "job_image is dagster-k8s's name for image: keep one")
    if cfg.get("namespace") and cfg.get("job_namespace") \
            and cfg["namespace"] != cfg["job_namespace"]:
        raise _error("'namespace' and 'job_namespace' are both set and differ",
                     "job_namespace is dagster-k8s's name for namespace: keep one")
    if cfg.get("run_command") and cfg.get("local_python"):
        raise _error("set either 'run_command' or 'local_python', not both",
                     "local_python runs `<this interpreter> -m dagster`; run_command names another")
    shared = {key: cfg.get(key) for key in (
        "project", "target", "profile", "layers", "layer", "kubeconfig_file", "context",
        "load_incluster_config", "pending_timeout", "local_python", "env_passthrough",
        "check_policies", "base_dir")}
    shared["image"] = cfg.get("image") or cfg.get("job_image")
    shared["namespace"] = cfg.get("namespace") or cfg.get("job_namespace")
    if shared["check_policies"] is None:
        shared.pop("check_policies")
    try:
        settings = settings_from_config(shared)
    except PodcError as err:
        raise _repoint(err) from None
    for key in ("run_timeout", "terminate_timeout"):
        value = cfg.get(key)
        if value is not None and float(value) <= 0:
            raise _error(f"'{key}' must be a positive number of seconds, got {value}",
                         f"e.g. {key}: 3600")
    run_timeout, terminate_timeout = cfg.get("run_timeout"), cfg.get("terminate_timeout")
    return LauncherSettings(
        compile=settings,
        k8s={key: cfg[key] for key in K8S_KEYS if cfg.get(key)},
        run_timeout=float(run_timeout) if run_timeout else None,
        entry_point=tuple(cfg["run_command"]) if cfg.get("run_command") else None,
        dagster_home=cfg.get("dagster_home"),
        postgres_password_secret=cfg.get("postgres_password_secret"),
        fail_pod_on_run_failure=cfg.get("fail_pod_on_run_failure"),
        terminate_timeout=float(terminate_timeout) if terminate_timeout else 60.0,
        allow_fields=cfg.get("only_allow_user_defined_k8s_config_fields"),
        allow_env_vars=(tuple(cfg["only_allow_user_defined_env_vars"])
                        if cfg.get("only_allow_user_defined_env_vars") is not None else None),
    )


def launcher_config_schema() -> dict[str, Any]:
    """The Dagster config schema of ``PodcRunLauncher`` (``run_launcher.config``)."""
    from dagster import Array, BoolSource, Field, Noneable, Permissive, StringSource

    from podc.dagster.config import config_schema

    def opt(kind: Any, description: str, **kw: Any) -> Field:
        return Field(kind, is_required=False, description=description, **kw)

    executor = config_schema()  # the keys whose meaning does not depend on what is launched
    podc_keys = {key: executor[key] for key in ("profile", "layers", "kubeconfig_file", "context",
                                                "load_incluster_config", "base_dir",
                                                "check_policies")}
    podc_keys |= {
        "project": opt(StringSource, "podc project (file or directory); its target's layers "
                       "come first for every run worker Job."),
        "target": opt(StringSource, "Project target the run worker Jobs start from."),
        "layer": opt(Permissive(), "An inline podc layer applied after the launcher's keys."),
        "namespace": opt(StringSource, "Namespace of the run worker Jobs (default: the "
                         "project's, else the kubeconfig context's)."),
        "image": opt(StringSource, "Run worker image (default: the code location's image)."),
        "pending_timeout": opt(Noneable(float), "Seconds a run worker Pod may stay "
                               "unschedulable, fail to pull its image, miss a Secret or not "
                               "start before the run fails."),
        "run_timeout": opt(Noneable(float), "Seconds a run worker Job may run "
                           "(activeDeadlineSeconds)."),
        "run_command": opt(Array(StringSource), "Entry point that runs Dagster in the run "
                           "worker image, e.g. ['dagster']. Default: the code location's."),
        "local_python": opt(BoolSource, "Run workers as `<this interpreter> -m dagster`: for "
                            "local clusters and the podc emulator.", default_value=False),
        "env_passthrough": opt(Array(StringSource), "Names of launcher env vars copied into "
                               "every run worker (e.g. DAGSTER_HOME)."),
        "terminate_timeout": opt(float, "Seconds `terminate` waits for the run's Jobs and Pods "
                                 "to be gone.", default_value=60.0),
    }
    k8s_keys = {
        "job_image": opt(StringSource, "dagster-k8s name for `image`."),
        "job_namespace": opt(StringSource, "dagster-k8s name for `namespace`."),
        "image_pull_policy": opt(StringSource, "dagster-k8s key."),
        "image_pull_secrets": opt(Array(Permissive()), "dagster-k8s key: [{name: ...}]."),
        "service_account_name": opt(StringSource, "dagster-k8s key."),
        "env_config_maps": opt(Array(StringSource), "dagster-k8s key: ConfigMaps as envFrom."),
        "env_secrets": opt(Array(StringSource), "dagster-k8s key: Secrets as envFrom."),
        "env_vars": opt(Array(StringSource), "dagster-k8s key: 'NAME=value', or 'NAME' to copy "
                        "the launcher's value."),
        "volume_mounts": opt(Array(Permissive()), "dagster-k8s key."),
        "volumes": opt(Array(Permissive()), "dagster-k8s key."),
        "labels": opt(Permissive(), "dagster-k8s key: labels of the Job and its Pod."),
        "resources": opt(Permissive(), "dagster-k8s key: the container's resources."),
        "scheduler_name": opt(StringSource, "dagster-k8s key."),
        "security_context": opt(Permissive(), "dagster-k8s key: the container's securityContext."),
        "run_k8s_config": opt(Permissive(), "dagster-k8s key: like the dagster-k8s/config tag."),
        "dagster_home": opt(StringSource, "dagster-k8s key: DAGSTER_HOME in the run worker."),
        "postgres_password_secret": opt(StringSource, "dagster-k8s key: Secret whose "
                                        "`postgresql-password` becomes DAGSTER_PG_PASSWORD."),
        "instance_config_map": opt(StringSource, "dagster-k8s key, accepted and unused: the "
                                   "run worker gets the instance from its run arguments."),
        "fail_pod_on_run_failure": opt(BoolSource, "dagster-k8s key: the worker exits non-zero "
                                       "when the run fails."),
        "only_allow_user_defined_k8s_config_fields": opt(Permissive(), "dagster-k8s key: the "
                                                         "fields code locations and run tags may "
                                                         "set; they may not add podc layers."),
        "only_allow_user_defined_env_vars": opt(Array(StringSource), "dagster-k8s key: the env "
                                                "vars code locations and run tags may set."),
        "k8s_api_ssl_ca_cert_file": opt(StringSource, "dagster-k8s key: refused (put the CA "
                                        "into the kubeconfig)."),
    }
    return {**podc_keys, **k8s_keys}
