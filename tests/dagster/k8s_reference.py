"""Build the step Job for one generated configuration twice: with dagster-k8s's own code
(``k8s_job_executor`` → ``K8sStepHandler.launch_step`` → ``construct_dagster_k8s_job``, the Job
captured where it would be sent) and with podc (``PodcStepHandler.build`` on the same step
context). Both executors get the same raw run config, processed by their own config schemas."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from k8s_generate import Case

RUN_ID = "4f2c9a1e-0000-4000-8000-00000000abcd"
STEP = "train"
JOB = "etl"


def fake_launcher(attrs: dict[str, Any]) -> Any:
    """A real ``K8sRunLauncher`` object (isinstance and properties work) without its __init__,
    which would load a kubeconfig and build API clients."""
    from dagster_k8s import K8sRunLauncher

    launcher = K8sRunLauncher.__new__(K8sRunLauncher)
    private = {"job_image": None, "image_pull_policy": None, "image_pull_secrets": [],
               "service_account_name": None, "env_config_maps": [], "env_secrets": [], "env_vars": [],
               "volume_mounts": [], "volumes": [], "labels": {}, "resources": {}, "scheduler_name": None,
               "security_context": {}, "run_k8s_config": {}, "fail_pod_on_run_failure": None,
               "only_allow_user_defined_k8s_config_fields": None,
               "only_allow_user_defined_env_vars": None, "inst_data": None}
    for key, default in private.items():
        setattr(launcher, f"_{key}", attrs.get(key, default))
    launcher.job_namespace = attrs.get("job_namespace", "default")
    launcher.dagster_home = "/opt/dagster/dagster_home"
    launcher.instance_config_map = "dagster-instance"
    launcher.postgres_password_secret = attrs.get("postgres_password_secret")
    launcher.load_incluster_config = False
    launcher.kubeconfig_file = None
    return launcher


def step_context(case: Case, launcher: Any) -> Any:
    """What a StepHandlerContext offers the handlers, for one step of one run."""
    args = SimpleNamespace(
        run_id=RUN_ID, step_keys_to_execute=[STEP], known_state=None,
        job_origin=SimpleNamespace(repository_origin=SimpleNamespace(
            container_image=case.origin_image, executable_path="/usr/bin/python3")),
        get_command_args=lambda skip_serialized_namedtuple=False: ["dagster", "api", "execute_step"],
        get_command_env=lambda: [{"name": "DAGSTER_COMPRESSED_EXECUTE_STEP_ARGS", "value": "eJzz"}])
    code_origin = SimpleNamespace(repository_origin=SimpleNamespace(container_context=case.container_context))
    run = SimpleNamespace(job_name=JOB, run_id=RUN_ID, tags=case.run_tags, remote_job_origin=None,
                          job_code_origin=code_origin)
    step = SimpleNamespace(step=SimpleNamespace(op_name=case.op_name), log=SimpleNamespace(
        warning=lambda *_: None))
    return SimpleNamespace(execute_step_args=args, dagster_run=run, step_tags={STEP: case.op_tags},
                           instance=SimpleNamespace(run_launcher=launcher),
                           get_step_context=lambda key: step)


def processed(config_type: Any, raw: dict[str, Any]) -> dict[str, Any]:
    from dagster._config import process_config

    result = process_config(config_type, raw)
    assert result.success, [e.message for e in result.errors]
    return result.value


def dagster_k8s_job(case: Case, monkeypatch: Any) -> dict[str, Any]:
    import kubernetes
    from dagster_k8s import executor as k8s_executor
    from kubernetes.client import ApiClient

    monkeypatch.setattr(kubernetes.config, "load_kube_config", lambda *a, **k: None)
    monkeypatch.setattr(kubernetes.config, "load_incluster_config", lambda *a, **k: None)
    monkeypatch.setattr(k8s_executor.DagsterEvent, "step_worker_starting", lambda *a, **k: None)
    launcher = fake_launcher(case.launcher)
    cfg = processed(k8s_executor.k8s_job_executor.config_schema.config_type, case.executor)
    init = SimpleNamespace(instance=SimpleNamespace(run_launcher=launcher), executor_config=cfg)
    handler = k8s_executor.k8s_job_executor.executor_creation_fn(init)._step_handler
    sent: list[Any] = []
    handler._api_client = SimpleNamespace(
        create_namespaced_job_with_retries=lambda body, namespace: sent.append((body, namespace)))
    list(handler.launch_step(step_context(case, launcher)))
    body, namespace = sent[0]
    job = ApiClient().sanitize_for_serialization(body)
    job["metadata"]["namespace"] = namespace
    return job


def podc_job(case: Case) -> tuple[dict[str, Any], Any, list[str], str | None]:
    """(manifest, provenance, warnings, namespace) from podc's step handler."""
    from podc.dagster import podc_executor
    from podc.dagster.config import settings_from_config
    from podc.dagster.step_handler import PodcStepHandler

    cfg = processed(podc_executor.config_schema.config_type, case.executor)
    handler = PodcStepHandler(settings_from_config(cfg), runtime_factory=_no_cluster)
    compiled, warnings, namespace = handler.build(step_context(case, fake_launcher(case.launcher)), STEP)
    return compiled.manifest, compiled.job.provenance, warnings, namespace or handler.settings.namespace


def _no_cluster(run_id: str, namespace: str | None) -> Any:
    raise AssertionError("the differential test builds Jobs only")


def dumps(data: Any) -> str:
    return json.dumps(data, indent=1, sort_keys=True, default=str)
