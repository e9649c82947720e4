"""``podc runs [--namespace N | --all-namespaces] [--format text|json]``: the podc runs in a
cluster (run id, Jobs, their states, age), newest first. Exit 0 (also when there are none), 1 the
API refused, 2 usage or no usable kubeconfig."""

from __future__ import annotations

import json
from typing import Any, Sequence, TextIO

from podc.cli.cluster_opts import (EXIT_FAILED, Parser, add_cluster_options, api_error_line,
                                   main_for, run_command)

__all__ = ["main", "run"]


def _parser() -> Parser:
    p = Parser(prog="podc runs", description="List the podc runs in a namespace: run id, Jobs, "
               "their states and age.")
    add_cluster_options(p, timeout_help="give up after S seconds (default 60)")
    p.add_argument("--all-namespaces", "-A", action="store_true", help="list runs of every namespace")
    p.add_argument("--format", choices=("text", "json"), default="text")
    return p


def run(argv: Sequence[str], out: TextIO, err: TextIO, api_client: Any = None) -> int:
    return run_command("runs", _parser(), argv, out, err, _connected, api_client=api_client)


def _connected(args: Any, cluster: Any, out: TextIO, err: TextIO) -> int:
    from podc.runtime.diagnose import JobPhase
    from podc.runtime.retry import ApiError
    from podc.runtime.runs import format_age, list_runs

    try:
        runs = list_runs(cluster.transport, None if args.all_namespaces else cluster.namespace)
    except ApiError as exc:
        print(f"podc runs: error: {api_error_line(exc)}", file=err)
        return EXIT_FAILED
    if args.format == "json":
        print(json.dumps([_as_json(r) for r in runs], indent=2), file=out)
        return 0
    if not runs:
        where = "any namespace" if args.all_namespaces else f"namespace {cluster.namespace}"
        print(f"no podc runs in {where}", file=out)
        return 0
    head = ("RUN", "NAMESPACE", "JOBS", "SUCCEEDED", "FAILED", "RUNNING", "PENDING", "AGE")
    rows = [head] + [(r.run_id, r.namespace, str(len(r.jobs)),
                      *(str(r.count(p)) for p in (JobPhase.SUCCEEDED, JobPhase.FAILED,
                                                  JobPhase.RUNNING, JobPhase.PENDING)),
                      format_age(r.age_seconds()))
                     for r in runs]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip(), file=out)
    return 0


def _as_json(r: Any) -> dict[str, Any]:
    return {"runId": r.run_id, "namespace": r.namespace, "created": r.created,
            "jobs": [{"name": j.name, "stepKey": j.step_key, "attempt": j.attempt,
                      "phase": j.phase.value, "created": j.created} for j in r.jobs]}


main = main_for(run)
