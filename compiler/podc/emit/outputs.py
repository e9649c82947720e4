"""Safe writing of output folders.

The set of outputs is written all-or-nothing (all to temp files first, then renamed into place);
podc only replaces or removes files it generated (with the marker, or listed in
``.podc-manifest.json`` with the hash of their current bytes); stale outputs are removed; the
manifest is updated under a lock on the folder; files get mode 0666 minus the umask.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from podc._digest import sha256
from podc._record import field, record
from podc.emit.text import MARKER_PREFIX, to_json
from podc.errors import PodcError, Pos

__all__ = ["MANIFEST_NAME", "TEMP_PREFIX", "OutputPlan", "plan_outputs", "write_atomic", "apply_plan"]

MANIFEST_NAME = ".podc-manifest.json"
TEMP_PREFIX = ".podc-tmp-"


@record
class OutputPlan:
    """What writing an output folder would do. ``--check`` reports it; compile applies it."""

    out_dir: Path
    contents: dict[str, str]  # file name -> wanted text
    write: list[str] = field(default_factory=list)  # new or changed
    missing: list[str] = field(default_factory=list)  # subset of write: file does not exist
    remove: list[str] = field(default_factory=list)  # stale files podc generated earlier
    unchanged: list[str] = field(default_factory=list)
    owned: set[str] = field(default_factory=set)  # files of the folder podc may touch

    @property
    def up_to_date(self) -> bool:
        return not self.write and not self.remove


def _read_manifest(out_dir: Path) -> dict[str, str | None]:
    """The files podc generated in ``out_dir``: name -> sha256 of the text podc wrote (None in a
    manifest written before podc recorded hashes)."""
    try:
        data = json.loads((out_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
        files = data.get("files", [])
        hashes = data.get("sha256", {})
        if not isinstance(hashes, dict):
            hashes = {}
        return {f: (hashes.get(f) if isinstance(hashes.get(f), str) else None)
                for f in files if isinstance(f, str) and "/" not in f and "\\" not in f and not f.startswith(".")}
    except (OSError, ValueError, AttributeError):
        return {}


def _digest(data: bytes) -> str:
    return sha256(data).hexdigest()


def _generated(path: Path, recorded: dict[str, str | None]) -> bool:
    """Whether podc wrote the file now at ``path``: it carries the marker, or it is listed in the
    manifest with the hash of exactly its current bytes. A listed name whose file the user since
    replaced by their own (a stale entry) is not podc's any more."""
    if _has_marker(path):
        return True
    name = path.name
    if name not in recorded:
        return False
    want = recorded[name]
    if want is None:  # an old manifest without hashes: trust the list
        return True
    try:
        return _digest(path.read_bytes()) == want
    except OSError:
        return False


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:  # missing or unreadable: rewritten
        return None


