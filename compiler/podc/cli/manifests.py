"""Reading the Job manifests ``podc submit`` is given: files, folders, ``-`` (standard input).

Everything goes through :mod:`podc.source`, the reader ``podc compile`` and ``podc check`` use:
same limits (size, depth, alias expansion), same located errors (``file:line:col``), every
problem of every file reported together. Pipes (``-``, a named pipe, ``<(podc compile …)``)
are read without ever blocking forever: podc gives up when nothing arrives for a while or the
command's deadline passes.
"""

from __future__ import annotations

import os
import stat
import sys
from typing import Any, Sequence

from podc._pipes import decode_text, is_pipe, read_pipe, read_pipe_path
from podc.errors import Diagnostics, PodcError, Pos

__all__ = ["load_manifests", "manifest_files"]

_SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "-"


def manifest_files(path: str) -> list[str]:
    """The manifest files of a folder: its ``.yaml``/``.yml``/``.json`` files, sorted, not
    recursive, hidden files (``.podc-manifest.json``) skipped: what ``podc compile`` writes."""
    names = sorted(n for n in os.listdir(path)
                   if n.endswith(_SUFFIXES) and not n.startswith(".")
                   and os.path.isfile(os.path.join(path, n)))
    if not names:
        raise PodcError.single("submit.empty-folder", "no .yaml, .yml or .json files in this folder",
                               Pos(path), hint="pass the folder `podc compile` wrote (`build/` by default)")
    return [os.path.join(path, n) for n in names]


def _read_stdin(limit: int, deadline: float | None) -> bytes:
    stream = sys.stdin
    if stream is None:
        raise PodcError.single("input.unreadable", "there is no standard input", Pos("<stdin>"))
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):  # replaced by a test or an embedding program
        data = stream.buffer.read(limit + 1) if hasattr(stream, "buffer") else stream.read(limit + 1)
        raw = data.encode("utf-8") if isinstance(data, str) else data
    else:
        if stat.S_ISREG(os.fstat(fd).st_mode):  # `< file`
            raw = stream.buffer.read(limit + 1)
        else:  # a pipe, or a terminal (then the user types: no idle limit)
            return read_pipe(fd, "<stdin>", limit, deadline, idle=not os.isatty(fd))
    if len(raw) > limit:
        raise PodcError.single("input.too-large", f"more than {limit} bytes; podc reads at most {limit}",
                               Pos("<stdin>"), hint="split the input")
    return raw


def _text_of(path: str, deadline: float | None) -> tuple[str, str]:
    """(display name, text) of one input."""
    from podc.source import Limits, read_text

    limit = Limits().max_bytes
    if path == STDIN:
        return "<stdin>", decode_text(_read_stdin(limit, deadline), "<stdin>")
    if is_pipe(path):  # honours the command's deadline (read_text bounds only idle time)
        return path, decode_text(read_pipe_path(path, limit, deadline), path)
    return path, read_text(path)


def load_manifests(paths: Sequence[str], *, deadline: float | None = None) -> list[tuple[Pos, dict[str, Any]]]:
    """Every Job document in ``paths`` (files, folders, ``-``) with its position, in order.
    Raises :class:`PodcError` listing every problem of every input."""
    from podc.source import load_text
    from podc.tree import MapNode, to_plain

    diags = Diagnostics()
    out: list[tuple[Pos, dict[str, Any]]] = []
    seen: dict[str, Pos] = {}
    inputs: list[str] = []
    for path in paths:
        if path != STDIN and os.path.isdir(path):
            try:
                inputs.extend(manifest_files(path))
            except PodcError as exc:
                diags.extend(exc.diagnostics)
            except OSError as exc:
                diags.add("input.unreadable", f"cannot list the folder: {exc.strerror or exc}", Pos(path))
        else:
            inputs.append(path)
    if inputs.count(STDIN) > 1:
        raise PodcError.single("submit.usage", "`-` (standard input) can be given once", Pos("<stdin>"))
    for path in inputs:
        try:
            name, text = _text_of(path, deadline)
            docs = load_text(text, name)
        except PodcError as exc:
            diags.extend(exc.diagnostics)
            continue
        for doc in docs:
            pos = doc.origin.pos
            data = to_plain(doc)
            if isinstance(data, dict) and data.get("kind") == "List" and isinstance(data.get("items"), list):
                items = doc.items["items"].items if isinstance(doc, MapNode) else []
                for node, item in zip(items, data["items"]):
                    _check_doc(item, node.origin.pos, diags, seen, out)
                continue
            _check_doc(data, pos, diags, seen, out)
    diags.raise_if_errors()
    if not out:
        where = Pos("<stdin>" if paths and paths[0] == STDIN else (paths[0] if paths else None))
        raise PodcError.single("submit.empty", "no Job documents in the given input", where,
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
