"""What the cluster commands (``submit``, ``runs``, ``cancel``, ``logs``) share: their connection
options, a bounded connection, the ``runtime`` extra check, and errors told in one line."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, Sequence, TextIO

__all__ = ["Parser", "add_cluster_options", "parse", "require_runtime", "Cluster", "open_cluster",
           "run_command", "api_error_line", "EXIT_FAILED", "EXIT_USAGE"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
INSTALL_HINT = "pip install 'podc[runtime]'"


class _UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as exit 2 (``podc <cmd>: error: …``), no noise."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


def add_cluster_options(parser: argparse.ArgumentParser, *, timeout_help: str,
                        namespace_help: str = "namespace (default: the kubeconfig context's)") -> None:
    parser.add_argument("--namespace", "-n", help=namespace_help)
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    parser.add_argument("--context", help="kubeconfig context")
    parser.add_argument("--timeout", type=_seconds, default=None, metavar="S", help=timeout_help)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def parse(parser: Parser, argv: Sequence[str], err: TextIO) -> argparse.Namespace | int:
    """Parsed arguments, or the exit code (0 for --help, 2 for a usage error)."""
    try:
        return parser.parse_args(list(argv))
    except _UsageError as exc:
        parser.print_usage(err)
        print(f"{parser.prog}: error: {exc}", file=err)
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return int(exc.code or 0)


def require_runtime(command: str, err: TextIO) -> bool:
    """True when the Kubernetes client is installed; else says how to install it."""
    try:
        from podc.runtime.cluster import client_installed

        installed = client_installed()
    except ImportError:
        installed = False
    if not installed:
        print(f"podc {command}: needs the Kubernetes client: {INSTALL_HINT}", file=err)
        return False
    return True


class Cluster:
    """A connection for one command: transport, namespace and the command's deadline."""

    def __init__(self, transport: Any, namespace: str, deadline: float | None) -> None:
        self.transport, self.namespace, self.deadline = transport, namespace, deadline

    def close(self) -> None:
        """Let the deadline watchdog thread go now (it would linger a moment otherwise)."""
        from podc.runtime.deadline import watchdog

        watchdog.stop_if_idle(1.0)

    def left(self, default: float) -> float:
        """Seconds until the deadline (``default`` when the command has none)."""
        return default if self.deadline is None else max(0.0, self.deadline - time.monotonic())


def open_cluster(command: str, args: argparse.Namespace, err: TextIO, *,
                 namespace: str | None = None, api_client: Any = None,
                 deadline: float | None = None) -> Cluster | int:
    """Connect as the options say, bounded by ``deadline``; an exit code on failure (2 for a
    kubeconfig problem, with one clear line)."""
    from podc.runtime.cluster import ClusterConfigError, connect, default_namespace

    def warn(message: str) -> None:
        print(f"podc {command}: warning: {message}", file=err)

    exec_timeout = 60.0 if deadline is None else max(0.1, min(60.0, deadline - time.monotonic()))
    try:
        transport = connect(kubeconfig=args.kubeconfig, context=args.context, api_client=api_client,
                            deadline=deadline, exec_timeout=exec_timeout, warn=warn)
    except ClusterConfigError as exc:
        print(f"podc {command}: error: {exc}", file=err)
        return EXIT_USAGE
    ns = namespace or args.namespace or default_namespace(args.kubeconfig, args.context)
    return Cluster(transport, ns, deadline)


def run_command(command: str, parser: Parser, argv: Sequence[str], out: TextIO, err: TextIO,
                body: Any, *, api_client: Any = None, check: Any = None,
                default_timeout: Any = 60.0) -> int:
    """Parse, check the extra, connect within the command's ``--timeout`` (``default_timeout``,
    or ``default_timeout(args)``), run ``body(args, cluster, out, err)``, let the watchdog go.
    ``check(args)`` may return a usage error message."""
    args = parse(parser, argv, err)
    if isinstance(args, int):
        return args
    problem = check(args) if check is not None else None
    if problem:
        print(f"podc {command}: error: {problem}", file=err)
        return EXIT_USAGE
    if not require_runtime(command, err):
        return EXIT_USAGE
    timeout = args.timeout or (default_timeout(args) if callable(default_timeout) else default_timeout)
    deadline = None if timeout is None else time.monotonic() + timeout
    cluster = open_cluster(command, args, err, api_client=api_client, deadline=deadline)
    if isinstance(cluster, int):
        return cluster
    try:
        return body(args, cluster, out, err)
    finally:
        cluster.close()


def api_error_line(exc: BaseException) -> str:
    """One line for an API failure: what was refused, the server's own words, a hint."""
    from podc.runtime.retry import ApiError

    if not isinstance(exc, ApiError):
        return " ".join(str(exc).split())
    where = f" ({exc.method} {exc.path})" if exc.method else ""
    if exc.status == 401:
        return (f"the API server did not accept the credentials (401 Unauthorized){where}: "
                f"{exc.message or 'Unauthorized'}; check the kubeconfig's user (an expired token?)")
    if exc.status == 403:
        return f"forbidden (403){where}: {exc.message or 'Forbidden'}"
    if exc.kind in ("tls", "auth"):
        return f"{exc.message}{where}"
    return " ".join(str(exc).split())


def main_for(run: Any) -> Any:
    """``main(argv)`` for a command module whose ``run(argv, out, err)`` returns an exit code."""
    def main(argv: Sequence[str] | None = None) -> int:
        return run(list(sys.argv[1:] if argv is None else argv), sys.stdout, sys.stderr)

    return main
