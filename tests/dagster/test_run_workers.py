"""The launcher's shared watch over run workers: names, lookups, cancellation and forgetting
workers whose Job is gone, against the emulator (no Dagster)."""

from __future__ import annotations

import pytest

from podc.dagster.launcher_config import launcher_settings
from podc.dagster.run_workers import RunWorkers, worker_job_name

JOB = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "x"},
       "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never", "containers": [
           {"name": "main", "image": "busybox", "command": ["true"]}]}}}}


@pytest.fixture
def workers():
    from podc.testing import LocalCluster

    with LocalCluster() as cluster:
        changes = []
        rw = RunWorkers(launcher_settings({"kubeconfig_file": cluster.kubeconfig_path}),
                        changes.append)
        try:
            yield cluster, rw, changes
        finally:
            rw.close()


def test_names_are_deterministic_per_run_and_attempt():
    assert worker_job_name("r-1", 0) == worker_job_name("r-1", 0)
    assert worker_job_name("r-1", 0) != worker_job_name("r-1", 1) != worker_job_name("r-2", 1)
    assert len(worker_job_name("x" * 200, 3)) <= 63


def test_lookup_cancel_and_forget(workers):
    from podc.runtime.retention import forget_gone

    cluster, rw, changes = workers
    state = rw.submit("default", JOB, "run-a", 0)
    assert state.name == worker_job_name("run-a", 0)
    cluster.wait_for(lambda: rw.state("default", "run-a", 0).terminal, timeout=20)
    assert rw.state("default", "run-a", 0).succeeded
    assert any(s.step_key == "run-a" for s in changes)  # the launcher's callback saw it
    assert rw.state("default", "run-b", 0) is None  # no such Job: confirmed with one GET
    rt = rw.runtime("default")
    assert forget_gone(rt, older_than=0) == 0  # finished, but its Job still exists
    result = rw.cancel("default", "run-a", 0, timeout=20)
    assert (result.jobs_left, result.pods_left) == (0, 0)
    assert forget_gone(rt, older_than=0) == 1
    assert rw.state("default", "run-a", 0) is None
