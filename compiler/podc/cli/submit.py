"""``podc submit FILE… [--namespace N] [--wait] [--logs] [--timeout S] [--kubeconfig P] [--context C]``

Submits compiled Jobs (YAML or JSON, multi-document) to a cluster. Exit codes: 0 submitted (with
``--wait``: every Job succeeded), 1 a Job failed / timed out / the cluster refused, 2 bad input
or usage. Never prints a traceback, a Secret value or an env value.

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

from podc.errors import Diagnostics, PodcError, Pos, format_diagnostics

__all__ = ["add_parser", "run_submit", "submit_command", "load_manifests"]


def _build_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("files", nargs="+", metavar="FILE", help="compiled Job manifests (YAML/JSON)")
    parser.add_argument("--namespace", "-n", help="target namespace (default: manifest, then kubeconfig context)")
    parser.add_argument("--wait", action="store_true", help="wait for every Job; exit 1 if any fails")
    parser.add_argument("--logs", action="store_true", help="stream the Jobs' logs (implies --wait)")
    parser.add_argument("--timeout", type=float, default=None, metavar="S", help="give up waiting after S seconds")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    parser.add_argument("--context", help="kubeconfig context")
    parser.add_argument("--run-id", help="run id (same id = idempotent re-submit / re-attach; default: new)")
    parser.add_argument("--max-in-flight", type=int, default=None, metavar="N", help="cap on unfinished Jobs")
    return parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``submit`` on an argparse sub-parsers object; dispatch with ``args.handler(args)``."""
    parser = subparsers.add_parser("submit", help="submit compiled Jobs to a cluster and watch them")
    _build_parser(parser)
    parser.set_defaults(handler=lambda args: _run_args(args))
    return parser


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit 2 without argparse's traceback-free default noise
        self.print_usage(sys.stderr)
        print(f"podc submit: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def run_submit(argv: Sequence[str]) -> int:
    """Parse ``argv`` (the words after ``submit``) and run. Returns the exit code."""
    parser = _build_parser(_Parser(prog="podc submit", description=__doc__.splitlines()[0]))
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    return _run_args(args)


def _run_args(args: argparse.Namespace) -> int:
    return submit_command(args.files, namespace=args.namespace, wait=args.wait or args.logs,
                          logs=args.logs, timeout=args.timeout, kubeconfig=args.kubeconfig,
                          context=args.context, run_id=args.run_id,
                          max_in_flight=args.max_in_flight)


# -- input ----------------------------------------------------------------------------------------
class _TooLarge(Exception):
    pass


def _plain(node: Any, budget: list[int] | None = None, depth: int = 0) -> Any:
    """Plain dicts and lists. ruamel shares aliased nodes; copying them expands them, so the copy
    is bounded like every other podc reader (an alias bomb must not eat the machine)."""
    from podc.source import DEFAULT_LIMITS

    if budget is None:
        budget = [DEFAULT_LIMITS.max_nodes]
    budget[0] -= 1
    if budget[0] < 0 or depth > DEFAULT_LIMITS.max_depth:
        raise _TooLarge
    if isinstance(node, dict):
        return {str(k): _plain(v, budget, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v, budget, depth + 1) for v in node]
    return node


def _read(path: str, diags: Diagnostics) -> str | None:
    from podc.source import DEFAULT_LIMITS

    try:
        with open(path, "rb") as fh:
            raw = fh.read(DEFAULT_LIMITS.max_bytes + 1)
    except OSError as exc:
        diags.add("submit.unreadable", f"cannot read {path}: {exc.strerror or exc}", Pos(path))
        return None
    if len(raw) > DEFAULT_LIMITS.max_bytes:
        diags.add("submit.too-large", f"file is larger than {DEFAULT_LIMITS.max_bytes} bytes", Pos(path),
                  hint="pass the output of `podc compile`")
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        diags.add("submit.encoding", "file is not valid UTF-8", Pos(path, line, col), hint="save the file as UTF-8")
        return None


def load_manifests(paths: Sequence[str]) -> list[tuple[Pos, dict[str, Any]]]:
    """Every Job document in ``paths`` with its position. Raises PodcError for bad input."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    diags = Diagnostics()
    out: list[tuple[Pos, dict[str, Any]]] = []
    seen: dict[str, Pos] = {}
    for path in paths:
        text = _read(path, diags)
        if text is None:
            continue
        yaml = YAML(typ="rt")
        try:
            docs = list(yaml.load_all(text))
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            pos = Pos(path, mark.line + 1, mark.column + 1) if mark else Pos(path)
            diags.add("submit.yaml", f"invalid YAML/JSON: {exc.problem or exc}", pos)
            continue
        except YAMLError as exc:
            diags.add("submit.yaml", f"invalid YAML/JSON: {exc}", Pos(path))
            continue
        for doc in docs:
            if doc is None:
                continue
            line = getattr(getattr(doc, "lc", None), "line", None)
            pos = Pos(path, line + 1, 1) if line is not None else Pos(path, 1, 1)
            items = doc.get("items") if isinstance(doc, dict) and doc.get("kind") == "List" else [doc]
            for item in items if isinstance(items, list) else []:
                try:
                    plain = _plain(item)
                except (_TooLarge, RecursionError):
                    diags.add("submit.too-large", "document too deep or expands to too many values", pos,
                              hint="this looks like an alias bomb ('billion laughs'); podc stops reading it")
                    continue
                _check_doc(plain, pos, diags, seen, out)
    diags.raise_if_errors()
    if not out:
        raise PodcError.single("submit.empty", "no Job documents in the given files",
                               Pos(paths[0]) if paths else Pos(),
                               hint="pass the output of `podc compile`")
    return out


def _check_doc(doc: Any, pos: Pos, diags: Diagnostics, seen: dict[str, Pos],
               out: list[tuple[Pos, dict[str, Any]]]) -> None:
    if not isinstance(doc, dict):
        diags.add("submit.not-a-job", f"expected a Job object, got {type(doc).__name__}", pos)
        return
    kind, api_version = doc.get("kind"), doc.get("apiVersion")
    if kind != "Job" or api_version != "batch/v1":
        diags.add("submit.not-a-job", f"expected apiVersion batch/v1, kind Job; got {api_version} {kind}",
                  pos, hint="podc submit only runs compiled Jobs")
        return
    name = (doc.get("metadata") or {}).get("name")
    if not isinstance(name, str) or not name:
        diags.add("submit.no-name", "the Job has no metadata.name (used as its step key)", pos)
        return
    if name in seen:
        diags.add("submit.duplicate", f"Job {name!r} appears twice", pos,
                  related=[(seen[name], "first defined here")])
        return
    seen[name] = pos
    out.append((pos, doc))


# -- run ------------------------------------------------------------------------------------------
def _pick_namespace(explicit: str | None, docs: list[tuple[Pos, dict[str, Any]]],
                    kubeconfig: str | None, context: str | None) -> str:
    if explicit:
        return explicit
    found = sorted({(d.get("metadata") or {}).get("namespace") for _, d in docs} - {None})
    if len(found) > 1:
        raise PodcError.single("submit.namespaces", f"the Jobs target several namespaces ({', '.join(found)})",
                               hint="pass --namespace, or submit each namespace separately")
    if found:
        return str(found[0])
    from podc.runtime.cluster import default_namespace

    return default_namespace(kubeconfig, context)


def submit_command(files: Sequence[str], *, namespace: str | None = None, wait: bool = False,
                   logs: bool = False, timeout: float | None = None, kubeconfig: str | None = None,
                   context: str | None = None, run_id: str | None = None,
                   max_in_flight: int | None = None, api_client: Any = None,
                   out: TextIO | None = None, err: TextIO | None = None,
                   runtime_options: dict[str, Any] | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        docs = load_manifests(files)
    except PodcError as exc:
        print(format_diagnostics(exc.diagnostics), file=err)
        return 2
    try:
        from podc.runtime import ApiError, ClusterConfigError, JobConflict, Runtime, connect
    except ImportError:
        print("error: podc submit needs the Kubernetes client: pip install 'podc[runtime]'", file=err)
        return 2
    try:
        ns = _pick_namespace(namespace, docs, kubeconfig, context)
        transport = connect(kubeconfig=kubeconfig, context=context, api_client=api_client)
    except PodcError as exc:
        print(format_diagnostics(exc.diagnostics), file=err)
        return 2
    except ClusterConfigError as exc:
        print(f"error: {exc}", file=err)
        return 2
    except Exception as exc:
        # A kubeconfig that is not valid YAML or not a kubeconfig: the user's file, not a podc bug.
        if type(exc).__module__.split(".")[0] not in ("yaml", "kubernetes"):
            raise
        print(f"error: cannot load the kubeconfig ({kubeconfig or '$KUBECONFIG or ~/.kube/config'}): "
              f"{type(exc).__name__}: {' '.join(str(exc).split())}", file=err)
        return 2
    run_id = run_id or f"{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{secrets.token_hex(3)}"
    print(f"run {run_id} in namespace {ns}", file=out)
    rt = Runtime(transport, run_id=run_id, namespace=ns, max_in_flight=max_in_flight,
                 **(runtime_options or {}))
    try:
        rt.start()
        names = []
        for pos, doc in docs:
            step = doc["metadata"]["name"]
            state = rt.submit(doc, step_key=step)
            names.append(state.name)
            print(f"submitted {step} as job/{state.name}", file=out)
        if not wait:
            return 0
        return _wait_and_report(rt, names, logs, timeout, out)
    except KeyboardInterrupt:
        print("interrupted: cancelling the run", file=err)
        rt.cancel_run(confirm_timeout=30)
        return 130
    except (ApiError, JobConflict) as exc:
        print(f"error: {exc}", file=err)
        return 1
    except TimeoutError as exc:
        print(f"error: {exc}", file=err)
        return 1
    except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback
        print(f"unexpected error: {type(exc).__name__}: {exc}", file=err)
        return 1
    finally:
        rt.close()


def _wait_and_report(rt: Any, names: list[str], logs: bool, timeout: float | None,
                     out: TextIO) -> int:
    lock = threading.Lock()
    threads = []
    if logs:
        for name in names:
            step = rt.state(name).step_key

            def pump(name: str = name, step: str = step) -> None:
                for line in rt.stream_logs(name, timeout=timeout):
                    with lock:
                        print(f"[{step}] {line}", file=out, flush=True)

            t = threading.Thread(target=pump, daemon=True)
            t.start()
            threads.append(t)
    final = rt.wait(names, timeout=timeout)
    for t in threads:
        t.join(timeout=2.0)
    failed = 0
    with lock:
        for name in names:
            state = final[name]
            if state.succeeded:
                print(f"succeeded {state.step_key} (job/{name})", file=out)
            elif state.terminal:
                failed += 1
                print(f"FAILED {state.describe()}", file=out)
            else:
                failed += 1
                print(f"TIMED OUT {state.describe()} (still {state.phase.value}; left running)", file=out)
    return 1 if failed else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_submit(sys.argv[1:]))
