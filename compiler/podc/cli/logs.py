"""``podc logs RUN_ID [STEP] [--follow] [--tail N] [--container C]``: the logs of a run's Jobs.

For each Job of the run (or only STEP's), the log of its newest Pod (its default container, as
``kubectl logs`` picks it), each line prefixed with ``[step]`` when several Jobs are shown.
``--follow`` keeps reading while the containers run (bounded by ``--timeout``). Exit 0; 1 when
the run or step is not found or the API refused; 2 usage or no usable kubeconfig."""

from __future__ import annotations

import threading
from typing import Any, Sequence, TextIO

from podc.cli.cluster_opts import (EXIT_FAILED, Parser, add_cluster_options, api_error_line,
                                   main_for, run_command)

__all__ = ["main", "run"]


def _parser() -> Parser:
    p = Parser(prog="podc logs", description="Print the logs of a podc run's Jobs (see `podc runs`).")
    p.add_argument("run_id", metavar="RUN_ID", help="the run id `podc submit` printed")
    p.add_argument("step", nargs="?", metavar="STEP", help="only this step (its Job's name or step key)")
    add_cluster_options(p, timeout_help="stop after S seconds (default: 60; none with --follow)")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing while the containers run")
    p.add_argument("--tail", type=int, default=None, metavar="N", help="only the last N lines of each log")
    p.add_argument("--container", "-c", help="container (default: the Pod's default container)")
    return p


def _owner(pod: dict[str, Any]) -> str | None:
    meta = pod.get("metadata") or {}
    for ref in meta.get("ownerReferences") or []:
        if ref.get("kind") == "Job":
            return ref.get("name")
    labels = meta.get("labels") or {}
    return labels.get("batch.kubernetes.io/job-name") or labels.get("job-name")


def _step(job: dict[str, Any]) -> str:
    from podc.runtime.naming import ANNOTATION_STEP_KEY, LABEL_STEP_KEY

    meta = job.get("metadata") or {}
    return str((meta.get("annotations") or {}).get(ANNOTATION_STEP_KEY)
               or (meta.get("labels") or {}).get(LABEL_STEP_KEY) or meta.get("name"))


def run(argv: Sequence[str], out: TextIO, err: TextIO, api_client: Any = None) -> int:
    return run_command("logs", _parser(), argv, out, err, _connected, api_client=api_client,
                       check=lambda a: "--tail must be 0 or more" if a.tail is not None and a.tail < 0 else None,
                       default_timeout=lambda a: None if a.follow else 60.0)


def _connected(args: Any, cluster: Any, out: TextIO, err: TextIO) -> int:
    from podc.runtime.api import pod_log_path, pods_path
    from podc.runtime.logs import default_container
    from podc.runtime.naming import run_selector
    from podc.runtime.retry import ApiError
    from podc.runtime.runs import run_jobs
    from podc.runtime.watch import list_all

    ns, run_id = cluster.namespace, args.run_id
    try:
        jobs = sorted(run_jobs(cluster.transport, ns, run_id), key=lambda j: (_step(j), j["metadata"]["name"]))
        pods = list_all(cluster.transport, pods_path(ns), {"labelSelector": run_selector(run_id)})["items"]
    except ApiError as exc:
        print(f"podc logs: error: {api_error_line(exc)}", file=err)
        return EXIT_FAILED
    if not jobs:
        print(f"podc logs: error: no Jobs of run {run_id} in namespace {ns} (see `podc runs`)", file=err)
        return EXIT_FAILED
    if args.step:
        chosen = [j for j in jobs if args.step in (_step(j), j["metadata"]["name"])]
        if not chosen:
            steps = ", ".join(sorted({_step(j) for j in jobs}))
            print(f"podc logs: error: run {run_id} has no step {args.step!r} (steps: {steps})", file=err)
            return EXIT_FAILED
        jobs = chosen
    lock = threading.Lock()
    prefix = len(jobs) > 1

    def show(job: dict[str, Any]) -> int:
        step, name = _step(job), job["metadata"]["name"]
        mine = sorted((p for p in pods if _owner(p) == name),
                      key=lambda p: (p.get("metadata") or {}).get("creationTimestamp") or "")
        if not mine:
            with lock:
                print(f"podc logs: {step} (job/{name}) has no Pod yet", file=err)
            return 0
        pod = mine[-1]
        query = {"container": args.container or default_container(pod), "follow": args.follow,
                 "tailLines": args.tail}
        try:
            stream = cluster.transport.stream(pod_log_path(ns, pod["metadata"]["name"]), query=query)
            try:
                for line in stream:
                    text = line.decode("utf-8", errors="replace").rstrip("\r")
                    with lock:
                        print(f"[{step}] {text}" if prefix else text, file=out, flush=True)
            finally:
                stream.close()
        except ApiError as exc:
            with lock:
                print(f"podc logs: error: {step}: {api_error_line(exc)}", file=err)
            return EXIT_FAILED
        return 0

    if not args.follow or len(jobs) == 1:
        return max((show(j) for j in jobs), default=0)
    codes: list[int] = []
    threads = [threading.Thread(target=lambda j=j: codes.append(show(j)), daemon=True,
                                name=f"podc-logs-{_step(j)[:24]}") for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return max(codes, default=0)


main = main_for(run)
