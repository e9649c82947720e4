"""Paths as reports show them: relative to the folder the user ran podc in (or the repository)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["relative_path", "repo_root"]


def relative_path(file: str | None, base: str | None = None) -> str | None:
    """``file`` relative to ``base`` (default cwd) with '/' separators, when it lies inside it."""
    if not file:
        return file
    base = base or os.getcwd()
    try:
        rel = os.path.relpath(os.path.abspath(file), os.path.abspath(base))
    except ValueError:
        return Path(file).as_posix()
    if rel.startswith(".."):
        return Path(os.path.abspath(file)).as_posix()
    return Path(rel).as_posix()


def repo_root(start: str | None = None) -> str:
    """The nearest folder above ``start`` (cwd) holding ``.git``; else ``start`` itself."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return str(folder)
    return str(here)
