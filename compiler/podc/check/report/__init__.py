"""Reporters: a CheckResult as text, JSON, SARIF 2.1.0 or JUnit XML. Each ``render(result, ...)``
returns a string; the output is deterministic for the same inputs."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["FORMATS", "render", "relative_path", "repo_root"]

FORMATS = ("text", "json", "sarif", "junit")


def render(fmt: str, result, *, color: bool = False, base: str | None = None) -> str:
    if fmt == "json":
        from podc.check.report.json import render as r
    elif fmt == "sarif":
        from podc.check.report.sarif import render as r
        return r(result, root=base or repo_root())
    elif fmt == "junit":
        from podc.check.report.junit import render as r
    else:
        from podc.check.report.text import render as r
        return r(result, color=color, base=base)
    return r(result, base=base)


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
