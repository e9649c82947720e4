"""PipesPodcClient end to end: assets materialized in process whose external processes run as
Jobs on the emulator (process mode, so the external script really runs and writes its Pipes
messages to its log). Failure causes come from the emulator's kubelet, scheduler and Job
controller; the assertions read Dagster's event log and what the emulator holds."""

import json
import os
import sys
import time

import pytest

pytest.importorskip("dagster")

from dagster import AssetCheckSpec, AssetExecutionContext, asset  # noqa: E402
from dagster_support import EXAMPLE, PROJECT, step_env  # noqa: E402

from podc.dagster import PipesPodcClient  # noqa: E402

SCRIPT = ["python", "-m", "podc_example.external_score"]


@pytest.fixture
def cluster():
    from podc.testing import LocalCluster

    with LocalCluster(mode="process", inherit_env=False) as local:
        yield local


def _client(cluster, tmp_path, env=None, **kw):
    return PipesPodcClient(project=str(PROJECT), namespace="default",
                           kubeconfig_file=cluster.kubeconfig_path,
                           env={"PYTHONPATH": step_env(tmp_path)["PYTHONPATH"], **(env or {})},
                           **{"pending_timeout": 1.0, **kw})


def _asset(**run_kwargs):
    """An asset calling the client with ``run_kwargs`` (the example's ``scores`` calls it with
    the ``pipes`` target; these vary one thing at a time)."""
    @asset(name="scores", check_specs=[AssetCheckSpec("total_is_positive", asset="scores")])
    def _scores(context: AssetExecutionContext, pipes_podc: PipesPodcClient):
        return pipes_podc.run(context=context, **{"target": "pipes", "command": SCRIPT,
                                                  **run_kwargs}).get_results()

    return _scores


def _materialize(instance, assets, client, **kw):
    from dagster import materialize

    return materialize(assets, instance=instance, resources={"pipes_podc": client},
                       raise_on_error=False, **kw)


def _podc_threads():
    """Threads the runtime, the log follower or the launcher started (not the emulator's)."""
    import threading

    return [t.name for t in threading.enumerate()
            if t.name.startswith("podc-") and not t.name.startswith("podc-emulator")]


def _failure(instance, result):
    from dagster import DagsterEventType as T

    records = instance.get_records_for_run(result.run_id, of_type=T.STEP_FAILURE).records
    assert records, "the step did not fail"
    return records[0].event_log_entry.dagster_event.step_failure_data.error.to_string()


def test_pipes_asset_reports_metadata_and_check(instance, cluster, tmp_path, capfd):
    from podc_example.pipes_assets import scores

    client = _client(cluster, tmp_path)
    result = _materialize(instance, [scores], client,
                          run_config={"ops": {"scores": {"config": {"numbers": [5, 6, -1]}}}})
    assert result.success
    [mat] = result.asset_materializations_for_node("scores")
    assert mat.metadata["total"].value == 10 and mat.metadata["count"].value == 3
    assert mat.metadata["podc layers"].value.split(", ") == [
        "podc:defaults", "base", "pipes", "pipes:client", "pipes:run", "dagster:pipes"]
    job_ref = mat.metadata["podc Job"].value
    assert job_ref.startswith("default/podc-scores-pipes-")
    [check] = result.get_asset_check_evaluations()
    assert check.check_name == "total_is_positive" and check.passed
    assert check.metadata["total"].value == 10
    # Pipes log messages reach the event log; plain output reaches the step's stdout
    messages = [e.message or "" for e in instance.all_logs(result.run_id)]
    assert any(m.startswith("scoring 3 numbers in pod podc-scores-pipes-") for m in messages)
    assert "external process: plain output, total so far 10" in capfd.readouterr().out
    # the Job the emulator received was compiled from the target and carries the labels
    created = [r for r in cluster.request_log.filter(verb="create", resource="jobs")]
    assert len(created) == 1
    assert cluster.store.list("jobs", "default") == []  # deleted on completion
    cluster.wait_for(lambda: cluster.store.list("pods", "default") == [], timeout=30)
    assert _podc_threads() == []  # watches, worker and log reader all joined


