"""``podc submit`` end to end on the emulator: exit codes, diagnosis, logs, idempotent re-submit."""

from __future__ import annotations

import json

from podc.cli.submit import run_submit
from rt_builders import job_manifest


def write_jobs(tmp_path, *jobs, name="jobs.yaml"):
    path = tmp_path / name
    path.write_text("\n---\n".join(json.dumps(j) for j in jobs))
    return path


def test_wait_success_exits_0(cluster, tmp_path, capsys):
    f = write_jobs(tmp_path, job_manifest("hello", "succeed:after=0.1"), job_manifest("world", "succeed"))
    code = run_submit([str(f), "--wait", "--timeout", "20", "--kubeconfig", cluster.kubeconfig_path,
                       "--run-id", "cli-ok"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "succeeded hello" in out and "succeeded world" in out
    assert len(cluster.store.list("jobs", "default")) == 2


def test_failure_exits_1_with_diagnosis_and_no_secret_values(cluster, tmp_path, capsys):
    job = job_manifest("train", "oom", memory="512Mi")
    job["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "API_TOKEN", "value": "plain-text-token-123"},
        {"name": "DB", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw", "optional": True}}}]
    f = write_jobs(tmp_path, job, job_manifest("fine", "succeed"))
    code = run_submit([str(f), "--wait", "--timeout", "20", "--kubeconfig", cluster.kubeconfig_path])
    captured = capsys.readouterr()
    assert code == 1
    assert "FAILED train" in captured.out
    assert "OOMKilled: container `main` exceeded its 512Mi memory limit" in captured.out
    assert "succeeded fine" in captured.out
    assert "plain-text-token-123" not in captured.out + captured.err
    assert "Traceback" not in captured.err


def test_logs_are_streamed_with_step_prefix(cluster, tmp_path, capsys):
    f = write_jobs(tmp_path, job_manifest("talk", "exit:code=2,logs=hello\\nbye"))
    code = run_submit([str(f), "--logs", "--timeout", "20", "--kubeconfig", cluster.kubeconfig_path])
    out = capsys.readouterr().out
    assert code == 1
    assert "[talk] hello" in out and "[talk] bye" in out
    assert "exited with code 2" in out and "    bye" in out  # the log tail in the diagnosis


def test_same_run_id_resubmits_idempotently(cluster, tmp_path, capsys):
    f = write_jobs(tmp_path, job_manifest("once", "succeed"))
    argv = [str(f), "--wait", "--timeout", "20", "--kubeconfig", cluster.kubeconfig_path, "--run-id", "r7"]
    assert run_submit(argv) == 0
    assert run_submit(argv) == 0
    assert cluster.request_log.count(verb="create", resource="jobs") == 1
    assert len(cluster.store.list("jobs", "default")) == 1


def test_api_refusal_is_exit_1_with_message(cluster, tmp_path, capsys):
    cluster.faults.fail(verb="create", resource="jobs", status=403, count=1,
                        message='jobs.batch is forbidden: User "ci" cannot create resource "jobs"')
    f = write_jobs(tmp_path, job_manifest("denied", "succeed"))
    code = run_submit([str(f), "--kubeconfig", cluster.kubeconfig_path])
    err = capsys.readouterr().err
    assert code == 1 and 'cannot create resource "jobs"' in err and "Traceback" not in err


def test_timeout_exits_1_and_leaves_job_running(cluster, tmp_path, capsys):
    f = write_jobs(tmp_path, job_manifest("slow", "sleep"))
    code = run_submit([str(f), "--wait", "--timeout", "2", "--kubeconfig", cluster.kubeconfig_path])
    out = capsys.readouterr().out
    assert code == 1 and "TIMED OUT slow" in out and "left running" in out
    assert len(cluster.store.list("jobs", "default")) == 1
