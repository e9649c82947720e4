"""Compiling a large project on several CPUs (``podc compile --jobs N``).

kustomize spreads its work over every CPU; a Python process uses one. For a project with many
targets, ``podc compile`` forks worker processes once the project is loaded: each compiles,
checks and renders a contiguous share of the targets with the same functions a serial run uses
and sends back the output texts and diagnostics; this process does the first share and merges
them in target order, so the files written are the serial run's, byte for byte.

Only a clean run is merged. When a share meets bad input (a ``PodcError``) or a worker fails in
any way (killed, crashed, unreadable answer), the whole compile runs again in this process, so
errors read exactly as a serial run prints them. Workers are forked only on Linux (fork is
unsafe with macOS system libraries and missing on Windows), never while other threads run, and
by default only with at least :data:`MIN_SHARE` targets per process. Every worker is reaped
before :func:`run_shares` returns or raises; one still running then is killed first.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, Sequence

__all__ = ["MIN_SHARE", "worker_count", "run_shares"]

MIN_SHARE = 48  # targets per process below which forking costs more than it saves


def worker_count(requested: int | None, targets: int) -> int:
    """Processes to use for ``targets`` targets: ``requested`` (``--jobs``) or, by default, one per
    usable CPU with at least :data:`MIN_SHARE` targets each; 1 where forking is not safe."""
    if requested is None:
        wanted = min(_cpus(), targets // MIN_SHARE)
    else:
        wanted = min(requested, targets)
    return wanted if wanted >= 2 and _fork_is_safe() else 1


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _fork_is_safe() -> bool:
    if sys.platform != "linux" or not hasattr(os, "fork"):
        return False
    threading = sys.modules.get("threading")  # not imported: then no thread was started
    return threading is None or threading.active_count() <= 1


def run_shares(names: Sequence[str], workers: int, work: Callable[[list[str]], Any],
               portable: Callable[[Any], Any]) -> list[Any] | None:
    """``work(share)`` for ``workers`` contiguous shares of ``names``, in order: the first share in
    this process, each other in a forked child that sends ``portable(work(share))`` back.

    None when a share met bad input (``PodcError``) or a child failed in any way: the caller then
    compiles serially. Any other error of this process's own share propagates, as it would."""
    from podc.errors import PodcError

    shares = _split(list(names), workers)
    children: list[tuple[int, int]] = []
    answered: set[int] = set()
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        for share in shares[1:]:
            children.append(_fork(share, work, portable))
        try:
            results = [work(shares[0])]
        except PodcError:
            return None  # the serial run reports every share's errors together
        for pid, fd in children:
            answer = _answer(fd)
            answered.add(pid)  # its pipe is closed: it is exiting
            if answer is None:
                return None
            results.append(answer)
        return results
    finally:
        _reap(children, answered)


def _split(names: list[str], parts: int) -> list[list[str]]:
    size, extra = divmod(len(names), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        out.append(names[start:end])
        start = end
    return out


def _fork(share: list[str], work: Callable[[list[str]], Any], portable: Callable[[Any], Any]) -> tuple[int, int]:
    import pickle

    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's code
        status = 1
        try:
            os.close(read_fd)
            data = pickle.dumps(("ok", portable(work(share))), protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(data)
            while view:
                view = view[os.write(write_fd, view):]
            status = 0
        except BaseException:  # noqa: BLE001 -- any failure: exit non-zero, the parent recompiles
            pass
        finally:
            os._exit(status)
    os.close(write_fd)
    return pid, read_fd


def _answer(fd: int) -> Any:
    import pickle

    chunks = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    try:
        status, value = pickle.loads(b"".join(chunks))
    except Exception:  # noqa: BLE001 -- a worker that died mid-answer
        return None
    return value if status == "ok" else None


def _reap(children: list[tuple[int, int]], answered: set[int]) -> None:
    """Wait for every child; one whose answer was not read is killed first."""
    import signal

    for pid, fd in children:
        try:
            os.close(fd)
        except OSError:
            pass
        try:
            if pid not in answered:
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ChildProcessError, ProcessLookupError):
            pass
