"""The ``podc`` command: dispatch to one module per sub-command, inside one error handler.

Dispatch happens on the sub-command name before any parser is built, so ``podc --version`` and
the start of every command stay fast (no pydantic, ruamel or jsonschema import). Each command
module exposes ``main(argv) -> int``; commands of optional parts are imported lazily and
reported as "not available" when their extra is not installed.

Exit codes: 0 ok; 1 check failed / outputs out of date; 2 bad input or usage; 3 internal error;
130 interrupted.
"""

from __future__ import annotations

import os
import sys
from typing import Callable, Sequence

__all__ = ["main", "run_guarded", "report_internal_error", "COMMANDS"]

# name -> (module, function names to try, extra that provides it, one-line help)
COMMANDS: dict[str, tuple[str, tuple[str, ...], str | None, str]] = {
    "compile": ("podc.cli.compile", ("main",), None, "compile a project's targets into Job manifests"),
    "explain": ("podc.cli.explain", ("main",), None, "show which layer set each value of a compiled Job"),
    "check": ("podc.cli.check", ("main",), None, "check manifests or a project against schemas and policies"),
    "submit": ("podc.cli.submit", ("main", "run_submit"), "runtime", "submit compiled Jobs to a cluster"),
    "runs": ("podc.cli.runs", ("main",), "runtime", "list the podc runs in a cluster"),
    "cancel": ("podc.cli.cancel", ("main",), "runtime", "delete a run's Jobs and Pods"),
    "logs": ("podc.cli.logs", ("main",), "runtime", "print the logs of a run's Jobs"),
    "local-cluster": ("podc.testing.cli", ("main",), "runtime", "run the local Kubernetes API emulator"),
    "migrate": ("podc.cli.migrate", ("main",), "runtime", "turn a dagster-k8s run config into podc layers"),
}
# Modules of optional dependencies: a missing one means "install the extra", not a bug.
_OPTIONAL_DEPS = ("kubernetes", "dagster", "urllib3", "celpy", "cel")

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _usage() -> str:
    lines = ["usage: podc [--version] <command> [options]", "", "commands:"]
    for name, (_, _, _, text) in COMMANDS.items():
        lines.append(f"  {name:<14} {text}")
    lines.append("")
    lines.append("Run `podc <command> --help` for the options of a command.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    _safe_stdout()
    return run_guarded(lambda: _dispatch(args))


def _safe_stdout() -> None:
    """A console that cannot encode a character (cp1252, ascii) must not turn `→` or a unicode
    label into a crash: piped output is written as UTF-8 (like podc's files), a terminal gets
    escapes for what it cannot show."""
    out = sys.stdout
    encoding = (getattr(out, "encoding", None) or "").lower().replace("-", "")
    if encoding in ("utf8", "") or not hasattr(out, "reconfigure"):
        return
    try:
        if out.isatty():
            out.reconfigure(errors="backslashreplace")
        else:
            out.reconfigure(encoding="utf-8")
    except (OSError, ValueError):  # a stream that cannot be reconfigured: leave it
        pass


def _dispatch(args: list[str]) -> int:
    if not args:
        print(_usage(), file=sys.stderr)
        return EXIT_USAGE
    first = args[0]
    if first in ("--version", "-V", "version"):
        from podc._version import __version__

        print(f"podc {__version__}")
        return EXIT_OK
    if first in ("-h", "--help", "help"):
        print(_usage())
        return EXIT_OK
    entry = COMMANDS.get(first)
    if entry is None:
        from podc.errors import did_you_mean

        guess = did_you_mean(first, COMMANDS)
        hint = f" (did you mean {guess!r}?)" if guess else ""
        print(f"podc: unknown command {first!r}{hint}\n\n{_usage()}", file=sys.stderr)
        return EXIT_USAGE
    handler = _load(first, entry)
    if handler is None:
        return EXIT_USAGE
    return int(handler(args[1:]) or 0)


def _load(name: str, entry: tuple[str, tuple[str, ...], str | None, str]) -> Callable[[list[str]], int] | None:
    import importlib

    module_name, functions, extra, _ = entry
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        missing = e.name or ""
        if missing == module_name or module_name.startswith(missing + ".") or missing.split(".")[0] in _OPTIONAL_DEPS:
            where = f" (install podc[{extra}])" if extra else " in this installation"
            print(f"podc: `podc {name}` is not available{where}", file=sys.stderr)
            return None
        raise
    for fn in functions:
        handler = getattr(module, fn, None)
        if callable(handler):
            return handler
    print(f"podc: `podc {name}` is not available in this installation", file=sys.stderr)
    return None


def run_guarded(fn: Callable[[], int]) -> int:
    """Run a command: bad input -> located diagnostics and exit 2; anything unexpected -> a
    short message, the traceback in a log file, exit 3. Never a raw traceback."""
    try:
        return fn()
    except KeyboardInterrupt:
        print("podc: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SystemExit as e:  # argparse: --help (0) and usage errors (2)
        return e.code if isinstance(e.code, int) else (0 if e.code is None else EXIT_USAGE)
    except BrokenPipeError:
        return EXIT_FAILED
    except Exception as e:  # noqa: BLE001 - the one top-level handler
        from podc.errors import PodcError

        if isinstance(e, PodcError):
            report_error(e)
            return EXIT_USAGE
        as_input = path_error(e)
        if as_input is not None:
            report_error(as_input)
            return EXIT_USAGE
        return _internal_error(e)


# The system refusing a path the user gave (too long, a symlink loop, no permission, read-only or
# full disk): an input/environment problem (exit 2), not a podc bug. ENOENT is not here: podc checks
# the paths it is given, so a missing file reaching the top is more likely podc's own mistake.
_PATH_ERRNOS = frozenset(("ENAMETOOLONG", "ELOOP", "EACCES", "EPERM", "EROFS", "ENOSPC", "EDQUOT", "ENXIO"))


def path_error(e: BaseException):
    """A located ``PodcError`` for an ``OSError`` about a user's path, else None."""
    import errno

    if not isinstance(e, OSError) or e.errno is None or errno.errorcode.get(e.errno) not in _PATH_ERRNOS:
        return None
    from podc.errors import PodcError, Pos

    name = os.fsdecode(e.filename) if isinstance(e.filename, (str, bytes)) else None
    if name and len(name) > 120:
        name = name[:60] + "…" + name[-40:]
    return PodcError.single("input.os-error", f"cannot use this path: {e.strerror or e}", Pos(name),
                            hint="check the path, its permissions and the free space")


def report_error(e) -> None:
    from podc.errors import format_diagnostics

    color = sys.stderr.isatty() and "NO_COLOR" not in os.environ
    print(format_diagnostics(e.diagnostics, color=color), file=sys.stderr)


def report_internal_error(e: BaseException) -> int:
    """For commands that catch their own errors: the same short message, log file and exit 3."""
    return _internal_error(e)


def _internal_error(e: BaseException) -> int:
    import tempfile
    import traceback

    from podc._version import __version__

    text = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    try:
        fd, path = tempfile.mkstemp(prefix="podc-crash-", suffix=".log")
        with open(fd, "w", encoding="utf-8") as f:
            f.write(f"podc {__version__}\nargv: {sys.argv!r}\n\n{text}")
        where = f"; details in {path}"
    except OSError:
        where = ""
    print(f"podc: internal error ({type(e).__name__}){where}\n"
          "This is a bug in podc, not in your input; please report it with the log file.", file=sys.stderr)
    return EXIT_INTERNAL
