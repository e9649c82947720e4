"""End to end: the example project runs on the emulator in process mode — every step really runs
``python -m dagster api execute_step`` as a subprocess with only the env its Pod spec gives it.
Assertions come from Dagster's own event log and the Jobs the emulator received."""

from __future__ import annotations

import contextlib
import json
import time

import pytest

from dagster_support import EXAMPLE, PROJECT, step_env

pytest.importorskip("dagster")


def _events(instance, run_id, event_type):
    return [r.event_log_entry for r in instance.get_records_for_run(run_id, of_type=event_type).records]


def _jobs_by_step(cluster):
    out: dict[str, list[dict]] = {}
    for job in cluster.store.list("jobs", "default"):
        step = job["metadata"]["annotations"]["podc.dev/step-key"]
        out.setdefault(step, []).append(job)
    return out


def _main(job):
    return next(c for c in job["spec"]["template"]["spec"]["containers"] if c["name"] == "main")


def example_run_config(cluster, state_dir) -> dict:
    """examples/dagster_project/run_config.yaml (dagster-k8s-style keys) for the local cluster:
    absolute project path, the emulator's kubeconfig, steps run by this interpreter."""
    from podc.source import load_file
    from podc.tree import to_plain

    run_config = to_plain(load_file(EXAMPLE / "run_config.yaml")[0])
    cfg = run_config["execution"]["config"]
    cfg.update({"project": str(PROJECT), "kubeconfig_file": cluster.kubeconfig_path,
                "poll_interval": 0.1, "pending_timeout": 20, "local_python": True})
    cfg["env_vars"] += [f"{k}={v}" for k, v in step_env(state_dir).items()]
    return run_config


