"""``podc submit FILE|DIR|-… [--namespace N] [--wait] [--logs] [--timeout S] [--kubeconfig P] [--context C]``

Submits compiled Jobs (YAML or JSON, multi-document, ``kind: List``; a folder's ``.yaml``/
``.yml``/``.json`` files; ``-`` for standard input) to a cluster. Exit codes: 0 submitted (with
``--wait``: every Job succeeded), 1 a Job failed / timed out / the cluster refused, 2 bad input,
usage, or no usable kubeconfig. ``--timeout`` bounds the whole command, connection and retries
included. Never prints a traceback, a credential, a Secret value or an env value.

The lead wires this in with either :func:`add_parser` (argparse sub-command) or
:func:`run_submit` (a complete ``argv`` handler).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import threading
import time
from typing import Any, Sequence, TextIO

from podc.cli.cluster_opts import (EXIT_FAILED, EXIT_USAGE, Parser, add_cluster_options,
                                   api_error_line, open_cluster, parse, require_runtime)
from podc.cli.manifests import load_manifests
from podc.cli.progress import Progress, wait_with_progress
from podc.errors import PodcError, Pos, format_diagnostics

__all__ = ["add_parser", "run_submit", "submit_command", "load_manifests", "main"]


def _build_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="compiled Job manifests (YAML/JSON), a folder of them, or - for standard input")
    add_cluster_options(parser, timeout_help="bound the whole command (connect, submit, wait) to S seconds",
                        namespace_help="target namespace (default: manifest, then kubeconfig context)")
    parser.add_argument("--wait", action="store_true", help="wait for every Job; exit 1 if any fails")
    parser.add_argument("--logs", action="store_true", help="stream the Jobs' logs (implies --wait)")
    parser.add_argument("--run-id", help="run id (same id = idempotent re-submit / re-attach; default: new)")
    parser.add_argument("--max-in-flight", type=int, default=None, metavar="N", help="cap on unfinished Jobs")
    return parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``submit`` on an argparse sub-parsers object; dispatch with ``args.handler(args)``."""
    parser = subparsers.add_parser("submit", help="submit compiled Jobs to a cluster and watch them")
    _build_parser(parser)
    parser.set_defaults(handler=lambda args: _run_args(args))
    return parser


def run_submit(argv: Sequence[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Parse ``argv`` (the words after ``submit``) and run. Returns the exit code."""
    err = err or sys.stderr
    parser = _build_parser(Parser(prog="podc submit", description=__doc__.splitlines()[0]))
    args = parse(parser, argv, err)
    if isinstance(args, int):
        return args
    return _run_args(args, out, err)


main = run_submit


def _run_args(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    return submit_command(args.files, namespace=args.namespace, wait=args.wait or args.logs,
                          logs=args.logs, timeout=args.timeout, kubeconfig=args.kubeconfig,
                          context=args.context, run_id=args.run_id,
                          max_in_flight=args.max_in_flight, out=out, err=err)


def _pick_namespace(explicit: str | None, docs: list[tuple[Pos, dict[str, Any]]]) -> str | None:
    if explicit:
        return explicit
    found = sorted({(d.get("metadata") or {}).get("namespace") for _, d in docs} - {None})
    if len(found) > 1:
        raise PodcError.single("submit.namespaces", f"the Jobs target several namespaces ({', '.join(map(str, found))})",
                               hint="pass --namespace, or submit each namespace separately")
    return str(found[0]) if found else None


def submit_command(files: Sequence[str], *, namespace: str | None = None, wait: bool = False,
                   logs: bool = False, timeout: float | None = None, kubeconfig: str | None = None,
                   context: str | None = None, run_id: str | None = None,
                   max_in_flight: int | None = None, api_client: Any = None,
                   out: TextIO | None = None, err: TextIO | None = None,
                   runtime_options: dict[str, Any] | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        docs = load_manifests(files, deadline=deadline)
        ns = _pick_namespace(namespace, docs)
    except PodcError as exc:
        print(format_diagnostics(exc.diagnostics), file=err)
        return EXIT_USAGE
    if not require_runtime("submit", err):
        return EXIT_USAGE
    options = argparse.Namespace(kubeconfig=kubeconfig, context=context, namespace=ns)
    cluster = open_cluster("submit", options, err, api_client=api_client, deadline=deadline)
    if isinstance(cluster, int):
        return cluster
    from podc.runtime import ApiError, JobConflict, Runtime, Timeouts

    run_id = run_id or f"{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{secrets.token_hex(3)}"
    print(f"run {run_id} in namespace {cluster.namespace}", file=out, flush=True)
    opts = dict(runtime_options or {})
    if timeout is not None and "timeouts" not in opts:
        # Read Events for a stuck Job early enough to say why before --timeout ends the wait.
        opts["timeouts"] = Timeouts(explain=max(0.5, min(5.0, timeout / 3)))
    rt = Runtime(cluster.transport, run_id=run_id, namespace=cluster.namespace,
                 max_in_flight=max_in_flight, **opts)
    try:
        rt.start(sync_timeout=cluster.left(30.0))
        names = []
        for _, doc in docs:
            step = doc["metadata"]["name"]
            state = rt.submit(doc, step_key=step, timeout=None if deadline is None else cluster.left(0.0))
            names.append(state.name)
            print(f"{'adopted' if state.adopted else 'submitted'} {step} as job/{state.name}",
                  file=out, flush=True)
        if not wait:
            return 0
        return _wait_and_report(rt, names, logs, deadline, out)
    except KeyboardInterrupt:
        print("podc submit: interrupted: cancelling the run", file=err)
        cluster.transport.deadline = time.monotonic() + 35.0  # the cancel gets its own time
        try:
            rt.cancel_run(confirm_timeout=30)
        except (ApiError, TimeoutError) as exc:
            print(f"podc submit: error: could not cancel the run: {api_error_line(exc)}", file=err)
        return 130
    except (ApiError, JobConflict) as exc:
        print(f"podc submit: error: {api_error_line(exc)}", file=err)
        return EXIT_FAILED
    except TimeoutError as exc:
        took = f" after {timeout:g}s (--timeout)" if timeout is not None else ""
        print(f"podc submit: error: timed out{took}: {exc}", file=err)
        return EXIT_FAILED
    finally:
        rt.close()


def _wait_and_report(rt: Any, names: list[str], logs: bool, deadline: float | None,
                     out: TextIO) -> int:
    progress = Progress(out, names)
    pumps = []
    if logs:
        for name in names:
            step = rt.state(name).step_key

            def pump(name: str = name, step: str = step) -> None:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                for line in rt.stream_logs(name, timeout=left):
                    progress.line(f"[{step}] {line}")

            t = threading.Thread(target=pump, daemon=True, name=f"podc-logs-{step[:24]}")
            t.start()
            pumps.append(t)
    final = wait_with_progress(rt, names, progress, deadline)
    for t in pumps:  # a finished Job's log stream ends by itself; the rest end with rt.close()
        t.join(timeout=2.0 if all(s.terminal for s in final.values()) else 0.0)
    rt.close()
    for t in pumps:
        t.join(timeout=2.0)
    progress.finish()
    failed = 0
    for name in names:
        state = final.get(name) or rt.state(name)
        if state.succeeded:
            continue
        failed += 1
        if not state.terminal:
            print(f"TIMED OUT {state.describe()} (still {state.phase.value}; left running: "
                  f"`podc cancel {rt.run_id} -n {rt.namespace}` removes it)", file=out)
    return EXIT_FAILED if failed else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_submit(sys.argv[1:]))
