"""A small Dagster project whose steps run as podc-compiled Kubernetes Jobs.

The run config (``examples/dagster_project/run_config.yaml``) is written for dagster-k8s's
``k8s_job_executor`` — ``job_namespace``, ``env_vars``, ``labels``, ``volumes``,
``step_k8s_config``, ``per_step_k8s_config`` — plus podc's ``project``/``target``:
``podc_executor`` reads those keys with dagster-k8s's meaning.

* ``extract → transform → load``: data flows between step Jobs through the IO manager;
* ``transform`` asks for the ``highmem`` project layer and adds its own CPU limit and toleration
  through op tags;
* ``flaky`` fails on its first attempt (a counter file in ``$PODC_EXAMPLE_STATE_DIR``) and
  succeeds when Dagster retries it — in a new Job, with a new attempt name;
* ``broken`` always fails;
* ``migrated`` still carries a dagster-k8s ``dagster-k8s/config`` tag (its ``FOO`` and its
  ``scratch`` volume redefine the executor's: one of each in the Job, where dagster-k8s emits two);
* ``slow_job`` sleeps, for cancellation; ``scripted_job`` is for the emulator's scripted mode,
  where each op's Pod is told how to fail;
* ``guarded_job``: steps podc refuses to submit (a policy violation, an unknown layer name).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from dagster import Definitions, RetryPolicy, job, op

from podc.dagster import podc_executor

STATE_DIR_ENV = "PODC_EXAMPLE_STATE_DIR"


@op
def extract() -> list[int]:
    return [1, 2, 3, 4]


@op(tags={
    "podc/layers": "highmem",
    "podc/config": json.dumps({
        "resources": {"limits": {"cpu": "2"}},
        "tolerations": [{"key": "example.com/batch", "operator": "Exists", "effect": "NoSchedule"}],
    }),
})
def transform(numbers: list[int]) -> list[int]:
    return [n * 10 for n in numbers]


@op(retry_policy=RetryPolicy(max_retries=2))
def flaky() -> int:
    counter = Path(os.environ[STATE_DIR_ENV]) / "flaky-attempts"
    attempts = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(attempts))
    if attempts == 1:
        raise RuntimeError("transient failure on purpose (first attempt)")
    return attempts


@op
def load(transformed: list[int], attempts: int) -> int:
    total = sum(transformed)
    out = Path(os.environ[STATE_DIR_ENV]) / "loaded.json"
    out.write_text(json.dumps({"total": total, "flaky_attempts": attempts}))
    return total


@op
def broken() -> None:
    raise ValueError("broken on purpose: this step always fails")


@op(tags={"dagster-k8s/config": {
    "container_config": {
        "name": "dagster",  # podc's step container is always `main`: a warning names this key
        "env": [{"name": "FOO", "value": "from-tag"}],
        "volume_mounts": [{"name": "scratch", "mount_path": "/scratch"}],
    },
    "pod_spec_config": {
        "volumes": [{"name": "scratch", "empty_dir": {"size_limit": "1Gi"}}],
    },
    "merge_behavior": "DEEP",
}})
def migrated() -> str:
    return os.environ.get("FOO", "")


@job(executor_def=podc_executor)
def example_job():
    load(transform(extract()), flaky())
    broken()
    migrated()


@op
def sleepy() -> None:
    time.sleep(float(os.environ.get("PODC_EXAMPLE_SLEEP", "120")))


@job(executor_def=podc_executor)
def slow_job():
    sleepy()


def _scripted(name: str, outcome: str, extra: dict | None = None, retries: int = 0):
    layer = {"podAnnotations": {"podc.dev/emulator-outcome": outcome}, **(extra or {})}

    @op(name=name, tags={"podc/config": json.dumps(layer)},
        retry_policy=RetryPolicy(max_retries=retries) if retries else None)
    def _op() -> None:  # never runs: in scripted mode the emulator decides the Pod's fate
        raise AssertionError("scripted pods do not run code")

    return _op


oom = _scripted("oom", "oom", retries=1)  # retried once (a new Job), then fails for good
bad_image = _scripted("bad_image", "image-pull-error", {"image": "ghcr.io/example/missing:0.0"})
# No node has this label: the scheduler leaves the Pod Pending/Unschedulable.
unschedulable = _scripted("unschedulable", "succeed", {"nodeSelector": {"pool": "does-not-exist"}})


@job(executor_def=podc_executor)
def scripted_job():
    oom()
    bad_image()
    unschedulable()


@op(tags={"podc/config": "securityContext:\n  privileged: true\n"})
def privileged() -> None:  # blocked by the Pod Security "restricted" policy: never submitted
    pass


@op(tags={"podc/layers": "highmen"})  # typo: blocked before submission, with a suggestion
def typo() -> None:
    pass


@job(executor_def=podc_executor)
def guarded_job():
    privileged()
    typo()


defs = Definitions(jobs=[example_job, slow_job, scripted_job, guarded_job])