def test_example_project_runs_every_step_as_a_compiled_job(instance, dagster_home, state_dir):
    from dagster import DagsterEventType as T, execute_job, reconstructable
    from podc.testing import LocalCluster
    from podc.testing import SimNode
    from podc_example.jobs import example_job

    nodes = [SimNode("general-1"),
             SimNode("highmem-1", labels={"pool": "highmem"}, allocatable={"cpu": "8", "memory": "32Gi"},
                     taints=[{"key": "dedicated", "value": "highmem", "effect": "NoSchedule"}])]
    with LocalCluster(mode="process", nodes=nodes, inherit_env=False) as cluster, \
            contextlib.ExitStack() as stack:
        run_config = example_run_config(cluster, state_dir)
        result = stack.enter_context(
            execute_job(reconstructable(example_job), instance=instance, run_config=run_config))
        run_id = result.run_id
        jobs = _jobs_by_step(cluster)

        # --- outcomes, from Dagster's event log
        succeeded = {e.step_key for e in _events(instance, run_id, T.STEP_SUCCESS)}
        failed = {e.step_key: e.dagster_event.step_failure_data.error.to_string()
                  for e in _events(instance, run_id, T.STEP_FAILURE)}
        assert not result.success
        assert succeeded == {"extract", "transform", "flaky", "load", "migrated"}, failed
        assert set(failed) == {"broken"}
        assert "broken on purpose: this step always fails" in failed["broken"]
        assert json.loads((state_dir / "loaded.json").read_text()) == {"total": 100, "flaky_attempts": 2}

        # --- the retry: one STEP_UP_FOR_RETRY, then a second Job with a new attempt name
        retries = _events(instance, run_id, T.STEP_UP_FOR_RETRY)
        assert [e.step_key for e in retries] == ["flaky"]
        flaky_jobs = sorted(jobs["flaky"], key=lambda j: j["metadata"]["labels"]["podc.dev/attempt"])
        assert [j["metadata"]["labels"]["podc.dev/attempt"] for j in flaky_jobs] == ["0", "1"]
        assert flaky_jobs[0]["metadata"]["name"] != flaky_jobs[1]["metadata"]["name"]
        assert all(len(v) == 1 for k, v in jobs.items() if k != "flaky")

        # --- the launch event shows the layers and who set what
        launches = {e.step_key: e.dagster_event.event_specific_data.metadata
                    for e in _events(instance, run_id, T.STEP_WORKER_STARTING)}
        layers = launches["transform"]["podc layers"].value["layers"]
        assert layers == ["podc:defaults", "base", "dagster:step-defaults", "run-config:execution.config",
                          "highmem", "tag:podc/config", "dagster:step"]
        prov = launches["transform"]["podc provenance"].value
        assert prov["resources.limits.memory"]["layer"] == "highmem"
        assert prov["resources.limits.cpu"]["layer"] == "tag:podc/config"
        assert prov["resources.requests.cpu"]["layer"] == "run-config:execution.config"
        assert prov["resources.requests.cpu"]["source"] == (
            "run-config:execution.config.step_k8s_config.container_config.resources.requests.cpu")
        assert prov["env.FOO"]["source"] == "run-config:execution.config.env_vars[1]"
        assert prov["image"]["layer"] == "base"
        assert prov["command"]["layer"] == "dagster:step"
        assert {prov["tolerations[0]"]["layer"], prov["tolerations[1]"]["layer"]} == {
            "highmem", "tag:podc/config"}
        assert "highmem.yaml" in prov["resources.limits.memory"]["source"]
        explain = launches["transform"]["podc explain"].value
        assert "| resources.limits.memory | `4Gi` | highmem |" in explain
        policy = launches["transform"]["podc policy check"].value
        assert policy.startswith("passed (") and "activeDeadlineSeconds is not set" in policy
        manifest = launches["transform"]["podc manifest"].value
        assert all(e.get("value") in (None, "<redacted>") for e in _main(manifest)["env"])

        # --- the Job the cluster received for transform carries every layer
        transform = jobs["transform"][0]
        main = _main(transform)
        assert main["resources"]["limits"] == {"memory": "4Gi", "cpu": "2"}
        assert main["resources"]["requests"] == {"cpu": "100m", "memory": "2Gi"}
        assert main["imagePullPolicy"] == "IfNotPresent"  # base.yaml sets it; no Always default
        assert not main.get("args") and main["command"][-2:] == ["api", "execute_step"]
        pod = transform["spec"]["template"]["spec"]
        assert {t["key"] for t in pod["tolerations"]} == {"dedicated", "example.com/batch"}
        assert pod["nodeSelector"] == {"pool": "highmem"}
        assert main["command"][-2:] == ["api", "execute_step"]
        assert transform["metadata"]["labels"]["dagster/op"] == "transform"
        assert transform["metadata"]["labels"]["dagster/job"] == "example_job"
        assert transform["metadata"]["labels"]["team"] == "data-platform"
        assert transform["metadata"]["labels"]["app.kubernetes.io/component"] == "step_worker"
        assert transform["metadata"]["namespace"] == "default"
        load = jobs["load"][0]["spec"]["template"]["metadata"]
        assert load["annotations"]["example.com/owner"] == "load-team"  # per_step_k8s_config
        assert "example.com/owner" not in (
            jobs["extract"][0]["spec"]["template"]["metadata"].get("annotations") or {})

        # --- migration: dagster-k8s would emit FOO twice and two `scratch` volumes; podc emits one
        migrated = jobs["migrated"][0]
        env = _main(migrated)["env"]
        assert [e for e in env if e["name"] == "FOO"] == [{"name": "FOO", "value": "from-tag"}]
        volumes = migrated["spec"]["template"]["spec"]["volumes"]
        assert [v["name"] for v in volumes] == ["scratch"]
        assert volumes[0]["emptyDir"] == {"sizeLimit": "1Gi"}
        assert [m["mountPath"] for m in _main(migrated)["volumeMounts"]] == ["/scratch"]
        assert result.output_for_node("migrated") == "from-tag"
        warnings = [e.user_message for e in instance.all_logs(run_id)
                    if e.level == 30 and e.step_key == "migrated"]
        assert any("container_config.name" in w for w in warnings), warnings
        assert podc_threads_of(run_id) == []


def podc_threads_of(run_id: str) -> list[str]:
    import threading

    return [t.name for t in threading.enumerate()
            if t.name.startswith("podc-") and t.name.endswith(run_id[:16]) and t.is_alive()]


def test_terminating_a_run_deletes_every_job_and_pod(instance, state_dir):
    import os
    import signal
    import threading

    from dagster import DagsterEventType as T, execute_job, reconstructable
    from podc.testing import LocalCluster
    from podc_example.jobs import slow_job

    with LocalCluster(mode="process", inherit_env=False) as cluster:
        run_config = example_run_config(cluster, state_dir)
        run_config["execution"]["config"]["env_vars"].append("PODC_EXAMPLE_SLEEP=60")

        def interrupt_when_running():
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                pods = cluster.store.list("pods", "default")
                if any((p.get("status") or {}).get("phase") == "Running" for p in pods):
                    break
                time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGINT)  # what `dagster run terminate` does to the worker

        threading.Thread(target=interrupt_when_running, daemon=True).start()
        started = time.monotonic()
        result = execute_job(reconstructable(slow_job), instance=instance, run_config=run_config,
                             raise_on_error=False)
        assert time.monotonic() - started < 45
        assert not result.success
        assert cluster.store.list("jobs", "default") == []
        assert cluster.store.list("pods", "default") == []
        messages = [e.user_message for e in instance.all_logs(result.run_id)]
        assert any("podc cancelled run" in m and "left: 0 Jobs, 0 Pods" in m for m in messages), messages
        assert podc_threads_of(result.run_id) == []
