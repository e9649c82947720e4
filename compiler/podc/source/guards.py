"""What podc refuses before parsing: files that are not regular files, oversized or undecodable
files, and text nested deeper than the C parser can take. Re-exported by :mod:`podc.source.reader`.
"""

from __future__ import annotations

import os
import re
import stat

from podc._record import record
from podc.errors import PodcError, Pos

__all__ = ["Limits", "DEFAULT_LIMITS", "read_text", "guard_depth"]


@record(frozen=True, slots=True)
class Limits:
    max_bytes: int = 32 * 1024 * 1024
    max_depth: int = 100
    max_nodes: int = 2_000_000


DEFAULT_LIMITS = Limits()

# The C parser recurses once per nesting level and crashes the process (SIGSEGV) somewhere
# beyond ~30,000 levels; refuse long before it, without parsing. Block nesting by indentation is
# bounded by the file size limit (32 MB allows ~8,000 levels, which the parser survives).
_PARSER_DEPTH_GUARD = 1000
_CHAIN = re.compile(r"^[ ]*(?:[-?][ ]+)+", re.M)
# Brackets, line breaks, comments and one-line quoted strings (whose brackets are text). A quote
# or '#' counts only where YAML would see one (after a space, a flow indicator or at line start),
# so `[a'[[[` cannot hide its brackets.
_FLOW_TOKENS = re.compile(r"[\[\]{}\n]|(?:(?<=\s)|^)#[^\n]*|(?:(?<=[\s\[{,:])|^)(?:\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*')",
                          re.M)


def guard_depth(text: str, filename: str, limits: Limits) -> None:
    """Refuse text nested deeper than the parser can take, at the place it gets too deep."""
    guard = max(_PARSER_DEPTH_GUARD, limits.max_depth)
    opens = text.count("[") + text.count("{")
    chains = text.count("- ") + text.count("? ")
    if opens + chains <= guard:
        return
    depth = 0
    line = 1
    line_start = 0
    chain_at: dict[int, int] = {}
    if chains > guard:
        for m in _CHAIN.finditer(text):
            n = m.group().count("-") + m.group().count("?")
            if n > guard:
                chain_at[text.count("\n", 0, m.start()) + 1] = n
                break
    for line_no, n in chain_at.items():
        _too_deep(filename, line_no, 1, guard)
    if opens <= guard:
        return
    for m in _FLOW_TOKENS.finditer(text):
        c = m.group()[0]
        if c == "[" or c == "{":
            depth += 1
            if depth > guard:
                _too_deep(filename, line, m.start() - line_start + 1, guard)
        elif c == "]" or c == "}":
            depth = max(0, depth - 1)
        elif c == "\n":
            line += 1
            line_start = m.end()


def _too_deep(filename: str, line: int, col: int, guard: int) -> None:
    raise PodcError.single("input.too-deep", f"nesting deeper than {guard} levels", Pos(filename, line, col),
                           hint="flatten the structure; no Kubernetes object nests this deep")


def read_text(path: str | os.PathLike, limits: Limits = DEFAULT_LIMITS, *, pipes: bool = False) -> str:
    """Read a UTF-8 file, with a located error for missing, oversized or undecodable files.

    A project or layer file must be a regular file (a FIFO would block, a device never ends).
    With ``pipes=True`` (manifests for ``check`` and ``submit``: ``-``, ``<(helm template …)``) a
    pipe is read without ever blocking forever (:mod:`podc._pipes`: no writer reads as empty, a
    silent writer is an error after a bound)."""
    name = os.fspath(path)
    try:
        info = os.stat(name)
        if pipes and (stat.S_ISFIFO(info.st_mode) or stat.S_ISSOCK(info.st_mode)):
            from podc._pipes import decode_text, read_pipe_path

            return decode_text(read_pipe_path(name, limits.max_bytes), name)
        if not stat.S_ISREG(info.st_mode) and not stat.S_ISDIR(info.st_mode):
            # A FIFO would block the open() forever and a device never ends: refuse, never read.
            raise PodcError.single("input.not-a-file", f"expected a regular file, found {_file_kind(info.st_mode)}",
                                   Pos(name), hint="name a YAML file; podc does not read pipes or devices")
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(name)
        size = info.st_size
        if size > limits.max_bytes:
            raise PodcError.single("input.too-large", f"file is {size} bytes; podc reads at most {limits.max_bytes}",
                                   Pos(name), hint="split the file, or check you named the right one")
        # O_NONBLOCK: if the path was swapped for a FIFO since the stat, open() still returns.
        with open(name, "rb", buffering=0, opener=_nonblocking) as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise PodcError.single("input.not-a-file", "expected a regular file", Pos(name),
                                       hint="name a YAML file; podc does not read pipes or devices")
            raw = _read_bounded(f, size, limits.max_bytes + 1)
        if len(raw) > limits.max_bytes:
            raise PodcError.single("input.too-large", f"file is more than {limits.max_bytes} bytes; podc reads at "
                                   f"most {limits.max_bytes}", Pos(name),
                                   hint="split the file, or check you named the right one")
    except FileNotFoundError:
        raise PodcError.single("input.missing-file", "file not found", Pos(name),
                               hint="check the path; relative paths are resolved from the file that names them") from None
    except IsADirectoryError:
        raise PodcError.single("input.not-a-file", "expected a file, found a directory", Pos(name)) from None
    except PermissionError:
        raise PodcError.single("input.unreadable", "permission denied", Pos(name)) from None
    except OSError as e:  # a symlink loop, a name too long, an I/O error: the path's problem, not podc's
        raise PodcError.single("input.unreadable", f"cannot read the file: {e.strerror or e}", Pos(name)) from None
    from podc._pipes import decode_text

    return decode_text(raw, name)


def _read_bounded(f, size: int, limit: int) -> bytes:
    """At most ``limit`` bytes of ``f``. The first read asks for the size the stat reported (plus
    one byte, to see the end): asking for ``limit`` at once would allocate the whole limit (32 MB)
    for every small file. Bounded even when the size lied (a file growing while it is read)."""
    parts: list[bytes] = []
    total = 0
    want = min(size + 1, limit)
    while total < limit:
        chunk = f.read(min(want, limit - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
        want = max(want, 1 << 16)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _nonblocking(path: str, flags: int) -> int:
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "something that is not a file"


