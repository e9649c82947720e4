"""Run launcher and Pipes client: API requests per run and per Pipes invocation, beside
dagster-k8s's figures for the same work.

podc's figures are measured: the emulator answers every request and records it
(``cluster.request_log``), so they are counts, not estimates.

* launcher, scripted mode: ``--runs`` runs of ``hello_job`` launched through ``PodcRunLauncher``
  (the worker Pods "succeed" without running Dagster, so only the launcher's own work is
  counted), then ``--checks`` run-monitoring health checks per run;
* launcher, process mode: ``--real-runs`` real runs (``dagster api execute_run`` runs in the
  worker Pod), launch to SUCCESS;
* launcher and Pipes failures: a worker / a Pipes Pod that cannot pull its image and one that
  cannot be scheduled, with ``pending_timeout`` = ``--grace`` seconds: time to the failure and
  the requests it cost;
* Pipes, process mode: ``--pipes`` invocations of the example's ``scores`` asset (the external
  script really runs and reports a materialization and an asset check).

dagster-k8s's figures come from its code (0.29, the version installed beside podc): the constants
are imported, the request sequences are the ones ``K8sRunLauncher`` and ``PipesK8sClient``
(``DagsterKubernetesClient.wait_for_pod``) execute.

    .venv/bin/python bench/bench_dagster_launcher.py [--runs 50] [--checks 10] [--real-runs 2]
        [--pipes 5] [--grace 2] [--run-seconds 600]
"""

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "dagster"))  # launcher_support: the tests' instance setup

import dagster_support  # noqa: E402,F401  (puts the example project on sys.path)
from launcher_support import launcher_env  # noqa: E402


def _by_verb(requests) -> str:
    counts: dict[str, int] = {}
    for r in requests:
        key = f"{r.verb} {r.resource or r.path}" + (f"/{r.subresource}" if r.subresource else "")
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


