"""``podc runs``, ``podc cancel``, ``podc logs`` and what ``podc submit`` shows while it waits,
on the local cluster."""

from __future__ import annotations

import io
import json
import os
import time

import pytest

from podc.cli import cancel as cancel_cmd
from podc.cli import logs as logs_cmd
from podc.cli import runs as runs_cmd
from podc.cli.submit import run_submit
from rt_builders import job_manifest


def write_jobs(tmp_path, *jobs, name="jobs.yaml"):
    path = tmp_path / name
    path.write_text("\n---\n".join(json.dumps(j) for j in jobs))
    return str(path)


def call(module, *argv):
    out, err = io.StringIO(), io.StringIO()
    code = module.run([str(a) for a in argv], out, err)
    return code, out.getvalue(), err.getvalue()


def test_runs_lists_each_run_with_job_states(cluster, tmp_path, capsys):
    kc = cluster.kubeconfig_path
    done = write_jobs(tmp_path, job_manifest("a", "succeed"), job_manifest("b", "exit:code=3"), name="r1.yaml")
    assert run_submit([done, "--wait", "--timeout", "20", "--kubeconfig", kc, "--run-id", "nightly-1"]) == 1
    busy = write_jobs(tmp_path, job_manifest("c", "sleep"), name="r2.yaml")
    assert run_submit([busy, "--kubeconfig", kc, "--run-id", "nightly-2"]) == 0
    cluster.wait_for(lambda: any((p.get("status") or {}).get("phase") == "Running"
                                 for p in cluster.store.list("pods", "default")), timeout=10)
    code, out, err = call(runs_cmd, "--kubeconfig", kc)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["RUN", "NAMESPACE", "JOBS", "SUCCEEDED", "FAILED", "RUNNING", "PENDING", "AGE"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["nightly-1"][1:7] == ["default", "2", "1", "1", "0", "0"]
    assert rows["nightly-2"][1:7] == ["default", "1", "0", "0", "1", "0"]
    code, out, _ = call(runs_cmd, "--kubeconfig", kc, "--format", "json", "-A")
    runs = {r["runId"]: r for r in json.loads(out)}
    assert {j["stepKey"]: j["phase"] for j in runs["nightly-1"]["jobs"]} == {"a": "succeeded", "b": "failed"}
    code, out, _ = call(runs_cmd, "--kubeconfig", kc, "-n", "elsewhere")
    assert code == 0 and out.strip() == "no podc runs in namespace elsewhere"
    from podc.runtime import podc_threads

    assert podc_threads() == []  # the commands leave no thread behind (the emulator's aside)


def test_cancel_removes_a_runs_jobs_and_pods_and_says_what(cluster, tmp_path, capsys):
    kc = cluster.kubeconfig_path
    jobs = write_jobs(tmp_path, job_manifest("x", "sleep"), job_manifest("y", "sleep"))
    assert run_submit([jobs, "--kubeconfig", kc, "--run-id", "to-cancel"]) == 0
    keep = write_jobs(tmp_path, job_manifest("z", "sleep"), name="keep.yaml")
    assert run_submit([keep, "--kubeconfig", kc, "--run-id", "keep-me"]) == 0
    cluster.wait_for(lambda: len(cluster.store.list("pods", "default")) == 3, timeout=10)
    t0 = time.monotonic()
    code, out, err = call(cancel_cmd, "to-cancel", "--kubeconfig", kc, "--timeout", "20")
    assert code == 0, err
    assert time.monotonic() - t0 < 20
    assert out.count("deleted job/podc-") == 2
    assert "run to-cancel in namespace default: deleted 2 Jobs and 2 Pods" in out
    left = cluster.store.list("jobs", "default")
    assert [j["metadata"]["annotations"]["podc.dev/run-id"] for j in left] == ["keep-me"]
    assert len(cluster.store.list("pods", "default")) == 1  # the other run's Pod is untouched
    code, _, err = call(cancel_cmd, "to-cancel", "--kubeconfig", kc)
    assert code == 1 and "nothing to cancel" in err
    from podc.runtime import podc_threads

    assert podc_threads() == []


def test_logs_of_a_run_and_of_one_step(cluster, tmp_path, capsys):
    kc = cluster.kubeconfig_path
    jobs = write_jobs(tmp_path, job_manifest("talk", "succeed:logs=hello\\nbye"),
                      job_manifest("quiet", "succeed:logs=shh"))
    assert run_submit([jobs, "--wait", "--timeout", "20", "--kubeconfig", kc, "--run-id", "chatty"]) == 0
    code, out, err = call(logs_cmd, "chatty", "--kubeconfig", kc)
    assert code == 0, err
    assert out.splitlines() == ["[quiet] shh", "[talk] hello", "[talk] bye"]
    code, out, _ = call(logs_cmd, "chatty", "talk", "--kubeconfig", kc, "--tail", "1")
    assert code == 0 and out.splitlines() == ["bye"]
    code, _, err = call(logs_cmd, "chatty", "nope", "--kubeconfig", kc)
    assert code == 1 and "no step 'nope'" in err and "quiet, talk" in err
    code, _, err = call(logs_cmd, "no-such-run", "--kubeconfig", kc)
    assert code == 1 and "no Jobs of run no-such-run" in err


def test_logs_follow_ends_when_the_container_exits(cluster, tmp_path, capsys):
    kc = cluster.kubeconfig_path
    jobs = write_jobs(tmp_path, job_manifest("slow", "succeed:after=1.0,logs=finally"))
    assert run_submit([jobs, "--kubeconfig", kc, "--run-id", "follow-me"]) == 0
    t0 = time.monotonic()
    code, out, err = call(logs_cmd, "follow-me", "--kubeconfig", kc, "--follow", "--timeout", "15")
    assert code == 0, err
    assert "finally" in out and time.monotonic() - t0 < 15


def test_resubmitting_says_adopted(cluster, tmp_path, capsys):
    jobs = write_jobs(tmp_path, job_manifest("once", "sleep"))
    argv = [jobs, "--kubeconfig", cluster.kubeconfig_path, "--run-id", "again"]
    assert run_submit(argv) == 0
    assert "submitted once as job/" in capsys.readouterr().out
    assert run_submit(argv) == 0
    out = capsys.readouterr().out
    assert "adopted once as job/" in out and "submitted" not in out
    assert cluster.request_log.count(verb="create", resource="jobs") == 1


def test_pending_reason_shows_the_event_that_explains_it(cluster, tmp_path, capsys):
    # A Job waiting for a Secret that does not exist: the FailedMount Event is shown while
    # waiting and in the TIMED OUT line, within the --timeout.
    job = job_manifest("vol", "succeed", pod_spec={
        "volumes": [{"name": "creds", "secret": {"secretName": "creds"}}]})
    jobs = write_jobs(tmp_path, job)
    t0 = time.monotonic()
    code = run_submit([jobs, "--wait", "--timeout", "4", "--kubeconfig", cluster.kubeconfig_path])
    took = time.monotonic() - t0
    out = capsys.readouterr().out
    assert code == 1 and took < 10, (took, out)
    pending = [line for line in out.splitlines() if line.startswith("pending vol")]
    assert pending and "FailedMount" in pending[0] and 'secret "creds" not found' in pending[0]
    timed_out = [line for line in out.splitlines() if line.startswith("TIMED OUT vol")]
    assert timed_out and "FailedMount" in timed_out[0] and "podc cancel" in timed_out[0]


def test_plain_output_prints_each_state_change_once(cluster, tmp_path, capsys):
    jobs = write_jobs(tmp_path, job_manifest("a", "succeed:after=0.8"), job_manifest("b", "exit:code=4"))
    code = run_submit([jobs, "--wait", "--timeout", "20", "--kubeconfig", cluster.kubeconfig_path])
    out = capsys.readouterr().out
    assert code == 1
    lines = out.splitlines()
    assert sum(line.startswith("succeeded a ") for line in lines) == 1
    assert sum(line.startswith("FAILED b ") for line in lines) == 1
    assert sum(line.startswith("running a ") for line in lines) == 1
    assert "\r" not in out and "\033[" not in out  # no live status line outside a terminal


def test_live_progress_on_a_terminal(cluster, tmp_path):
    from podc.cli.progress import Progress, wait_with_progress
    from podc.runtime import Runtime, connect

    class Tty(io.StringIO):
        def isatty(self):
            return True

    rt = Runtime(connect(api_client=cluster.api_client()), run_id="tty", namespace="default", tick=0.02)
    try:
        name = rt.submit(job_manifest("t", "succeed:after=0.6")).name
        out = Tty()
        states = wait_with_progress(rt, [name], Progress(out, [name]), time.monotonic() + 15)
        assert states[name].succeeded
    finally:
        rt.close()
    text = out.getvalue()
    assert "waiting: " in text and "\r\033[K" in text and "succeeded t (job/" in text


def test_submit_reads_standard_input_and_folders(cluster, tmp_path, capsys, monkeypatch):
    kc = cluster.kubeconfig_path
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(job_manifest("piped", "succeed"))))
    assert run_submit(["-", "--kubeconfig", kc, "--run-id", "stdin"]) == 0
    assert "submitted piped" in capsys.readouterr().out
    build = tmp_path / "build"
    build.mkdir()
    (build / "one.yaml").write_text(json.dumps(job_manifest("one", "succeed")))
    (build / "two.json").write_text(json.dumps(job_manifest("two", "succeed")))
    (build / ".podc-manifest.json").write_text('{"files": ["one.yaml", "two.json"]}')  # skipped
    (build / "README.txt").write_text("not a manifest")
    assert run_submit([str(build), "--kubeconfig", kc, "--run-id", "folder"]) == 0
    out = capsys.readouterr().out
    assert "submitted one" in out and "submitted two" in out


def test_a_fifo_never_blocks(tmp_path, capsys):
    fifo = tmp_path / "jobs.fifo"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    assert run_submit([str(fifo), "--kubeconfig", str(tmp_path / "none")]) == 2  # no writer: empty
    assert "no Job documents" in capsys.readouterr().err and time.monotonic() - t0 < 5
    # a writer that opens the pipe and never writes: bounded by --timeout
    writer = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # keeps a writer end open
    try:
        t0 = time.monotonic()
        assert run_submit([str(fifo), "--timeout", "1.5", "--kubeconfig", str(tmp_path / "none")]) == 2
        assert "stopped reading the pipe" in capsys.readouterr().err
        assert time.monotonic() - t0 < 6
    finally:
        os.close(writer)


@pytest.mark.parametrize("module", [runs_cmd, cancel_cmd, logs_cmd])
def test_usage_errors_exit_2(module):
    code, _, err = call(module, "--timeout", "soon", "x")
    assert code == 2 and "error:" in err and "Traceback" not in err
