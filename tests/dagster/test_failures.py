"""Cluster, config, TLS and auth problems end as STEP_FAILUREs with one clear reason, in bounded
time, with no podc thread left and no Job or Pod created (real Dagster runs of the example's
``slow_job``: one step)."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from dagster_support import PROJECT

pytest.importorskip("dagster")


def podc_threads() -> list[str]:
    return sorted(t.name for t in threading.enumerate() if t.name.startswith("podc-") and t.is_alive())


@pytest.fixture
def no_leftover_threads():
    before = set(podc_threads())
    yield
    from podc.runtime.deadline import watchdog

    deadline = time.monotonic() + 10  # generous: a loaded CI machine; the watchdog lingers 0.5 s
    while set(podc_threads()) - before and time.monotonic() < deadline:
        watchdog.stop_if_idle(0.1)
        time.sleep(0.05)
    pending = [(round(when - time.monotonic(), 1), getattr(t.action, "__qualname__", repr(t.action)))
               for when, _, t in list(watchdog._heap) if not t.cancelled]
    assert set(podc_threads()) - before == set(), f"still scheduled on the watchdog: {pending}"


def _run(instance, execution: dict, budget: float):
    from dagster import DagsterEventType as T, execute_job, reconstructable
    from podc_example.jobs import slow_job

    config = {"project": str(PROJECT), "target": "dagster-step", "poll_interval": 0.05,
              "local_python": True, **execution}
    started = time.monotonic()
    result = execute_job(reconstructable(slow_job), instance=instance,
                         run_config={"execution": {"config": config}}, raise_on_error=False)
    elapsed = time.monotonic() - started
    assert elapsed < budget, f"took {elapsed:.1f}s"
    failures = [r.event_log_entry.dagster_event.step_failure_data.error
                for r in instance.get_records_for_run(result.run_id, of_type=T.STEP_FAILURE).records]
    run_failure = [r.event_log_entry for r in instance.get_records_for_run(
        result.run_id, of_type=T.RUN_FAILURE).records]
    assert not result.success and run_failure
    assert len(failures) == 1, "one STEP_FAILURE for the one step"
    error = failures[0]
    assert error.stack == [] and error.cause is None, "one reason, no framework traceback"
    return error.message


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kubeconfig(tmp_path, server: str) -> str:
    from podc.testing.kubeconfig import kubeconfig_text

    path = tmp_path / "kubeconfig"
    path.write_text(kubeconfig_text(server, token="podc-test-token"))
    return str(path)


def test_missing_kubeconfig_fails_the_step_at_once(instance, tmp_path, no_leftover_threads):
    missing = str(tmp_path / "nope" / "kubeconfig")
    message = _run(instance, {"kubeconfig_file": missing, "cluster_timeout": 30}, budget=20)
    assert "no usable cluster configuration: kubeconfig file not found" in message
    assert missing in message and "nothing is running" in message


def test_refused_connections_fail_the_step_within_cluster_timeout(instance, tmp_path, no_leftover_threads):
    kubeconfig = _kubeconfig(tmp_path, f"http://127.0.0.1:{_closed_port()}")
    message = _run(instance, {"kubeconfig_file": kubeconfig, "cluster_timeout": 2}, budget=25)
    assert "cannot reach the Kubernetes API server at http://127.0.0.1:" in message
    assert "gave up after 2 s" in message


def test_tls_failure_fails_the_step_with_the_tls_reason(instance, tmp_path, no_leftover_threads):
    from podc.testing import LocalCluster

    with LocalCluster() as cluster:  # speaks plain HTTP: a TLS client cannot handshake with it
        url = json.loads(open(cluster.kubeconfig_path).read())["clusters"][0]["cluster"]["server"]
        kubeconfig = _kubeconfig(tmp_path, url.replace("http://", "https://"))
        message = _run(instance, {"kubeconfig_file": kubeconfig, "cluster_timeout": 3}, budget=25)
        assert "TLS to the Kubernetes API server at https://127.0.0.1:" in message
        assert cluster.store.list("jobs", "default") == []


@pytest.mark.parametrize("status, needle", [
    (401, "rejected the credentials (401 Unauthorized)"),
    (403, "refused access (403 Forbidden)"),
])
def test_auth_failures_fail_the_step_within_seconds(instance, status, needle, no_leftover_threads):
    from podc.testing import LocalCluster

    with LocalCluster() as cluster:
        cluster.faults.fail(verb="list", status=status, count=1000)
        message = _run(instance, {"kubeconfig_file": cluster.kubeconfig_path, "namespace": "default",
                                  "cluster_timeout": 30}, budget=20)
        assert needle in message
        assert cluster.store.list("jobs", "default") == []
        assert cluster.store.list("pods", "default") == []


def test_bad_dagster_k8s_config_fails_the_step_not_the_run_start(instance, tmp_path, monkeypatch,
                                                                 no_leftover_threads):
    monkeypatch.delenv("PODC_UNSET_VAR", raising=False)
    message = _run(instance, {"kubeconfig_file": str(tmp_path / "unused"),
                              "env_vars": ["PODC_UNSET_VAR"],
                              "step_k8s_config": {"container_config": {"resourcez": {}}}}, budget=20)
    assert "podc could not build the Job for step 'sleepy', nothing was submitted" in message
    assert "run-config:execution.config.env_vars[0]" in message and "PODC_UNSET_VAR is not set" in message
    assert "`resourcez` is not a field of V1Container" in message and "did you mean `resources`" in message


def test_invalid_executor_config_fails_each_step_with_the_reason(instance, no_leftover_threads):
    message = _run(instance, {"image": "a:1", "job_image": "b:2"}, budget=20)
    assert "podc_executor config is invalid" in message
    assert "'image' ('a:1') and 'job_image' ('b:2') both set" in message
