"""The project stays inside its root: layer, ``file:``, ``extends`` and exception-file paths that
leave the project folder (absolute, ``../``, or a symlink pointing out) are refused, as kustomize's
load restrictor refuses them. ``podc.yaml`` can name more folders::

    allowedRoots:
      shared: ../platform/layers     # relative to podc.yaml, or absolute

Paths are compared after resolving symlinks, so a link inside the project to ``~/.aws`` is outside.
"""

from __future__ import annotations

import os
from pathlib import Path

from podc._record import record
from podc.errors import Diagnostics, Pos

__all__ = ["Roots", "PROJECT_ROOT"]

PROJECT_ROOT = "project"


@record(frozen=True)
class Roots:
    """The folders a project may read files from: its own, then the named ``allowedRoots``."""

    folders: tuple[tuple[str, str], ...]  # (name, real absolute path)

    @classmethod
    def of(cls, root: Path, allowed: dict[str, Path] | None = None) -> "Roots":
        named = sorted((allowed or {}).items())
        return cls(((PROJECT_ROOT, os.path.realpath(root)),
                    *((name, os.path.realpath(path)) for name, path in named)))

    def root_of(self, path: Path | str, real: str | None = None) -> str | None:
        """The name of the root holding ``path`` (after symlinks), or None when it is outside all.
        ``real``: ``os.path.realpath(path)`` when the caller has it already."""
        real = os.path.realpath(path) if real is None else real
        for name, folder in self.folders:
            if real == folder or real.startswith(folder.rstrip(os.sep) + os.sep):
                return name
        return None

    def admit(self, path: Path | str, pos: Pos, what: str, written: str | None, diags: Diagnostics,
              real: str | None = None) -> bool:
        """True when ``path`` is inside a root; else a located ``project.outside-root`` error."""
        if self.root_of(path, real) is not None:
            return True
        named = [name for name, _ in self.folders[1:]]
        shown = written or str(path)
        diags.add("project.outside-root", f"{what} {shown!r} is outside the project folder", pos,
                  hint="podc reads files only inside the project folder"
                       + (f" and the allowed roots ({', '.join(named)})" if named else "")
                       + "; to use another folder, name it in podc.yaml: `allowedRoots: {shared: ../shared}`")
        return False
