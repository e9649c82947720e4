"""Compile and policy-check one step's Job through the podc library API.

With a project: ``compile_project(project, profile, targets=[target], extra_layers=...)`` — the
target's layers first, then the step's layers. Without: ``compile_layers(layers)`` after podc's
secure defaults. In-memory layers become positioned trees named after their source
(``run-config:execution.config``, ``tag:podc/config``, ``dagster:step``), so provenance says
which of them set a value. Policy violations at ``error`` block the launch; warnings are
returned for the step's event log.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Mapping, Sequence

from podc._record import field, record
from podc.dagster.config import ExecutorSettings
from podc.dagster.layers import StepLayer
from podc.errors import Pos

__all__ = ["CompiledStep", "CompileSession", "compile_step", "check_step", "as_layer_input"]

_BLOCKING = {"error"}
LAYER_PULL_POLICY = "dagster:image-pull-policy"
DEFAULT_PULL_POLICY = "Always"  # dagster-k8s's DagsterK8sJobConfig default


@record
class CompiledStep:
    job: Any  # podc.render.CompiledJob
    layer_names: list[str]
    namespace: str | None
    warnings: list[str] = field(default_factory=list)  # policy warnings, formatted with positions
    blocking: list[str] = field(default_factory=list)  # policy errors, formatted with positions
    check_summary: str = "not checked"

    @property
    def manifest(self) -> dict[str, Any]:
        return self.job.manifest


def as_layer_input(layer: StepLayer) -> Any:
    """What the compiler API takes: a path, or a positioned tree named after the layer."""
    from podc.tree import MapNode, Origin, from_plain

    if isinstance(layer.content, Path):
        return layer.content
    if isinstance(layer.content, MapNode):
        return layer.content
    return from_plain(dict(layer.content), Origin(layer.name, Pos(layer.source or f"<{layer.name}>")))


def _format(v: Any) -> str:
    from podc.errors import Diagnostic, format_diagnostics

    if isinstance(v, Diagnostic):
        return format_diagnostics([v]).rstrip()
    where = f"{v.pos}: " if getattr(v, "pos", None) and v.pos.file else ""
    rule = f"[{v.policy}/{v.rule}] " if getattr(v, "policy", None) else ""
    hint = f" (hint: {v.hint})" if getattr(v, "hint", None) else ""
    return f"{where}{rule}{v.message}{hint}"


def check_step(job: Any, project: Any, layers: Any = None, profile: str | None = None
               ) -> tuple[list[str], list[str], str]:
    """(warnings, blocking errors, summary) from the policy checker; ``layers`` are the run's
    loaded layer files (their ``exceptions:``)."""
    from podc.check.projects import check_compiled

    violations = list(check_compiled([job], project, layers, profile=profile) or [])
    blocking = [_format(v) for v in violations if v.severity in _BLOCKING]
    warnings = [_format(v) for v in violations if v.severity not in _BLOCKING and v.severity != "info"]
    summary = (f"failed: {len(blocking)} error(s), {len(warnings)} warning(s)" if blocking
               else f"passed ({len(warnings)} warning(s))")
    return warnings, blocking, summary


class CompileSession:
    """Compiles the steps of one run: the project is read once and layer files are parsed once
    per run (a layer file edited mid-run does not change later steps of the same run)."""

    def __init__(self, settings: ExecutorSettings) -> None:
        self.settings = settings
        self._project: Any = None
        self._cache: Any = None
        self._lock = threading.Lock()

    @property
    def project(self) -> Any:
        if self._project is None and self.settings.project:
            from podc.project import LayerCache, load_project

            with self._lock:
                if self._project is None:
                    project = load_project(self.settings.project)
                    self._cache = LayerCache(project)
                    self._project = project
        return self._project

    def project_layers(self) -> dict[str, Path]:
        project = self.project
        return {name: ref.path for name, ref in project.layers.items()} if project else {}

    def namespace(self) -> str | None:
        project = self.project
        return self.settings.namespace or (project.namespace if project else None)

    def compile(self, layers: Sequence[StepLayer], job_name: str,
                settings: ExecutorSettings | None = None) -> CompiledStep:
        """Compile (and, unless disabled, check) the step's Job. Raises PodcError.

        Like dagster-k8s, the step container pulls ``Always`` when no layer sets
        ``imagePullPolicy`` (a re-pushed tag such as ``:main`` keeps being refreshed): the Job is
        then compiled once more with that value as a last layer, so provenance names it.
        """
        settings = settings or self.settings
        compiled = self._compile(layers, job_name, settings)
        if not _sets_pull_policy(compiled.manifest):
            layers = [*layers, StepLayer(LAYER_PULL_POLICY, {"imagePullPolicy": DEFAULT_PULL_POLICY},
                                         "<dagster-k8s default: Always when no layer sets imagePullPolicy>")]
            compiled = self._compile(layers, job_name, settings)
        return compiled

    def _compile(self, layers: Sequence[StepLayer], job_name: str,
                 settings: ExecutorSettings) -> CompiledStep:
        inputs = [as_layer_input(layer) for layer in layers]
        names = [layer.name for layer in layers]
        project = self.project
        profile = None
        if project is not None:
            from podc.pipeline import compile_loaded

            target = settings.target or _only_target(project)
            result = compile_loaded(project, settings.profile, [target], inputs, cache=self._cache)
            job, profile = result.jobs[0], result.profile
            names = [*_project_layer_names(project, target, profile), *names]
        else:
            from podc.pipeline import compile_layers

            job = compile_layers(inputs, name=job_name, namespace=settings.namespace,
                                 base_dir=settings.base_dir)
        namespace = settings.namespace or (job.manifest.get("metadata") or {}).get("namespace")
        compiled = CompiledStep(job, ["podc:defaults", *names], namespace)
        if settings.check_policies:
            loaded = self._cache.loaded() if self._cache is not None else None
            compiled.warnings, compiled.blocking, compiled.check_summary = check_step(job, project, loaded, profile)
        return compiled


def _sets_pull_policy(manifest: Mapping[str, Any]) -> bool:
    from podc.dagster.events import main_container

    return "imagePullPolicy" in main_container(manifest)


def compile_step(layers: Sequence[StepLayer], job_name: str,
                 settings: ExecutorSettings) -> CompiledStep:
    """One-off :meth:`CompileSession.compile` (reads the project each call)."""
    return CompileSession(settings).compile(layers, job_name)


def _only_target(project: Any) -> str:
    from podc.errors import PodcError

    if len(project.targets) == 1:
        return next(iter(project.targets))
    raise PodcError.single("dagster.no-target",
                           f"the project has {len(project.targets)} targets; the executor needs one",
                           Pos("<run config: execution.config>", 1, 1),
                           hint=f"set target: one of {', '.join(project.targets)}")


def _project_layer_names(project: Any, target_name: str, profile: str | None) -> list[str]:
    target = project.targets[target_name]
    refs = list(target.layers) + list(project.profiles.get(profile, []) if profile else [])
    if target.file:
        refs.append(target.file)
    names = [project.layer_name(ref.path) for ref in refs]
    if target.overrides is not None:
        names.append(f"{target_name}.overrides")
    if profile and profile in target.profiles:
        names.append(f"{target_name}.profiles.{profile}")
    return names


def plain_layers(layers: Sequence[StepLayer]) -> list[Mapping[str, Any] | Path]:
    return [layer.content for layer in layers]