def test_pipes_job_carries_layers_labels_and_bootstrap_env(instance, cluster, tmp_path):
    from podc.testing import SimNode

    cluster.add_node(SimNode("highmem-1", labels={"pool": "highmem"}, taints=[
        {"key": "dedicated", "value": "highmem", "effect": "NoSchedule"}]))
    client = _client(cluster, tmp_path, delete_on_completion=False, env={"FROM_CLIENT": "1"})
    result = _materialize(instance, [_asset(layers=["highmem", {"labels": {"call": "yes"}}],
                                            env={"FROM_CALL": "2"})], client)
    assert result.success
    [job] = cluster.store.list("jobs", "default")
    labels = job["metadata"]["labels"]
    assert labels["dagster/run-id"] == result.run_id and labels["dagster/op"] == "scores"
    assert labels["app.kubernetes.io/component"] == "pipes" and labels["call"] == "yes"
    pod = job["spec"]["template"]["spec"]
    main = pod["containers"][0]
    env = {e["name"]: e.get("value") for e in main["env"]}
    assert env["FROM_CLIENT"] == "1" and env["FROM_CALL"] == "2"
    assert {"DAGSTER_PIPES_CONTEXT", "DAGSTER_PIPES_MESSAGES"} <= set(env)
    assert main["command"] == SCRIPT
    assert main["resources"]["limits"]["memory"] == "4Gi"  # the highmem project layer
    assert pod["nodeSelector"] == {"pool": "highmem"}


def test_external_process_failure_raises_with_exit_code_and_log_tail(instance, cluster, tmp_path):
    from podc_example.pipes_assets import scores

    client = _client(cluster, tmp_path, env={"PODC_EXAMPLE_SCORE_FAIL": "1"})
    result = _materialize(instance, [scores], client)
    assert not result.success
    error = _failure(instance, result)
    assert "PodcPipesError" in error and "Pipes Job default/podc-scores-pipes-" in error
    assert "exited with code 3" in error and "failing on purpose" in error
    assert "__dagster_pipes_version" not in error  # protocol lines are not "log lines"
    assert cluster.store.list("jobs", "default") == []


NEVER_STARTS = [
    ({"podAnnotations": {"podc.dev/emulator-outcome": "image-pull-error"},
      "image": "ghcr.io/example/missing:0.0"}, "ImagePullBackOff"),
    ({"nodeSelector": {"pool": "does-not-exist"}}, "Unschedulable"),
    ({"env": {"TOKEN": {"secretKeyRef": {"name": "api-token", "key": "token"}}}},
     'secret "api-token" not found'),
    ({"secrets": {"db": {"mountPath": "/etc/db"}}}, 'secret "db" not found'),
    ({"serviceAccountName": "robot"}, 'serviceaccount "robot" not found'),
    ({"podAnnotations": {"podc.dev/emulator-outcome": "oom"}}, "OOMKilled"),
]


@pytest.mark.parametrize("layer,cause", NEVER_STARTS,
                         ids=["image-pull", "unschedulable", "missing-secret-env",
                              "missing-secret-volume", "failed-create", "oom"])
def test_a_pipes_job_that_never_starts_fails_promptly_with_the_cause(instance, cluster, tmp_path,
                                                                     layer, cause):
    client = _client(cluster, tmp_path)
    started = time.monotonic()
    result = _materialize(instance, [_asset(layers=[layer])], client)
    assert time.monotonic() - started < 40  # grace 1 s; dagster-k8s: 5 h to 24 h
    assert not result.success
    error = _failure(instance, result)
    assert cause in error, error
    cluster.wait_for(lambda: cluster.store.list("jobs", "default") == []
                     and cluster.store.list("pods", "default") == [], timeout=30)
    assert _podc_threads() == []