def _has_marker(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(len(MARKER_PREFIX)).decode("utf-8", "replace") == MARKER_PREFIX
    except OSError:
        return False


def plan_outputs(out_dir: Path, contents: dict[str, str], *, prune: bool = True) -> OutputPlan:
    """Compare wanted files with the folder. Refuses (``PodcError``) to replace a file podc did not
    generate. ``prune=False`` keeps stale outputs (used when only some targets were compiled)."""
    plan = OutputPlan(out_dir, contents)
    if out_dir.exists() and not out_dir.is_dir():
        raise PodcError.single("output.not-a-folder", "the output path exists and is not a folder", Pos(str(out_dir)),
                               hint="choose another folder with --out, or `output:` in podc.yaml")
    recorded = _read_manifest(out_dir)
    plan.owned = set(recorded)
    for name in sorted(contents):
        path = out_dir / name
        try:
            current = path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            plan.write.append(name)
            plan.missing.append(name)
            continue
        except (OSError, UnicodeDecodeError):
            current = None
        if current == contents[name]:
            plan.unchanged.append(name)
        elif _generated(path, recorded):
            plan.write.append(name)
        else:
            raise PodcError.single(
                "output.not-generated", "refusing to overwrite a file podc did not generate", Pos(str(path)),
                hint="move the file away, or choose another output folder with --out")
        plan.owned.add(name)
    if prune and out_dir.is_dir():
        for entry in sorted(os.listdir(out_dir)):
            if entry in contents or entry == MANIFEST_NAME or not entry.endswith((".yaml", ".json")):
                continue
            path = out_dir / entry
            if path.is_file() and _generated(path, recorded):
                plan.remove.append(entry)
    return plan


def _write_temp(path: Path, data: bytes, *, exists: bool = True) -> Path:
    """A temp file next to ``path`` holding ``data``, mode 0666 minus the umask, or the mode of the
    file it will replace. A full disk fails here (``write`` reports it), before anything is
    replaced; no fsync, which would cost ~1 ms per output on a compile of 1,000 Jobs."""
    for attempt in range(100):
        tmp = path.parent / f"{TEMP_PREFIX}{path.name}.{os.getpid()}.{attempt}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:  # a leftover of a killed run, or a concurrent podc
            pass
    else:
        import tempfile  # only after 100 taken names: importing it costs every run ~3 ms

        fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
        tmp = Path(name)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        if exists:
            try:
                os.chmod(tmp, os.stat(path).st_mode & 0o7777)
            except FileNotFoundError:
                pass
    except BaseException:
        _unlink(tmp)
        raise
    return tmp


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def write_atomic(path: Path, text: str, *, exists: bool = True) -> None:
    """Write ``text`` to ``path`` so readers see the old file or the new one, never a torn one.

    The file gets mode 0666 minus the umask, like any new file; an existing file's mode is kept.
    ``exists=False`` skips looking (the caller knows the file is new)."""
    tmp = _write_temp(path, text.encode("utf-8"), exists=exists)
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise


@contextlib.contextmanager
def _folder_lock(folder: Path):
    """An exclusive ``flock`` on the output folder itself (no lock file) while its files and
    manifest change, so parallel runs (``--target a`` and ``--target b``) keep each other's
    manifest entries. Without ``fcntl`` (Windows) it does nothing."""
    try:
        import fcntl

        fd = os.open(folder, os.O_RDONLY)
    except (ImportError, OSError):
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def apply_plan(plan: OutputPlan) -> None:
    """Write the plan all-or-nothing: every new output is first written (and synced) to a temp
    file; only when all of them succeeded are they renamed into place, stale outputs removed and
    the manifest replaced. A failure before that (a full disk) leaves the folder as it was."""
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    missing = set(plan.missing)
    with _folder_lock(plan.out_dir):
        recorded = _read_manifest(plan.out_dir)  # again, under the lock: a concurrent run may have added files
        staged: list[tuple[Path, Path]] = []
        try:
            for name in plan.write:
                path = plan.out_dir / name
                staged.append((_write_temp(path, plan.contents[name].encode("utf-8"), exists=name not in missing),
                               path))
            kept = (set(recorded) | plan.owned) - set(plan.remove) - set(plan.contents)
            # entries whose file is gone or is no longer what podc wrote (the user's now) are dropped
            hashes = {name: recorded.get(name) for name in kept if _generated(plan.out_dir / name, recorded)}
            hashes.update((name, _digest(text.encode("utf-8"))) for name, text in plan.contents.items())
            manifest = to_json({"generator": "podc", "files": sorted(hashes),
                                "sha256": {k: v for k, v in sorted(hashes.items()) if v is not None}})
            manifest_path = plan.out_dir / MANIFEST_NAME
            if _read_text(manifest_path) != manifest:
                staged.append((_write_temp(manifest_path, manifest.encode("utf-8")), manifest_path))
        except BaseException:
            for tmp, _ in staged:
                _unlink(tmp)
            raise
        for done, (tmp, path) in enumerate(staged):
            try:
                os.replace(tmp, path)
            except BaseException:
                for left, _ in staged[done:]:
                    _unlink(left)
                raise
        for name in plan.remove:
            try:
                (plan.out_dir / name).unlink()
            except FileNotFoundError:
                pass
