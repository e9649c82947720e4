"""Executor overhead: one Dagster run with N parallel trivial steps on the podc emulator.

Scripted mode: every step Pod "succeeds" after 50 ms without running Dagster code, so the
figures are podc's own cost (build layers → compile → policy check → submit → watch → health
check), not Dagster's step start-up. Because scripted Pods never report a step outcome to Dagster,
each step is closed by the executor's "Job completed but the step reported no outcome" health
check after ``success_grace`` seconds; that path is exercised too, and the run ends failed by
design.

The run is configured with dagster-k8s's own keys (``K8S_CONFIG``: env_vars, volumes, labels,
step_k8s_config, per_step_k8s_config) on top of the example's podc project, so the translation
of dagster-k8s levels is part of every launch.

Printed: time from "step ready" to "Job created" (all N steps become ready in the same executor
tick), compile/check and submit time per step, API requests per step by verb, and beside them
dagster-k8s: the time its own code (K8sContainerContext merges + construct_dagster_k8s_job) takes
to build the same step Job, and its polling model: 1 create + ceil(T / 20 s)
``read_namespaced_job_status`` per step.

    .venv/bin/python bench/bench_dagster.py [--steps 200] [--step-seconds 600]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

from dagster import DagsterInstance, executor, job, op, reconstructable
from dagster._core.definitions.executor_definition import multiple_process_executor_requirements
from dagster._core.execution.retries import RetryMode

from podc.dagster.config import config_schema, settings_from_config
from podc.dagster.executor import make_executor

STEPS = int(next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--steps=")), "200"))
K8S_CONFIG = {
    "env_vars": ["LOG_LEVEL=info", "REGION=eu-west-1"],
    "labels": {"team": "data-platform"},
    "volumes": [{"name": "scratch", "empty_dir": {}}],
    "volume_mounts": [{"name": "scratch", "mount_path": "/scratch"}],
    "step_k8s_config": {
        "container_config": {"env": [{"name": "POD_NAME", "value_from": {
            "field_ref": {"field_path": "metadata.name"}}}]},
        "pod_spec_config": {"tolerations": [{"key": "batch", "operator": "Exists", "effect": "NoSchedule"}]},
    },
    "per_step_k8s_config": {"step_000": {"job_metadata": {"labels": {"kueue.x-k8s.io/queue-name": "etl"}}}},
}
HANDLERS: list = []  # the bench reads timings from the step handler the executor built


@executor(name="podc_bench", config_schema=config_schema(),
          requirements=multiple_process_executor_requirements())
def bench_executor(init_context):
    ex = make_executor(settings_from_config(init_context.executor_config), RetryMode.DISABLED)
    # reconstructable() may load this file a second time under another module name: always
    # report to the copy running as __main__.
    getattr(sys.modules.get("__main__"), "HANDLERS", HANDLERS).append(ex.podc_handler)
    return ex


def _trivial(i: int):
    @op(name=f"step_{i:03d}")
    def _op() -> None:
        pass

    return _op


OPS = [_trivial(i) for i in range(STEPS)]


@job(executor_def=bench_executor)
def wide_job():
    for o in OPS:
        o()


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]


def _compile_alone(project: Path, n: int) -> float:
    """Seconds per step for layers + compile + policy check alone (no Dagster, no emulator in
    the same process competing for the GIL)."""
    from podc.dagster.compile import CompileSession
    from podc.dagster.layers import StepInfo, executor_level, step_plan
    from podc.dagster.tags import layers_from_tags

    settings = settings_from_config({"project": str(project), "target": "dagster-step", **K8S_CONFIG})
    session = CompileSession(settings)
    executor = executor_level(settings)  # read once per run, as the step handler does
    args = (("DAGSTER_COMPRESSED_EXECUTE_STEP_ARGS", "x" * 1500),)
    t0 = time.perf_counter()
    for i in range(n):
        info = StepInfo("bench-run", "wide_job", f"step_{i:03d}", ("dagster", "api", "execute_step"), args)
        plan = step_plan(info, settings, layers_from_tags({}, info.step_key),
                         project_layers=session.project_layers(), environ={}, executor=executor)
        session.compile(plan.layers, f"podc-step-{i:03d}")
    return (time.perf_counter() - t0) / n


def _dagster_k8s_alone(n: int) -> float | None:
    """Seconds per step for dagster-k8s's own Job building with the same keys (what its
    K8sStepHandler.launch_step does before the create): container-context merges, then
    construct_dagster_k8s_job. None when dagster-k8s is not installed."""
    try:
        from dagster_k8s.container_context import K8sContainerContext
        from dagster_k8s.job import DagsterK8sJobConfig, UserDefinedDagsterK8sConfig, construct_dagster_k8s_job
    except ImportError:
        return None
    flat = {k: v for k, v in K8S_CONFIG.items() if k not in ("step_k8s_config", "per_step_k8s_config")}
    env = [{"name": "DAGSTER_COMPRESSED_EXECUTE_STEP_ARGS", "value": "x" * 1500}]
    t0 = time.perf_counter()
    for i in range(n):
        context = K8sContainerContext().merge(K8sContainerContext(
            **flat, run_k8s_config=UserDefinedDagsterK8sConfig.from_dict(K8S_CONFIG["step_k8s_config"])))
        per_op = K8S_CONFIG["per_step_k8s_config"].get(f"step_{i:03d}", {})
        context = context.merge(K8sContainerContext(run_k8s_config=UserDefinedDagsterK8sConfig.from_dict(per_op)))
        construct_dagster_k8s_job(DagsterK8sJobConfig(job_image="ghcr.io/example/etl:1.4.2"),
                                  ["dagster", "api", "execute_step"], f"dagster-step-{i:032d}",
                                  user_defined_k8s_config=context.run_k8s_config, component="step_worker",
                                  labels={"dagster/job": "wide_job", "dagster/op": f"step_{i:03d}"},
                                  env_vars=env)
    return (time.perf_counter() - t0) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="parallel steps (also --steps=N)")
    parser.add_argument("--step-seconds", type=float, default=600.0,
                        help="assumed step run time T for the polling comparison")
    args = parser.parse_args([a for a in sys.argv[1:] if not a.startswith("--steps=")])
    from podc.testing import LocalCluster

    home = Path(tempfile.mkdtemp(prefix="podc-bench-dagster-"))
    (home / "dagster.yaml").write_text(f"storage:\n  sqlite:\n    base_dir: {home}\n"
                                       "telemetry:\n  enabled: false\n")
    project = Path(__file__).resolve().parents[1] / "examples" / "dagster_project" / "deploy" / "podc.yaml"
    from dagster import execute_job

    with DagsterInstance.from_config(str(home)) as instance, LocalCluster(mode="scripted") as cluster:
        run_config = {"execution": {"config": {
            "project": str(project), "target": "dagster-step", "namespace": "default",
            "kubeconfig_file": cluster.kubeconfig_path, "poll_interval": 0.2,
            "success_grace": 2.0, "health_check_interval": 1, **K8S_CONFIG,
        }}, "loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
        wall0 = time.perf_counter()
        result = execute_job(reconstructable(wide_job), instance=instance, run_config=run_config,
                             raise_on_error=False)
        wall = time.perf_counter() - wall0
        requests = list(cluster.request_log)
        jobs = cluster.store.list("jobs", "default")

    handler = HANDLERS[-1]
    timings = handler.launch_timings
    n = len(timings)
    first = min(t["started"] for t in timings)
    ready_to_created = [t["created"] - first for t in timings]
    per_step = [t["total"] for t in timings]
    compile_s = [t["compile"] for t in timings]
    args_s = [t["args"] for t in timings]
    logw_s = [t["log_warnings"] for t in timings]  # dagster-k8s/config warnings (none here)
    submit_s = [t["submit"] for t in timings]
    by_verb: dict[str, int] = {}
    for r in requests:
        key = f"{r.verb} {r.resource or r.path}" + (f"/{r.subresource}" if r.subresource else "")
        by_verb[key] = by_verb.get(key, 0) + 1
    polls = 1 + math.ceil(args.step_seconds / 20.0)

    print(f"podc executor, {n} parallel steps, emulator scripted mode (Jobs created: {len(jobs)}; "
          f"run success={result.success}, expected False: scripted pods report no step outcome)")
    print(f"  step ready -> Job created: first {ready_to_created[0] * 1000:.1f} ms, "
          f"median {statistics.median(ready_to_created) * 1000:.0f} ms, "
          f"p95 {_pct(ready_to_created, 0.95) * 1000:.0f} ms, last {max(ready_to_created) * 1000:.0f} ms "
          "(launches are sequential in Dagster's executor loop)")
    print(f"  per step: Dagster step args median {statistics.median(args_s) * 1000:.1f} ms, "
          f"podc layers+compile+check median {statistics.median(compile_s) * 1000:.1f} ms "
          f"(p95 {_pct(compile_s, 0.95) * 1000:.1f}), submit median {statistics.median(submit_s) * 1000:.1f} ms "
          f"(p95 {_pct(submit_s, 0.95) * 1000:.1f}), writing tag warnings median "
          f"{statistics.median(logw_s) * 1000:.1f} ms, total median {statistics.median(per_step) * 1000:.1f} ms")
    alone = _compile_alone(project, n)
    theirs = _dagster_k8s_alone(n)
    print(f"  layers+compile+check alone (no Dagster/emulator threads in the process): "
          f"{alone * 1000:.1f} ms per step"
          + (f" | dagster-k8s building the same Job (merges + construct_dagster_k8s_job, no "
             f"policy check, no provenance): {theirs * 1000:.1f} ms per step" if theirs else ""))
    print(f"  executor overhead: {sum(per_step):.2f} s of launch work for {n} steps; whole run {wall:.1f} s "
          f"(includes success_grace and Dagster's own event-log polling)")
    print(f"  API requests: {len(requests)} total = {len(requests) / max(n, 1):.2f} per step")
    for key, count in sorted(by_verb.items(), key=lambda kv: -kv[1]):
        print(f"    {count:6d}  {key}")
    print(f"  health checks: answered from the run's watch cache (0 API requests per check)")
    print(f"dagster-k8s polling model for T={args.step_seconds:g} s per step: 1 create + "
          f"ceil(T/20 s)={polls - 1} status reads = {polls} requests per step, "
          f"{polls * n} for {n} steps; podc: {len(requests)} for the whole run "
          f"(independent of T: 2 watches per run)")


if __name__ == "__main__":
    main()
