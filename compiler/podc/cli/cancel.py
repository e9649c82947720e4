"""``podc cancel RUN_ID [--namespace N]``: delete a run's Jobs and Pods and say what was removed.

Exit 0 when nothing of the run is left, 1 when the run has nothing to cancel, something is still
there after ``--timeout`` (default 60 s) or the API refused, 2 usage or no usable kubeconfig."""

from __future__ import annotations

from typing import Any, Sequence, TextIO

from podc.cli.cluster_opts import (EXIT_FAILED, Parser, add_cluster_options, api_error_line,
                                   main_for, run_command)

__all__ = ["main", "run"]


def _parser() -> Parser:
    p = Parser(prog="podc cancel", description="Delete a podc run's Jobs and Pods (see `podc runs`).")
    p.add_argument("run_id", metavar="RUN_ID", help="the run id `podc submit` printed")
    add_cluster_options(p, timeout_help="give up waiting for the deletion after S seconds (default 60)")
    return p


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def run(argv: Sequence[str], out: TextIO, err: TextIO, api_client: Any = None) -> int:
    return run_command("cancel", _parser(), argv, out, err, _connected, api_client=api_client)


def _connected(args: Any, cluster: Any, out: TextIO, err: TextIO) -> int:
    from podc.runtime import ApiError, Runtime
    from podc.runtime.api import pods_path
    from podc.runtime.naming import run_selector
    from podc.runtime.runs import run_jobs
    from podc.runtime.watch import list_all

    timeout = args.timeout or 60.0
    ns, run_id = cluster.namespace, args.run_id
    rt = None
    try:
        jobs = sorted(j["metadata"]["name"] for j in run_jobs(cluster.transport, ns, run_id))
        pods = sorted(p["metadata"]["name"] for p in list_all(
            cluster.transport, pods_path(ns), {"labelSelector": run_selector(run_id)})["items"])
        if not jobs and not pods:
            print(f"podc cancel: nothing to cancel: no Job or Pod of run {run_id} in namespace {ns}"
                  " (see `podc runs`)", file=err)
            return EXIT_FAILED
        rt = Runtime(cluster.transport, run_id=run_id, namespace=ns)
        result = rt.cancel_run(confirm_timeout=max(1.0, cluster.left(timeout) - 1.0))
    except (ApiError, TimeoutError) as exc:
        print(f"podc cancel: error: {api_error_line(exc)}", file=err)
        return EXIT_FAILED
    finally:
        if rt is not None:
            rt.close()
    for name in jobs:
        print(f"deleted job/{name}", file=out)
    print(f"run {run_id} in namespace {ns}: deleted {_plural(len(jobs), 'Job')} and "
          f"{_plural(len(set(pods) | set(result.pods_deleted)), 'Pod')}", file=out)
    if not result.clean:
        print(f"podc cancel: error: still there after {timeout:g}s: "
              f"{_plural(result.jobs_left, 'Job')}, {_plural(result.pods_left, 'Pod')}", file=err)
        return EXIT_FAILED
    return 0


main = main_for(run)
