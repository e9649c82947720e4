"""Reporters: a CheckResult as text, JSON, SARIF 2.1.0 or JUnit XML. Each ``render(result, ...)``
returns a string; the output is deterministic for the same inputs."""

from __future__ import annotations

from podc.check.report.paths import relative_path, repo_root

__all__ = ["FORMATS", "render", "relative_path", "repo_root"]

FORMATS = ("text", "json", "sarif", "junit")


def render(fmt: str, result, *, color: bool = False, base: str | None = None, show_suppressed: bool = False) -> str:
    if fmt == "json":
        from podc.check.report.json import render as r
    elif fmt == "sarif":
        from podc.check.report.sarif import render as r
        return r(result, root=base or repo_root())
    elif fmt == "junit":
        from podc.check.report.junit import render as r
    else:
        from podc.check.report.text import render as r
        return r(result, color=color, base=base, show_suppressed=show_suppressed)
    return r(result, base=base)
