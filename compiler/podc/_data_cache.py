"""An on-disk cache for what podc derives from its own shipped data (compiled schema predicates,
parsed policy packs), so a short ``podc compile`` does not rebuild them on every run.

An entry is named by a SHA-256 over everything its value depends on: the bytes of the data
files, the source of the code that derives it, podc's version and the Python bytecode tag.
A changed input is a different name, so a stale entry is never read. The file holds a digest of
its payload, checked on every read; a missing, truncated, corrupt or unreadable entry is simply
rebuilt, and a folder that cannot be written is skipped. The cache can never change an output:
a value is the same whether it was built now or read back (``marshal`` keeps order and types).

Folder: ``$PODC_CACHE_DIR``, else ``$XDG_CACHE_HOME/podc``, else ``~/.cache/podc``; an empty
``PODC_CACHE_DIR`` turns the cache off.
"""

from __future__ import annotations

import marshal
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterable

from podc._digest import sha256


__all__ = ["cached", "cache_dir", "file_digest"]

_MAGIC = b"podc-cache-1\n"


def cache_dir() -> Path | None:
    """The cache folder, or None when caching is turned off."""
    explicit = os.environ.get("PODC_CACHE_DIR")
    if explicit is not None:
        return Path(explicit) if explicit.strip() else None
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        home = os.path.expanduser("~")
        if not os.path.isabs(home):  # no home folder known: never write into the current folder
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "podc"


def file_digest(path: Path | str) -> bytes:
    """SHA-256 of a file's bytes."""
    with open(path, "rb") as fh:
        return sha256(fh.read()).digest()


def cached(kind: str, depends_on: Iterable[bytes | str], build: Callable[[], Any]) -> Any:
    """``build()``'s value, from the cache when an entry for exactly ``depends_on`` exists.

    ``build`` must return plain data ``marshal`` can store (dicts, lists, tuples, sets, strings,
    numbers, code objects); anything else is simply not cached.
    """
    from podc._version import __version__

    key = sha256()
    for part in (kind, __version__, sys.implementation.cache_tag or "", *depends_on):
        data = part.encode() if isinstance(part, str) else part
        key.update(len(data).to_bytes(8, "little") + data)
    folder = cache_dir()
    path = folder / f"{kind}-{key.hexdigest()[:40]}.bin" if folder is not None else None
    if path is not None:
        value = _read(path)
        if value is not _MISSING:
            return value
    value = build()
    if path is not None:
        _write(path, value)
    return value


_MISSING = object()


def _read(path: Path) -> Any:
    try:
        with open(path, "rb") as fh:
            blob = fh.read()
    except OSError:
        return _MISSING
    head = len(_MAGIC) + 32
    if not blob.startswith(_MAGIC) or sha256(blob[head:]).digest() != blob[len(_MAGIC):head]:
        return _MISSING  # not ours, truncated or damaged: rebuild (and overwrite)
    try:
        return marshal.loads(blob[head:])
    except (EOFError, ValueError, TypeError):
        return _MISSING


def _write(path: Path, value: Any) -> None:
    """Best effort and atomic: a reader sees the old entry, the new one, or none."""
    try:
        payload = marshal.dumps(value)
    except ValueError:  # not plain data
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(_MAGIC + sha256(payload).digest() + payload)
        os.replace(tmp, path)
    except OSError:  # read-only, full or missing folder: run without the cache
        try:
            os.unlink(tmp)
        except OSError:
            pass
