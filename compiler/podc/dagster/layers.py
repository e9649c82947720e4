"""The ordered layers of one step's Job.

Order (first = lowest precedence; later layers win, keyed lists merge by key):

1. the project target's layers (``project``/``target``), or the ``layers`` files;
2. ``dagster:code-location`` — the image the code location was deployed with, if any;
3. ``run-config:execution.config`` — the executor's ``image`` and ``step_timeout``;
4. ``run-config:execution.config.layer`` — the executor's inline ``layer``;
5. op tags: each ``podc/layers`` entry, then ``dagster-k8s/config`` (translated), then
   ``podc/config``;
6. ``dagster:step`` — what Dagster needs to run the step: the ``dagster api execute_step``
   command, its arguments in ``DAGSTER_COMPRESSED_EXECUTE_STEP_ARGS``, the run/step env vars and
   the ``dagster/*`` labels. It comes last so no layer can break the step's entry point.

Pure (no Dagster import): the step handler extracts plain values from Dagster and calls
:func:`step_layers`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from podc.dagster.config import ExecutorSettings
from podc.dagster.tags import TAG_CONFIG, TAG_DAGSTER_K8S, TAG_LAYERS, TagLayers
from podc.errors import Diagnostic, PodcError, Pos, did_you_mean

__all__ = ["StepLayer", "StepInfo", "step_layers", "step_layer", "LAYER_STEP", "LAYER_EXECUTOR",
           "LAYER_EXECUTOR_INLINE", "LAYER_CODE_LOCATION", "dagster_labels"]

LAYER_CODE_LOCATION = "dagster:code-location"
LAYER_EXECUTOR = "run-config:execution.config"
LAYER_EXECUTOR_INLINE = "run-config:execution.config.layer"
LAYER_STEP = "dagster:step"
STEP_KEY_FIELD_PATH = "metadata.annotations['podc.dev/step-key']"  # podc.runtime.naming


@dataclass(frozen=True)
class StepLayer:
    """One layer: ``content`` is a file path or an in-memory layer dict; ``name`` shows in
    provenance (``podc explain`` and the step's launch event)."""

    name: str
    content: Path | Mapping[str, Any] | Any  # Any: a podc.tree.MapNode (YAML tag, positioned)
    source: str | None = None  # what provenance shows as the "file" of an in-memory layer

    @property
    def is_file(self) -> bool:
        return isinstance(self.content, Path)


@dataclass(frozen=True)
class StepInfo:
    """The plain facts about a step the layers are built from."""

    run_id: str
    job_name: str  # the Dagster job name
    step_key: str
    command: tuple[str, ...]  # entry point + api execute_step
    step_env: tuple[tuple[str, str], ...]  # from ExecuteStepArgs.get_command_env()
    code_location_image: str | None = None


def _label(value: str) -> str:
    try:
        from podc.kube.names import sanitize_label_value
    except ImportError:  # pragma: no cover - kube helper missing
        from podc.runtime.naming import label_value as sanitize_label_value
    return sanitize_label_value(value)


def dagster_labels(info: StepInfo) -> dict[str, str]:
    """The labels dagster-k8s puts on step Jobs, sanitised to valid label values."""
    return {"dagster/job": _label(info.job_name), "dagster/op": _label(info.step_key),
            "dagster/run-id": _label(info.run_id)}


def step_layer(info: StepInfo, settings: ExecutorSettings,
               environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The layer Dagster needs; applied last."""
    environ = os.environ if environ is None else environ
    env: dict[str, Any] = {}
    for name in settings.env_passthrough:
        if name in environ:
            env[name] = environ[name]
    env.update(dict(info.step_env))
    env["DAGSTER_RUN_JOB_NAME"] = info.job_name
    # From the Pod's own annotation (set by podc.runtime to the exact step key): no literal value,
    # so secret-name heuristics ("...KEY") have nothing to flag, and the value is never truncated.
    env["DAGSTER_RUN_STEP_KEY"] = {"fieldRef": {"fieldPath": STEP_KEY_FIELD_PATH}}
    labels = dagster_labels(info)
    return {"command": list(info.command), "args": [], "env": env, "labels": labels}


def _resolve_named(entry: str, project_layers: Mapping[str, Path], base_dir: Path,
                   step_key: str) -> StepLayer:
    if entry in project_layers:
        return StepLayer(entry, Path(project_layers[entry]))
    path = Path(entry)
    if not path.is_absolute():
        path = base_dir / path
    if path.is_file():
        return StepLayer(entry, path)
    guess = did_you_mean(entry, list(project_layers))
    known = ", ".join(sorted(project_layers)) or "(the executor has no project)"
    raise PodcError([Diagnostic(
        "dagster.unknown-layer",
        f"op tag {TAG_LAYERS!r} on step {step_key!r}: {entry!r} is neither a project layer nor a "
        f"file under {base_dir}",
        Pos(f"<op tag {TAG_LAYERS} on {step_key}>", 1, 1),
        hint=f"did you mean {guess!r}?" if guess else f"project layers: {known}")])


def step_layers(info: StepInfo, settings: ExecutorSettings, tags: TagLayers, *,
                project_layers: Mapping[str, Path] | None = None,
                environ: Mapping[str, str] | None = None) -> list[StepLayer]:
    """Every layer of the step's Job after the project target's own layers (which the compiler
    adds itself when a project is used), in merge order."""
    base_dir = Path(settings.base_dir or os.getcwd())
    out: list[StepLayer] = []
    if not settings.uses_project:
        for entry in settings.layers:
            path = Path(entry)
            out.append(StepLayer(entry, path if path.is_absolute() else base_dir / path))
    if info.code_location_image:
        out.append(StepLayer(LAYER_CODE_LOCATION, {"image": info.code_location_image},
                             "<code location: container image>"))
    executor: dict[str, Any] = {}
    if settings.image:
        executor["image"] = settings.image
    if settings.step_timeout:
        executor["activeDeadlineSeconds"] = int(settings.step_timeout)
    if executor:
        out.append(StepLayer(LAYER_EXECUTOR, executor, "<run config: execution.config>"))
    if settings.layer:
        out.append(StepLayer(LAYER_EXECUTOR_INLINE, dict(settings.layer),
                             "<run config: execution.config.layer>"))
    for entry in tags.named:
        out.append(_resolve_named(entry, project_layers or {}, base_dir, info.step_key))
    if tags.migrated:
        out.append(StepLayer(f"tag:{TAG_DAGSTER_K8S}", tags.migrated,
                             f"<op tag {TAG_DAGSTER_K8S} on {info.step_key}>"))
    if tags.inline:
        out.append(StepLayer(f"tag:{TAG_CONFIG}", tags.inline_node or tags.inline,
                             f"<op tag {TAG_CONFIG} on {info.step_key}>"))
    out.append(StepLayer(LAYER_STEP, step_layer(info, settings, environ),
                         "<dagster step layer: execute_step command, env, labels>"))
    return out


def layer_names(layers: Sequence[StepLayer]) -> list[str]:
    return [layer.name for layer in layers]