def bench_launcher_scripted(runs: int, checks: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp, \
            launcher_env(Path(tmp), cluster={"mode": "scripted"}) as env:
        env.cluster.request_log.clear()
        t0 = time.perf_counter()
        launched = [env.launch("hello_job") for _ in range(runs)]
        launch_s = time.perf_counter() - t0
        env.cluster.wait_for(lambda: len(env.jobs()) == runs, timeout=60)
        after_launch = len(env.cluster.request_log)
        launch_requests = list(env.cluster.request_log)
        env.cluster.request_log.clear()
        launcher = env.instance.run_launcher
        current = [env.instance.get_run_by_id(run.run_id) for run in launched]
        t1 = time.perf_counter()
        for _ in range(checks):
            for run in current:
                launcher.check_run_worker_health(run)
        check_s = (time.perf_counter() - t1) / (runs * checks)
        check_requests = len(env.cluster.request_log)
        timings = launcher.launch_timings
    return {"runs": runs, "launch_requests": after_launch, "by_verb": _by_verb(launch_requests),
            "launch_s": launch_s / runs, "check_requests": check_requests, "check_s": check_s,
            "compile_ms": statistics.median(t["compile"] for t in timings) * 1000,
            "submit_ms": statistics.median(t["submit"] for t in timings) * 1000}


def bench_launcher_real(real_runs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp, launcher_env(Path(tmp)) as env:
        env.cluster.request_log.clear()
        walls = []
        for _ in range(real_runs):
            t0 = time.perf_counter()
            run = env.launch("hello_job")
            done = env.wait_finished(run.run_id, timeout=120)
            walls.append(time.perf_counter() - t0)
            assert done.status.value == "SUCCESS", env.messages(run.run_id)
        requests = list(env.cluster.request_log)
    return {"runs": real_runs, "requests": len(requests), "by_verb": _by_verb(requests),
            "wall_s": statistics.median(walls)}


def _failure(kind: str, grace: float) -> dict:
    layer = {"image-pull": {"podAnnotations": {"podc.dev/emulator-outcome": "image-pull-error"}},
             "unschedulable": {"nodeSelector": {"pool": "does-not-exist"}}}[kind]
    with tempfile.TemporaryDirectory() as tmp, \
            launcher_env(Path(tmp), launcher={"pending_timeout": grace}) as env:
        env.cluster.request_log.clear()
        t0 = time.perf_counter()
        run = env.launch("hello_job", tags={"podc/config": json.dumps(layer)})
        env.wait_finished(run.run_id, timeout=grace + 60)
        wall = time.perf_counter() - t0
        env.cluster.wait_for(lambda: env.jobs() == [] and env.pods() == [], timeout=30)
        return {"kind": kind, "wall_s": wall, "requests": len(env.cluster.request_log),
                "left": len(env.jobs()) + len(env.pods())}


def bench_pipes(invocations: int, grace: float) -> dict:
    from dagster import DagsterInstance, materialize

    from podc.dagster import PipesPodcClient
    from podc.testing import LocalCluster
    from podc_example.pipes_assets import scores

    def failing(layer):
        from dagster import AssetExecutionContext, asset

        @asset(name="scores")
        def _scores(context: AssetExecutionContext, pipes_podc: PipesPodcClient):
            return pipes_podc.run(context=context, target="pipes", layers=[layer],
                                  command=["python", "-m", "podc_example.external_score"]
                                  ).get_results()
        return _scores

    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    out: dict = {"failures": []}
    with tempfile.TemporaryDirectory() as tmp, LocalCluster(mode="process", inherit_env=False) as cluster, \
            DagsterInstance.ephemeral() as instance:
        client = PipesPodcClient(
            project=str(dagster_support.PROJECT), namespace="default",
            kubeconfig_file=cluster.kubeconfig_path, pending_timeout=grace,
            env={"PYTHONPATH": dagster_support.step_env(Path(tmp))["PYTHONPATH"]})
        walls, counts, verbs = [], [], ""
        for _ in range(invocations):
            cluster.request_log.clear()
            t0 = time.perf_counter()
            result = materialize([scores], instance=instance, resources={"pipes_podc": client},
                                 run_config=quiet)
            walls.append(time.perf_counter() - t0)
            assert result.success
            counts.append(len(cluster.request_log))
            verbs = _by_verb(cluster.request_log)
        out.update(invocations=invocations, requests=statistics.median(counts), by_verb=verbs,
                   wall_s=statistics.median(walls))
        for kind, layer in (("image-pull", {"podAnnotations": {
                "podc.dev/emulator-outcome": "image-pull-error"}}),
                ("unschedulable", {"nodeSelector": {"pool": "does-not-exist"}})):
            cluster.request_log.clear()
            t0 = time.perf_counter()
            result = materialize([failing(layer)], instance=instance,
                                 resources={"pipes_podc": client}, raise_on_error=False,
                                 run_config=quiet)
            assert not result.success
            out["failures"].append({"kind": kind, "wall_s": time.perf_counter() - t0,
                                    "requests": len(cluster.request_log)})
    return out


def dagster_k8s_model(run_seconds: float) -> dict:
    """Request counts of dagster-k8s 0.29 for the same work, from its code."""
    from dagster_k8s.client import DEFAULT_WAIT_BETWEEN_ATTEMPTS, DEFAULT_WAIT_TIMEOUT
    from dagster_k8s.pipes import WAIT_TIMEOUT_FOR_READY

    monitor = 120  # Dagster's run_monitoring.poll_interval_seconds default
    poll = DEFAULT_WAIT_BETWEEN_ATTEMPTS
    return {
        "poll": poll, "monitor": monitor,
        # K8sRunLauncher: create the Job; every monitoring pass reads the Job's status
        "run": 1 + math.ceil(run_seconds / monitor),
        # PipesK8sClient.run (single container, the default): create Pod; wait_for_pod(Ready):
        # one list before the kubelet sets statuses, sleep `poll`, one list that sees it ready;
        # read the log (follow); wait_for_pod(Terminated): two lists; delete the Pod
        "pipes": 1 + 2 + 1 + 2 + 1, "pipes_wall_floor": poll,
        # a Pod that is never scheduled: wait_for_pod's first loop lists every `poll` seconds
        # until pod_launch_timeout (DEFAULT_WAIT_TIMEOUT)
        "unschedulable_s": DEFAULT_WAIT_TIMEOUT,
        "unschedulable_requests": math.ceil(DEFAULT_WAIT_TIMEOUT / poll),
        # CreateContainerConfigError (a missing Secret) is retried until WAIT_TIMEOUT_FOR_READY
        "config_error_s": WAIT_TIMEOUT_FOR_READY,
        "config_error_requests": math.ceil(WAIT_TIMEOUT_FOR_READY / poll),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--checks", type=int, default=10)
    parser.add_argument("--real-runs", type=int, default=2)
    parser.add_argument("--pipes", type=int, default=5)
    parser.add_argument("--grace", type=float, default=2.0)
    parser.add_argument("--run-seconds", type=float, default=600.0,
                        help="assumed run time T for dagster-k8s's monitoring reads")
    args = parser.parse_args()
    import logging

    logging.getLogger("dagster").setLevel(logging.CRITICAL)  # failures are expected below

    k8s = dagster_k8s_model(args.run_seconds)
    s = bench_launcher_scripted(args.runs, args.checks)
    real = bench_launcher_real(args.real_runs)
    fails = [_failure(kind, args.grace) for kind in ("image-pull", "unschedulable")]
    pipes = bench_pipes(args.pipes, args.grace)

    per_run = s["launch_requests"] / s["runs"]
    print(f"PodcRunLauncher, {s['runs']} runs launched (emulator, scripted workers)")
    print(f"  API requests: {s['launch_requests']} = {per_run:.2f} per run ({s['by_verb']})")
    print(f"  per launch: compile+check median {s['compile_ms']:.1f} ms, submit median "
          f"{s['submit_ms']:.1f} ms, create_run+launch_run {s['launch_s'] * 1000:.0f} ms (mostly Dagster)")
    print(f"  {args.checks} health checks per run: {s['check_requests']} API requests "
          f"({s['check_s'] * 1000:.2f} ms per check: the resume-attempt count from the event log, then "
          "a lookup in the shared watch)")
    print(f"  real runs (process mode, hello_job): median launch->SUCCESS {real['wall_s']:.1f} s; "
          f"{real['requests'] / real['runs']:.1f} requests per run incl. the shared watches "
          f"({real['by_verb']})")
    for f in fails:
        print(f"  worker that never starts ({f['kind']}, pending_timeout={args.grace:g} s): run "
              f"failed after {f['wall_s']:.1f} s with the cause; {f['requests']} requests; Jobs and "
              f"Pods left: {f['left']}")
    print(f"PipesPodcClient, {pipes['invocations']} invocations of the example asset (process mode)")
    print(f"  API requests per invocation: {pipes['requests']:g} ({pipes['by_verb']}); median "
          f"materialize wall time {pipes['wall_s']:.2f} s")
    for f in pipes["failures"]:
        print(f"  Pipes Pod that never starts ({f['kind']}, pending_timeout={args.grace:g} s): "
              f"raised after {f['wall_s']:.1f} s with the cause; {f['requests']} requests")
    print(f"dagster-k8s 0.29 for the same work (from its code; poll_interval "
          f"{k8s['poll']:g} s, run monitoring every {k8s['monitor']} s):")
    print(f"  per run of T={args.run_seconds:g} s: 1 create + ceil(T/{k8s['monitor']})="
          f"{k8s['run'] - 1} status reads = {k8s['run']} requests; per health check: 1 request; "
          f"{args.runs} runs x {args.checks} checks = {args.runs * args.checks} requests "
          f"(podc: {s['check_requests']})")
    print("  run worker that never starts: the run waits for run monitoring's start timeout "
          "(180 s default; forever with monitoring off); the Job and its Pending Pod are left")
    print(f"  per Pipes invocation: {k8s['pipes']} requests, and at least one poll interval "
          f"({k8s['pipes_wall_floor']:g} s) before the Pod is seen ready")
    print(f"  Pipes Pod never scheduled: polls every {k8s['poll']:g} s for "
          f"{k8s['unschedulable_s'] / 3600:g} h = {k8s['unschedulable_requests']} requests; "
          f"missing Secret: {k8s['config_error_s'] / 3600:g} h = {k8s['config_error_requests']} "
          "requests")


if __name__ == "__main__":
    main()