def test_init_container_failure_fails_promptly(instance, cluster, tmp_path):
    """The emulator does not run init containers: this test plays the kubelet (and a custom
    scheduler) for the Pod — it fails in its init container, as a real kubelet reports it."""
    import threading

    client = _client(cluster, tmp_path, pending_timeout=60.0)
    layer = {"initContainers": {"fetch": {"image": "busybox:1.36", "command": ["false"]}},
             "schedulerName": "other-scheduler"}

    def kubelet():
        pods = cluster.wait_for(lambda: cluster.store.list("pods", "default"), timeout=60)
        name = pods[0]["metadata"]["name"]

        def fail(pod):
            pod["spec"]["nodeName"] = "emulator-node-1"
            pod["status"] = {"phase": "Failed", "initContainerStatuses": [{
                "name": "fetch", "ready": False, "restartCount": 0, "image": "busybox:1.36",
                "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}],
                "containerStatuses": [{"name": "main", "ready": False, "restartCount": 0,
                                       "image": "x", "state": {"waiting": {
                                           "reason": "PodInitializing"}}}]}
        cluster.store.mutate("pods", "default", name, fail)

    helper = threading.Thread(target=kubelet, daemon=True)
    helper.start()
    started = time.monotonic()
    result = _materialize(instance, [_asset(layers=[layer])], client)
    helper.join(5)
    assert time.monotonic() - started < 60  # the grace is 60 s: the init failure ended it
    error = _failure(instance, result)
    assert "fetch" in error and "init container" in error, error


def test_policy_violation_fails_before_anything_is_submitted(instance, cluster, tmp_path):
    client = _client(cluster, tmp_path)
    result = _materialize(instance, [_asset(layers=[{"securityContext": {"privileged": True}}])],
                          client)
    error = _failure(instance, result)
    assert "podc policy check failed for the Pipes Job, nothing was submitted" in error
    assert "<pipes:run.layers[0]>" in error and "privileged" in error
    assert cluster.request_log.count(verb="create") == 0


def test_unknown_layer_name_is_reported_with_a_suggestion(instance, cluster, tmp_path):
    client = _client(cluster, tmp_path)
    error = _failure(instance, _materialize(instance, [_asset(layers=["highmen"])], client))
    assert "PipesPodcClient.run(layers=...)" in error and "did you mean 'highmem'?" in error
    assert cluster.request_log.count(verb="create") == 0


def test_interrupting_the_step_deletes_the_job_and_its_pods(instance, cluster, tmp_path):
    import signal
    import threading

    client = _client(cluster, tmp_path)
    asset = _asset(command=[sys.executable, "-c", "import time; time.sleep(60)"])

    def interrupt_when_running():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if any((p.get("status") or {}).get("phase") == "Running"
                   for p in cluster.store.list("pods", "default")):
                break
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)  # what terminating the run does to the step

    threading.Thread(target=interrupt_when_running, daemon=True).start()
    started = time.monotonic()
    result = _materialize(instance, [asset], client)
    assert time.monotonic() - started < 60
    assert not result.success
    assert cluster.store.list("jobs", "default") == []
    assert cluster.store.list("pods", "default") == []
    messages = [e.message or "" for e in instance.all_logs(result.run_id)]
    assert any("podc deleted Pipes Job" in m and "left: 0 Jobs, 0 Pods" in m for m in messages)


def test_bad_client_configuration_is_a_located_error(tmp_path):
    from podc.errors import PodcError

    with pytest.raises(PodcError) as err:
        PipesPodcClient(project=str(PROJECT), layers=["x.yaml"])
    assert "<PipesPodcClient(...)>" in str(err.value)
    with pytest.raises(PodcError, match="timeout"):
        PipesPodcClient(timeout=-1)


def test_example_definitions_load(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE))
    from podc_example.definitions import defs

    repo = defs.get_repository_def()
    assert {"hello_job", "example_job", "sleepy_podc_job"} <= set(repo.job_names)
    assert repo.assets_defs_by_key  # the Pipes asset
    assert json.dumps(sorted(k.to_user_string() for k in repo.assets_defs_by_key)) == '["scores"]'


def test_a_message_longer_than_a_log_piece_arrives_whole(instance, cluster, tmp_path):
    script = ("from dagster_pipes import open_dagster_pipes\n"
              "with open_dagster_pipes() as pipes:\n"
              "    pipes.report_asset_materialization(metadata={'blob': 'x' * 200000})\n"
              "    pipes.report_asset_check(check_name='total_is_positive', passed=True)\n")
    result = _materialize(instance, [_asset(command=[sys.executable, "-c", script])],
                          _client(cluster, tmp_path))
    assert result.success
    [mat] = result.asset_materializations_for_node("scores")
    assert mat.metadata["blob"].value == "x" * 200000


def test_an_unreachable_cluster_is_named_at_once(instance, tmp_path):
    client = PipesPodcClient(project=str(PROJECT), namespace="default",
                             kubeconfig_file=str(tmp_path / "missing-kubeconfig"))
    started = time.monotonic()
    error = _failure(instance, _materialize(instance, [_asset()], client))
    assert time.monotonic() - started < 30
    assert "podc could not reach the cluster for the Pipes Job" in error
    assert "missing-kubeconfig" in error
