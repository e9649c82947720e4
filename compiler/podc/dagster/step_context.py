"""Plain facts from Dagster objects: the step (:func:`step_info`), the instance's run launcher
(:func:`launcher_config`) and the run worker's own Pod (:func:`owner_reference`)."""

from __future__ import annotations

import os
import sys
from typing import Any, Mapping

from podc.dagster.config import ExecutorSettings
from podc.dagster.layers import StepInfo

__all__ = ["step_info", "launcher_config", "owner_reference"]

# K8sRunLauncher attributes that are dagster-k8s config keys (same names)
_LAUNCHER_ATTRS = ("image_pull_policy", "image_pull_secrets", "service_account_name",
                   "env_config_maps", "env_secrets", "env_vars", "volume_mounts", "volumes", "labels",
                   "resources", "scheduler_name", "security_context", "run_k8s_config",
                   "job_namespace", "job_image", "dagster_home", "postgres_password_secret",
                   "load_incluster_config", "kubeconfig_file",
                   "only_allow_user_defined_k8s_config_fields", "only_allow_user_defined_env_vars")


def step_info(ctx: Any, step_key: str, settings: ExecutorSettings,
              launcher: Mapping[str, Any] | None) -> StepInfo:
    args = ctx.execute_step_args
    origin = args.job_origin.repository_origin
    set_command = True
    if settings.step_command:
        command: tuple[str, ...] = (*settings.step_command, "api", "execute_step")
    elif settings.local_python:
        command = (origin.executable_path or sys.executable, "-m", "dagster", "api", "execute_step")
    else:  # as dagster-k8s: the image's entrypoint runs these args
        command, set_command = tuple(args.get_command_args(skip_serialized_namedtuple=True)), False
    env = tuple((e["name"], e["value"]) for e in args.get_command_env())
    run = ctx.dagster_run
    remote = getattr(run, "remote_job_origin", None)
    code_location = remote.repository_origin.code_location_origin.location_name if remote else None
    code_origin = getattr(run, "job_code_origin", None)
    container_context = code_origin.repository_origin.container_context if code_origin else None
    try:
        op_name = ctx.get_step_context(step_key).step.op_name
    except Exception:  # noqa: BLE001 - a test double without a plan: the step key is the op name
        op_name = step_key
    from dagster import __version__

    return StepInfo(run_id=args.run_id, job_name=run.job_name, step_key=step_key, command=command,
                    step_env=env, code_location_image=getattr(origin, "container_image", None),
                    op_name=op_name, code_location=code_location, dagster_version=__version__,
                    container_context=container_context, launcher_config=launcher,
                    set_command=set_command)


def launcher_config(instance: Any) -> dict[str, Any] | None:
    """The instance's run launcher as dagster-k8s config keys, when it is dagster-k8s's
    ``K8sRunLauncher`` (k8s_job_executor merges its settings into every step Job) or a launcher
    exposing a ``dagster_k8s_config`` mapping in the same shape; else None."""
    try:
        launcher = instance.run_launcher if instance is not None else None
    except Exception:  # noqa: BLE001 - a launcher that cannot load is not ours to report
        return None
    if launcher is None:
        return None
    own = getattr(launcher, "dagster_k8s_config", None)
    if isinstance(own, Mapping):
        return dict(own)
    cls = type(launcher)
    if not any(c.__name__ == "K8sRunLauncher" and c.__module__.startswith("dagster_k8s")
               for c in cls.__mro__):
        return None
    out: dict[str, Any] = {}
    for name in _LAUNCHER_ATTRS:
        value = getattr(launcher, name, None)
        if value not in (None, [], {}):
            out[name] = value
    return out


def owner_reference(runtime: Any, namespace: str | None, manifest: dict[str, Any], log: Any) -> dict[str, Any]:
    """``enable_owner_references``: the Job is owned by the run worker's Pod (found by
    ``$HOSTNAME``), so Kubernetes deletes it with that Pod. Without such a Pod, a warning."""
    hostname = os.environ.get("HOSTNAME")
    transport = getattr(runtime, "transport", None)
    ns = namespace or getattr(runtime, "namespace", None) or "default"
    pod = None
    if hostname and transport is not None:
        try:
            pod = transport.request("GET", f"/api/v1/namespaces/{ns}/pods/{hostname}")
        except Exception as exc:  # noqa: BLE001
            log.warning(f"podc: enable_owner_references: no Pod {ns}/{hostname} ({exc}); "
                        "the step Job is not owned by the run worker")
    if not pod:
        if not hostname:
            log.warning("podc: enable_owner_references: $HOSTNAME is not set (not in a Pod?); "
                        "the step Job is not owned by the run worker")
        return manifest
    meta = pod.get("metadata") or {}
    ref = {"apiVersion": "v1", "kind": "Pod", "name": meta.get("name"), "uid": meta.get("uid")}
    job = dict(manifest)
    job_meta = dict(job.get("metadata") or {})
    job_meta["ownerReferences"] = [ref, *(job_meta.get("ownerReferences") or [])]
    job["metadata"] = job_meta
    return job
