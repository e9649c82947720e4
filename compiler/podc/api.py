"""The library API: compile, check and explain, composed from the pipeline's stages.

The compiler (:mod:`podc.pipeline`) knows nothing of policies and the checker
(:mod:`podc.check`) nothing of how layers are found; this module is where the two meet, for the
library (``podc.compile_project(..., check=True)``, ``podc.check_project``) and for the CLI.
Nothing here imports ``kubernetes`` or ``dagster``.
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Sequence

from podc._gcpause import gc_paused
from podc.errors import PodcError
from podc.pipeline import CompileResult, LayerInput, compile_layers, compile_loaded as _compile_loaded, load_project
from podc.project.layers import LayerCache
from podc.project.loader import Project

__all__ = ["compile_project", "compile_loaded", "compile_layers", "check_project", "check_manifests",
           "load_project", "CompileResult"]


def compile_project(path: "str | os.PathLike | Project" = ".", profile: str | None = None,
                    targets: Iterable[str] | None = None, extra_layers: Sequence[LayerInput] = (),
                    check: bool = False) -> CompileResult:
    """Compile the targets of the project at ``path`` (a folder holding podc.yaml, the file, or a
    :class:`~podc.project.Project` from :func:`load_project`).

    ``profile`` defaults to the project's ``defaultProfile``; ``targets`` to all of them;
    ``extra_layers`` are applied last to every target. With ``check=True`` the project's policies
    run on the compiled Jobs and their findings join ``CompileResult.diagnostics`` (located at
    the layer lines; errors there mean the compile failed the gate). Bad input raises
    :class:`~podc.errors.PodcError` with every diagnostic of the run.
    """
    with gc_paused():  # one pause for load + compile + check: see podc._gcpause on large pauses
        project = path if isinstance(path, Project) else load_project(path)
        return compile_loaded(project, profile, targets, extra_layers, check=check)


def compile_loaded(project: Project, profile: str | None = None, targets: Iterable[str] | None = None,
                   extra_layers: Sequence[LayerInput] = (), check: bool = False,
                   cache: LayerCache | None = None, policies: bool = True) -> CompileResult:
    """:func:`compile_project` for a loaded project, optionally reusing a run's layer cache.

    ``check=True, policies=False`` is ``podc compile --no-policy``: the policy packs are skipped,
    the Kubernetes schema and API-server rules still run and their errors fail the compile."""
    result = _compile_loaded(project, profile, targets, extra_layers, cache=cache)
    if check:
        from podc.check.projects import check_compiled

        found = check_compiled(result.jobs, project, result.layers, policies=policies, profile=result.profile)
        result.diagnostics = sorted([*result.diagnostics, *found], key=lambda d: d.sort_key())
    return result


def check_project(path: "str | os.PathLike | Project" = ".", profile: str | None = None,
                  targets: list[str] | None = None, cli: Any = None):
    """Compile a project in memory and check every target: a
    :class:`~podc.check.engine.CheckResult` (documents with their violations, notices,
    ``failed``). Raises ``PodcError`` on input errors; the compiler's warnings become notices."""
    from podc.check.projects import check_jobs
    from podc.errors import Diagnostics

    with gc_paused():
        project = path if isinstance(path, Project) else load_project(path)
        result = _compile_loaded(project, profile, targets)
    errors = [d for d in result.diagnostics if d.severity == "error"]
    if errors:
        raise PodcError(errors)
    return check_jobs(result.jobs, project, cli, Diagnostics(list(result.diagnostics)), layers=result.layers,
                      profile=result.profile)


def check_manifests(paths: Sequence[str], *, pss: str = "restricted", kubernetes_version: str | None = None,
                    policy_files: Sequence[str] = (), fail_on: str = "error"):
    """Check Kubernetes manifest files (Jobs, Pods, CronJobs, …) against the schema, the
    API-server rules, Pod Security ``pss`` and the best practices, plus custom policy files.
    Returns a :class:`~podc.check.engine.CheckResult`; raises ``PodcError`` on unreadable input."""
    from podc.check.custom import load_policy_files
    from podc.check.engine import CheckOptions, check_manifests as _check
    from podc.errors import Diagnostics

    diags = Diagnostics()
    custom = load_policy_files(list(policy_files), diags)
    diags.raise_if_errors()
    return _check(list(paths), CheckOptions(pss=pss, kubernetes_version=kubernetes_version, custom=custom,
                                            fail_on=fail_on))
