"""PodcRunLauncher end to end: a real Dagster instance launches runs whose workers run as
`dagster api execute_run` processes on the emulator (process mode). Outcomes come from Dagster's
event log and run storage and from the objects the emulator received."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("dagster")

from launcher_support import launcher_env  # noqa: E402


def _engine_metadata(instance, run_id, needle):
    from dagster import DagsterEventType as T

    for record in instance.get_records_for_run(run_id, of_type=T.ENGINE_EVENT).records:
        entry = record.event_log_entry
        if needle in (entry.message or ""):
            return entry.dagster_event.engine_event_data.metadata
    raise AssertionError(f"no engine event containing {needle!r}")


def test_run_worker_runs_as_a_compiled_job(tmp_path, monkeypatch):
    from dagster import DagsterRunStatus

    with launcher_env(tmp_path, monkeypatch=monkeypatch) as env:
        run = env.launch("hello_job", tags={"podc/config": json.dumps(
            {"resources": {"limits": {"cpu": "2"}}})})
        done = env.wait_finished(run.run_id)
        assert done.status == DagsterRunStatus.SUCCESS, env.messages(run.run_id)

        jobs = env.jobs()
        assert len(jobs) == 1
        job = jobs[0]
        labels = job["metadata"]["labels"]
        assert labels["dagster/run-id"] == run.run_id
        assert labels["dagster/job"] == "hello_job"
        assert labels["app.kubernetes.io/component"] == "run_worker"
        assert labels["team"] == "data-platform"  # from the project's base layer
        main = job["spec"]["template"]["spec"]["containers"][0]
        assert main["command"][-3:] == ["dagster", "api", "execute_run"]
        assert main["resources"]["limits"] == {"memory": "1Gi", "cpu": "2"}
        env_names = {e["name"] for e in main["env"]}
        assert {"DAGSTER_COMPRESSED_EXECUTE_RUN_ARGS", "DAGSTER_RUN_JOB_NAME"} <= env_names
        assert job["spec"]["backoffLimit"] == 0
        # the op ran inside the worker's Pod
        assert (env.state_dir / "hello").read_text().startswith(job["metadata"]["name"])

        meta = _engine_metadata(env.instance, run.run_id, "launched run worker Job")
        assert meta["podc layers"].value["layers"] == [
            "podc:defaults", "base", "run-worker", "dagster.yaml:run_launcher.config.layer",
            "tag:podc/config", "dagster:run"]
        prov = meta["podc provenance"].value
        assert prov["resources.limits.cpu"]["layer"] == "tag:podc/config"
        assert prov["resources.limits.memory"]["layer"] == "run-worker"
        assert "run-worker.yaml" in prov["resources.limits.memory"]["source"]
        assert prov["command"]["layer"] == "dagster:run"
        assert meta["podc policy check"].value.startswith("passed (")
        shown = meta["podc manifest"].value["spec"]["template"]["spec"]["containers"][0]
        assert all(e.get("value") in (None, "<redacted>") for e in shown["env"])
        assert done.tags["podc/run-worker-namespace"] == "default"


@pytest.mark.slow  # two Dagster processes start one after the other
def test_run_worker_with_podc_executor_launches_step_jobs(tmp_path, monkeypatch):
    from dagster import DagsterRunStatus

    # The executor's run config names no cluster and no namespace: like k8s_job_executor under
    # K8sRunLauncher, it takes them and the launcher's dagster-k8s keys from the launcher.
    with launcher_env(tmp_path, monkeypatch=monkeypatch,
                      launcher={"env_vars": ["FROM_LAUNCHER=yes"]}) as env:
        run_config = {"execution": {"config": {
            "project": str(env_project()), "target": "dagster-step", "local_python": True,
            "poll_interval": 0.1, "env_passthrough": ["DAGSTER_HOME", "PYTHONPATH",
                                                      "PODC_EXAMPLE_STATE_DIR"]}}}
        run = env.launch("hello_podc_job", run_config=run_config)
        done = env.wait_finished(run.run_id)
        assert done.status == DagsterRunStatus.SUCCESS, env.messages(run.run_id)
        workers = [j for j in env.jobs()
                   if j["metadata"]["labels"].get("app.kubernetes.io/component") == "run_worker"]
        assert len(workers) == 1 and len(env.jobs()) == 2  # the worker and the step's Job
        assert all(j["metadata"]["labels"]["dagster/run-id"] == run.run_id for j in env.jobs())
        step_job = next(j for j in env.jobs() if "podc.dev/step-key" in j["metadata"]["labels"]
                        and j["metadata"]["labels"]["podc.dev/step-key"] == "hello")
        assert (env.state_dir / "hello").read_text().startswith(step_job["metadata"]["name"])
        for job in env.jobs():  # the launcher's env_vars reach the worker and the step
            main = job["spec"]["template"]["spec"]["containers"][0]
            assert {"name": "FROM_LAUNCHER", "value": "yes"} in main["env"]


def env_project():
    from dagster_support import PROJECT

    return PROJECT


def test_policy_violation_fails_the_run_before_anything_is_submitted(tmp_path, monkeypatch):
    from dagster import DagsterRunStatus

    with launcher_env(tmp_path, monkeypatch=monkeypatch) as env:
        run = env.launch("hello_job", tags={"podc/config": "securityContext:\n  privileged: true\n"})
        done = env.instance.get_run_by_id(run.run_id)
        assert done.status == DagsterRunStatus.FAILURE
        assert env.jobs() == [] and env.cluster.request_log.count(verb="create") == 0
        text = "\n".join(env.messages(run.run_id))
        assert "podc policy check failed for the run worker" in text
        assert "nothing was submitted" in text
        assert "<run tag podc/config>:2:" in text and "privileged" in text


def test_bad_run_tag_fails_the_run_with_its_location(tmp_path, monkeypatch):
    from dagster import DagsterRunStatus

    with launcher_env(tmp_path, monkeypatch=monkeypatch) as env:
        run = env.launch("hello_job", tags={"podc/layers": "highmen"})
        assert env.instance.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE
        text = "\n".join(env.messages(run.run_id))
        assert "run tag podc/layers" in text and "did you mean 'highmem'?" in text
        assert "op tag" not in text
        assert env.jobs() == []


@pytest.mark.parametrize("tag,cause", [
    ({"podAnnotations": {"podc.dev/emulator-outcome": "image-pull-error"},
      "image": "ghcr.io/example/missing:0.0"}, "ImagePullBackOff"),
    ({"nodeSelector": {"pool": "does-not-exist"}}, "Unschedulable"),
    ({"env": {"DB_PASSWORD": {"secretKeyRef": {"name": "db", "key": "password"}}}},
     'secret "db" not found'),
    ({"serviceAccountName": "robot"}, 'serviceaccount "robot" not found'),
], ids=["image-pull", "unschedulable", "missing-secret", "failed-create"])
def test_a_worker_that_never_starts_fails_its_run_with_the_cause(tmp_path, monkeypatch, tag, cause):
    import time

    from dagster import DagsterRunStatus

    with launcher_env(tmp_path, monkeypatch=monkeypatch,
                      launcher={"pending_timeout": 1.0}) as env:
        started = time.monotonic()
        run = env.launch("hello_job", tags={"podc/config": json.dumps(tag)})
        done = env.wait_finished(run.run_id)
        assert time.monotonic() - started < 40  # grace 1 s; dagster-k8s: 180 s or never
        assert done.status == DagsterRunStatus.FAILURE
        text = "\n".join(env.messages(run.run_id))
        assert "failed before the run started" in text and cause in text, text
        # the runtime deleted the Job it declared failed: nothing keeps retrying
        env.cluster.wait_for(lambda: env.pods() == [] and env.jobs() == [], timeout=30)
        health = env.instance.run_launcher.check_run_worker_health(done)
        assert health.status.value in ("FAILED", "NOT_FOUND")
    import threading  # the instance is disposed: the launcher's watches and reporter are gone

    assert [t.name for t in threading.enumerate() if t.name.startswith("podc-")
            and not t.name.startswith("podc-emulator")] == []


def _podc_run_config(env):
    return {"execution": {"config": {
        "project": str(env_project()), "target": "dagster-step", "namespace": "default",
        "kubeconfig_file": env.cluster.kubeconfig_path, "local_python": True, "poll_interval": 0.1,
        "env_passthrough": ["DAGSTER_HOME", "PYTHONPATH", "PODC_EXAMPLE_STATE_DIR",
                            "PODC_EXAMPLE_SLEEP"]}}}


@pytest.mark.slow  # the podc_executor case starts two Dagster processes
@pytest.mark.parametrize("job", ["sleepy_job", "sleepy_podc_job"])
def test_terminate_deletes_every_job_and_pod_of_the_run(tmp_path, monkeypatch, job):
    from dagster import DagsterRunStatus
    from dagster._core.launcher import WorkerStatus

    with launcher_env(tmp_path, monkeypatch=monkeypatch) as env:
        run = env.launch(job, tags={"podc/config": json.dumps({"env": {"PODC_EXAMPLE_SLEEP": "60"}})},
                         run_config=_podc_run_config(env) if job == "sleepy_podc_job" else None)
        env.cluster.wait_for(lambda: (env.state_dir / "sleeping").exists(), timeout=60)
        launcher = env.instance.run_launcher
        health = launcher.check_run_worker_health(env.instance.get_run_by_id(run.run_id))
        assert health.status == WorkerStatus.RUNNING, health
        assert launcher.terminate(run.run_id) is True
        assert env.jobs() == [] and env.pods() == []
        done = env.wait_finished(run.run_id, timeout=60)
        assert done.status == DagsterRunStatus.CANCELED
        text = "\n".join(env.messages(run.run_id))
        assert "podc terminated run" in text and "left: 0 Jobs, 0 Pods" in text
        assert launcher.terminate(run.run_id) is False  # already finished


@pytest.mark.slow  # two Dagster processes start one after the other
def test_run_monitoring_resumes_a_crashed_worker(tmp_path, monkeypatch):
    import logging

    from dagster import DagsterRunStatus
    from dagster._core.launcher import WorkerStatus
    from dagster._daemon.monitoring.run_monitoring import monitor_started_run

    with launcher_env(tmp_path, monkeypatch=monkeypatch, instance_extra={
            "run_monitoring": {"enabled": True, "max_resume_run_attempts": 1}}) as env:
        run = env.launch("crash_once_job")
        launcher = env.instance.run_launcher
        first = launcher.workers.runtime("default").name_for(run.run_id, 0)

        def worker_failed():
            state = launcher.workers.state("default", run.run_id, 0)
            return state is not None and state.terminal
        env.cluster.wait_for(worker_failed, timeout=60)
        started = env.instance.get_run_by_id(run.run_id)
        assert started.status == DagsterRunStatus.STARTED  # left to run monitoring
        health = launcher.check_run_worker_health(started)
        assert health.status == WorkerStatus.FAILED
        assert "exit code 137" in health.msg or "ExitCode" in health.msg, health.msg
        assert first in health.msg

        monitor_started_run(env.instance, env.workspace,
                            env.instance.get_run_record_by_id(run.run_id), logging.getLogger("t"))
        done = env.wait_finished(run.run_id)
        assert done.status == DagsterRunStatus.SUCCESS, env.messages(run.run_id)
        attempts = sorted(j["metadata"]["labels"]["podc.dev/attempt"] for j in env.jobs())
        assert attempts == ["0", "1"]
        second = launcher.workers.runtime("default").name_for(run.run_id, 1)
        assert (env.state_dir / "resumed").read_text().startswith(second)
        text = "\n".join(env.messages(run.run_id))
        assert "podc resumed run worker Job" in text
        info = launcher.get_run_worker_debug_info(done)
        assert second in info


def test_example_dagster_yaml_materializes_the_pipes_asset_from_a_launched_run(tmp_path,
                                                                              monkeypatch):
    """examples/dagster_project/dagster.yaml as documented: the run worker is a Job, the asset's
    external process is a Pipes Job started from inside it."""
    from dagster import AssetKey, DagsterRunStatus
    from dagster_support import EXAMPLE

    with launcher_env(tmp_path, monkeypatch=monkeypatch, module="podc_example.definitions",
                      dagster_yaml=EXAMPLE / "dagster.yaml") as env:
        run = env.launch("scores_job", run_config={
            "ops": {"scores": {"config": {"numbers": [2, 3]}}}})
        done = env.wait_finished(run.run_id)
        assert done.status == DagsterRunStatus.SUCCESS, env.messages(run.run_id)
        mat = env.instance.get_latest_materialization_event(AssetKey("scores"))
        meta = mat.asset_materialization.metadata
        assert meta["total"].value == 5 and meta["podc Job"].value.startswith("dagster/podc-scores-")
        check = env.instance.event_log_storage.get_asset_check_execution_history(
            __import__("dagster").AssetCheckKey(AssetKey("scores"), "total_is_positive"), limit=1)
        assert check and check[0].status.value == "SUCCEEDED"
        workers = [j for j in env.jobs() if j["metadata"]["labels"].get(
            "app.kubernetes.io/component") == "run_worker"]
        assert len(workers) == 1
        assert env.cluster.store.list("jobs", "dagster") == []  # the Pipes Job was deleted


def test_without_run_monitoring_a_dead_worker_fails_its_run_with_the_cause(tmp_path, monkeypatch):
    from dagster import DagsterRunStatus

    with launcher_env(tmp_path, monkeypatch=monkeypatch) as env:
        assert not env.instance.run_monitoring_enabled
        run = env.launch("crash_once_job")
        done = env.wait_finished(run.run_id)
        assert done.status == DagsterRunStatus.FAILURE
        text = "\n".join(env.messages(run.run_id))
        assert "Started execution of run" in text  # it died mid-run, not before starting
        assert "failed: ExitCode" in text and "137" in text, text


def test_an_unreachable_cluster_fails_the_run_with_the_reason(tmp_path, monkeypatch):
    from dagster import DagsterRunStatus

    with launcher_env(tmp_path, monkeypatch=monkeypatch,
                      launcher={"kubeconfig_file": str(tmp_path / "missing-kubeconfig")}) as env:
        run = env.launch("hello_job")
        assert env.instance.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE
        text = "\n".join(env.messages(run.run_id))
        assert "podc could not submit the run worker Job" in text and "missing-kubeconfig" in text
        health = env.instance.run_launcher.check_run_worker_health(env.instance.get_run_by_id(
            run.run_id))
        assert health.status.value == "UNKNOWN" and "missing-kubeconfig" in health.msg


@pytest.mark.parametrize("outcome,cause", [
    ("oom:after=0.5", "OOMKilled"), ("evict:after=0.5", "Evicted"),
    ("node-lost:after=0.5", "NodeLost"),
], ids=["oom", "eviction", "node-lost"])
def test_health_check_reports_why_a_started_worker_died(tmp_path, monkeypatch, outcome, cause):
    """Scripted workers (no Dagster runs in them): the run is marked STARTED by hand, as the
    worker would, then the Pod dies; run monitoring's health check names the cause."""
    from dagster import DagsterEvent, DagsterEventType
    from dagster._core.launcher import WorkerStatus

    with launcher_env(tmp_path, monkeypatch=monkeypatch, cluster={"mode": "scripted"},
                      instance_extra={"run_monitoring": {"enabled": True,
                                                         "max_resume_run_attempts": 0}}) as env:
        run = env.launch("hello_job", tags={"podc/config": json.dumps(
            {"podAnnotations": {"podc.dev/emulator-outcome": outcome}})})
        env.instance.report_dagster_event(DagsterEvent(
            event_type_value=DagsterEventType.PIPELINE_START.value, job_name=run.job_name),
            run_id=run.run_id)
        launcher = env.instance.run_launcher
        env.cluster.wait_for(lambda: launcher.workers.state("default", run.run_id, 0).terminal,
                             timeout=60)
        started = env.instance.get_run_by_id(run.run_id)
        assert started.status.value == "STARTED"  # left to run monitoring, which is on
        health = launcher.check_run_worker_health(started)
        assert health.status == WorkerStatus.FAILED and cause in health.msg, health
        assert cause in launcher.get_run_worker_debug_info(started)
