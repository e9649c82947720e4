"""Reading from a pipe (a FIFO, ``<(…)``, standard input) without ever blocking forever.

``open()`` on a named pipe waits for a writer, and a read waits for data: a FIFO given as a
project, layer or manifest path would hang podc. Pipes are opened non-blocking instead: one
nobody writes to reads as empty at once, and one whose writer stays silent for
:data:`IDLE_SECONDS` (or past the caller's deadline) is an error, located at the path.
"""

from __future__ import annotations

import os
import select
import stat
import time

from podc.errors import PodcError, Pos

__all__ = ["IDLE_SECONDS", "is_pipe", "read_pipe_path", "read_pipe", "decode_text"]

IDLE_SECONDS = 30.0


def is_pipe(path: str) -> bool:
    """True for a named pipe or a socket (what a plain ``open()`` could block on)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def read_pipe_path(path: str, limit: int, deadline: float | None = None) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO without writer: no wait
    except OSError as exc:
        raise PodcError.single("input.unreadable", f"cannot read: {exc.strerror or exc}", Pos(path)) from None
    try:
        return read_pipe(fd, path, limit, deadline)
    finally:
        os.close(fd)


def read_pipe(fd: int, name: str, limit: int, deadline: float | None = None, idle: bool = True) -> bytes:
    """Everything ``fd`` delivers until EOF, at most ``limit`` bytes, giving up after
    :data:`IDLE_SECONDS` without data (unless ``idle`` is False: a terminal, where a person
    types) or at ``deadline`` (``time.monotonic()``). Raises :class:`PodcError`."""
    nonblocking = not os.get_blocking(fd)
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = None
        if nonblocking:
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                pass
        if chunk is None:
            wait = IDLE_SECONDS if idle else None
            if deadline is not None:
                wait = min(wait if wait is not None else float("inf"), deadline - time.monotonic())
            if wait is not None and wait <= 0 or \
                    not select.select([fd], [], [], None if wait is None else wait)[0]:
                why = "the deadline (--timeout) passed" if deadline is not None and \
                    time.monotonic() >= deadline else f"nothing arrived for {IDLE_SECONDS:g}s"
                raise PodcError.single("input.pipe-stalled", f"stopped reading the pipe: {why}", Pos(name),
                                       hint="write the input to a file, or check the command feeding the pipe")
            if nonblocking:
                continue
            chunk = os.read(fd, 65536)  # ready: returns at once
        if not chunk:
            return b"".join(parts)
        size += len(chunk)
        if size > limit:
            raise PodcError.single("input.too-large", f"more than {limit} bytes; podc reads at most {limit}",
                                   Pos(name), hint="split the input")
        parts.append(chunk)


def decode_text(raw: bytes, name: str) -> str:
    """UTF-8 (a BOM is dropped), with the position of the first bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise PodcError.single("input.encoding", "file is not valid UTF-8", Pos(name, line, col),
                               hint="save the file as UTF-8") from None
