"""The ordered layers of one step's Job.

Order (first = lowest precedence; later layers win, keyed lists merge by key):

1. the project target's layers (``project``/``target``), or the ``layers`` files;
2. ``dagster:step-defaults`` — what dagster-k8s puts on every step Job and users may override:
   the ``app.kubernetes.io/*`` and ``dagster/*`` labels, and Dagster's env vars first in the env
   list (so ``$(DAGSTER_RUN_JOB_NAME)`` references resolve, as with dagster-k8s);
3. ``dagster:image`` — the step image: the executor's ``image``/``job_image``, else the
   K8sRunLauncher's ``job_image``, else the code location's image;
4. the dagster-k8s levels, merged as dagster-k8s merges them (:mod:`podc.dagster.k8s_config`):
   ``instance:run_launcher`` (when the instance uses dagster-k8s's K8sRunLauncher),
   ``code-location:container_context`` and ``run-config:execution.config`` (with ``step_timeout``);
5. ``run-config:execution.config.layer`` — the executor's inline podc ``layer``;
6. op tags: each ``podc/layers`` entry, then ``tag:dagster-k8s/config``, then
   ``run-config:execution.config.per_step_k8s_config.<op>``, then ``tag:podc/config``;
7. ``dagster:step`` — what Dagster needs to run the step: its arguments (``dagster api
   execute_step``), ``DAGSTER_COMPRESSED_EXECUTE_STEP_ARGS`` and the run/step env vars. It comes
   last so no layer can break the step's entry point.

Pure (no Dagster import): the step handler extracts plain values from Dagster and calls
:func:`step_layers`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from podc._record import field, record
from podc.dagster.config import ExecutorSettings
from podc.dagster.k8s_config import (K8sLevel, Translation, code_location_levels,
                                     container_context_level, run_launcher_level, translate_levels,
                                     user_config_level)
from podc.dagster.tags import TAG_CONFIG, TAG_LAYERS, TagLayers
from podc.errors import Diagnostic, Diagnostics, PodcError, Pos, did_you_mean
from podc.tree import MapNode, Origin, ScalarNode, SeqNode, from_plain

__all__ = ["StepLayer", "StepInfo", "StepPlan", "step_layers", "step_plan", "step_layer", "executor_level",
           "LAYER_STEP", "LAYER_DEFAULTS", "LAYER_IMAGE", "LAYER_EXECUTOR", "LAYER_EXECUTOR_INLINE",
           "LAYER_CODE_LOCATION", "LAYER_LAUNCHER", "dagster_labels"]

LAYER_DEFAULTS = "dagster:step-defaults"
LAYER_IMAGE = "dagster:image"
LAYER_LAUNCHER = "instance:run_launcher"
LAYER_CODE_LOCATION = "code-location:container_context"
LAYER_EXECUTOR = "run-config:execution.config"
LAYER_EXECUTOR_INLINE = "run-config:execution.config.layer"
LAYER_PER_STEP = "run-config:execution.config.per_step_k8s_config"
LAYER_STEP = "dagster:step"
STEP_KEY_FIELD_PATH = "metadata.annotations['podc.dev/step-key']"  # podc.runtime.naming
DEPLOYMENT_ENV = "DAGSTER_CLOUD_DEPLOYMENT_NAME"


@record(frozen=True)
class StepLayer:
    """One layer: ``content`` is a file path or an in-memory layer dict; ``name`` shows in
    provenance (``podc explain`` and the step's launch event)."""

    name: str
    content: Path | Mapping[str, Any] | Any  # Any: a podc.tree.MapNode (positioned)
    source: str | None = None  # what provenance shows as the "file" of an in-memory layer

    @property
    def is_file(self) -> bool:
        return isinstance(self.content, Path)


@record(frozen=True)
class StepInfo:
    """The plain facts about a step the layers are built from."""

    run_id: str
    job_name: str  # the Dagster job name
    step_key: str
    command: tuple[str, ...]  # entry point + api execute_step
    step_env: tuple[tuple[str, str], ...]  # from ExecuteStepArgs.get_command_env()
    code_location_image: str | None = None
    op_name: str | None = None  # per_step_k8s_config is keyed by op name (default: step key)
    code_location: str | None = None  # dagster/code-location label
    dagster_version: str | None = None  # app.kubernetes.io/version label
    container_context: Mapping[str, Any] | None = None  # the code location's container_context
    launcher_config: Mapping[str, Any] | None = None  # K8sRunLauncher config, when it is used
    set_command: bool = False  # the entry point goes to `command` (step_command/local_python)


@record
class StepPlan:
    layers: list[StepLayer]
    warnings: list[Diagnostic] = field(default_factory=list)
    namespace: str | None = None  # from job_namespace / container_context / run launcher
    translation: Translation | None = None


def _label(value: str) -> str:
    from podc.kube.names import sanitize_label_value

    return sanitize_label_value(value)


def dagster_labels(info: StepInfo) -> dict[str, str]:
    """The labels dagster-k8s puts on step Jobs and Pods, values made valid label values."""
    labels = {"app.kubernetes.io/name": "dagster", "app.kubernetes.io/instance": "dagster"}
    if info.dagster_version:
        labels["app.kubernetes.io/version"] = _label(info.dagster_version)
    labels.update({"app.kubernetes.io/part-of": "dagster", "app.kubernetes.io/component": "step_worker",
                   "dagster/job": _label(info.job_name), "dagster/op": _label(info.step_key),
                   "dagster/run-id": _label(info.run_id)})
    if info.code_location:
        labels["dagster/code-location"] = _label(info.code_location)
    return labels


def _step_env(info: StepInfo) -> list[dict[str, Any]]:
    # DAGSTER_RUN_STEP_KEY from the Pod's own annotation (set by podc.runtime to the exact step
    # key): no literal value, so nothing is truncated and secret-name heuristics see no "...KEY".
    return [*({"name": k, "value": v} for k, v in info.step_env),
            {"name": "DAGSTER_RUN_JOB_NAME", "value": info.job_name},
            {"name": "DAGSTER_RUN_STEP_KEY", "valueFrom": {"fieldRef": {"fieldPath": STEP_KEY_FIELD_PATH}}}]


def defaults_layer(info: StepInfo, translation: Translation | None) -> dict[str, Any]:
    """dagster-k8s's own additions to a step Job, overridable by every later layer."""
    labels = dagster_labels(info)
    env = _step_env(info)
    launcher = info.launcher_config or {}
    if launcher.get("dagster_home"):  # K8sRunLauncher: DAGSTER_HOME and the PG password
        env.append({"name": "DAGSTER_HOME", "value": launcher["dagster_home"]})
    if launcher.get("postgres_password_secret"):
        env.append({"name": "DAGSTER_PG_PASSWORD", "valueFrom": {"secretKeyRef": {
            "name": launcher["postgres_password_secret"], "key": "postgresql-password"}}})
    deployment = _deployment_name(translation)
    if deployment:
        labels["dagster/deployment-name"] = _label(deployment)
    return {"labels": labels, "env": env}


def _deployment_name(translation: Translation | None) -> str | None:
    container = translation.merged.section("container_config") if translation else None
    env = container.items.get("env") if container is not None else None
    for item in getattr(env, "items", ()):
        name, value = item.items.get("name"), item.items.get("value")
        if getattr(name, "value", None) == DEPLOYMENT_ENV and isinstance(value, ScalarNode):
            return str(value.value)
    return None


def step_layer(info: StepInfo, settings: ExecutorSettings,
               environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The layer Dagster needs; applied last. Like dagster-k8s, the step's arguments go to
    ``args`` (the image's entrypoint runs them) unless ``step_command``/``local_python`` name the
    entry point."""
    environ = os.environ if environ is None else environ
    env: dict[str, Any] = {}
    for name in settings.env_passthrough:
        if name in environ:
            env[name] = environ[name]
    for item in _step_env(info):
        env[item["name"]] = item.get("value") if "value" in item else {"valueFrom": item["valueFrom"]}
    if info.set_command:
        return {"command": list(info.command), "args": [], "env": env}
    return {"args": list(info.command), "env": env}


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


def _image_layer(info: StepInfo, settings: ExecutorSettings, launcher: K8sLevel | None) -> MapNode | None:
    """dagster-k8s: the executor's job_image, else the run launcher's, else the code location's
    image (a container_config.image at any dagster-k8s level still wins over this)."""
    if settings.image:
        origin = Origin(LAYER_EXECUTOR, Pos(f"{LAYER_EXECUTOR}.{settings.image_key}"))
        image = ScalarNode(settings.image, origin)
    elif launcher is not None and launcher.image is not None:
        image = launcher.image
    elif info.code_location_image:
        image = ScalarNode(info.code_location_image,
                           Origin("dagster:code-location", Pos("<code location: container image>")))
    else:
        return None
    return MapNode({"image": image}, Origin(LAYER_IMAGE, image.origin.pos))


def executor_level(settings: ExecutorSettings, environ: Mapping[str, str] | None = None) -> K8sLevel:
    """The executor's dagster-k8s keys as a level (read once per executor, like dagster-k8s's
    K8sContainerContext at executor start: ``NAME`` env vars take the run worker's values then).
    Raises :class:`PodcError`."""
    return container_context_level(settings.k8s, LAYER_EXECUTOR, raw_key="step_k8s_config",
                                   environ=os.environ if environ is None else environ)


def _k8s_levels(info: StepInfo, settings: ExecutorSettings, tags: TagLayers, environ: Mapping[str, str],
                diags: Diagnostics, executor: K8sLevel | None) -> tuple[K8sLevel | None, list[K8sLevel]]:
    launcher = None
    levels: list[K8sLevel] = []
    if info.launcher_config is not None:
        launcher = run_launcher_level(info.launcher_config, LAYER_LAUNCHER, environ=environ, diags=diags)
        levels.append(launcher)
    location = code_location_levels(info.container_context, LAYER_CODE_LOCATION, environ=environ,
                                    diags=diags)
    launcher_cfg = info.launcher_config or {}
    if location and (launcher_cfg.get("only_allow_user_defined_k8s_config_fields") is not None
                     or launcher_cfg.get("only_allow_user_defined_env_vars") is not None):
        from podc.dagster.k8s_allowlist import apply_allowlists

        warnings = Diagnostics()
        location = [apply_allowlists(level, launcher_cfg.get("only_allow_user_defined_k8s_config_fields"),
                                     launcher_cfg.get("only_allow_user_defined_env_vars"), warnings)
                    for level in location]
        diags.extend(w for w in warnings.items if w.severity == "error")
        location = [K8sLevel(lv.name, lv.config, lv.namespace, lv.image,
                             tuple(w for w in warnings.items if w.severity != "error")) for lv in location]
    levels.extend(location)
    levels.append(executor if executor is not None else container_context_level(
        settings.k8s, LAYER_EXECUTOR, raw_key="step_k8s_config", environ=environ, diags=diags))
    if tags.k8s_level is not None:
        levels.append(tags.k8s_level)
    op = info.op_name or info.step_key
    if op in settings.per_step_k8s_config:
        name = f"{LAYER_PER_STEP}.{op}"
        levels.append(user_config_level(settings.per_step_k8s_config[op], name, diags=diags))
    return launcher, levels


def step_plan(info: StepInfo, settings: ExecutorSettings, tags: TagLayers, *,
              project_layers: Mapping[str, Path] | None = None,
              environ: Mapping[str, str] | None = None,
              executor: K8sLevel | None = None) -> StepPlan:
    """Every layer of the step's Job after the project target's own layers (which the compiler
    adds itself when a project is used), in merge order. ``executor``: the level
    :func:`executor_level` read once (default: read now). Raises :class:`PodcError`."""
    environ = os.environ if environ is None else environ
    base_dir = Path(settings.base_dir or os.getcwd())
    diags = Diagnostics()
    launcher, levels = _k8s_levels(info, settings, tags, environ, diags, executor)
    diags.raise_if_errors()
    translation = translate_levels(levels, diags=diags)
    diags.raise_if_errors()
    defaults = defaults_layer(info, translation)
    k8s = {layer.name: _keep_step_defaults(layer.node, defaults) for layer in translation.layers}
    out: list[StepLayer] = []
    if not settings.uses_project:
        for entry in settings.layers:
            path = Path(entry)
            out.append(StepLayer(entry, path if path.is_absolute() else base_dir / path))
    out.append(StepLayer(LAYER_DEFAULTS, defaults, "<dagster-k8s step defaults: labels, Dagster env>"))
    image = _image_layer(info, settings, launcher)
    if image is not None:
        out.append(StepLayer(LAYER_IMAGE, image))
    for name in (LAYER_LAUNCHER, LAYER_CODE_LOCATION):
        if name in k8s:
            out.append(StepLayer(name, k8s[name]))
    executor = _executor_layer(k8s.get(LAYER_EXECUTOR), settings, diags)
    if executor is not None:
        out.append(StepLayer(LAYER_EXECUTOR, executor))
    if settings.layer:
        out.append(StepLayer(LAYER_EXECUTOR_INLINE, dict(settings.layer),
                             "<run config: execution.config.layer>"))
    for entry in tags.named:
        out.append(_resolve_named(entry, project_layers or {}, base_dir, info.step_key))
    for layer in translation.layers:
        if layer.name not in (LAYER_LAUNCHER, LAYER_CODE_LOCATION, LAYER_EXECUTOR):
            out.append(StepLayer(layer.name, k8s[layer.name]))
    if tags.inline:
        out.append(StepLayer(f"tag:{TAG_CONFIG}", tags.inline_node or tags.inline,
                             f"<op tag {TAG_CONFIG} on {info.step_key}>"))
    out.append(StepLayer(LAYER_STEP, step_layer(info, settings, environ),
                         "<dagster step layer: execute_step args, env>"))
    diags.raise_if_errors()
    namespace = translation.namespace.value if translation.namespace is not None else None
    return StepPlan(out, translation.warnings, namespace, translation)


def _keep_step_defaults(node: MapNode, defaults: Mapping[str, Any]) -> MapNode:
    """A SHALLOW level replaces a whole field; dagster-k8s adds its own env vars and labels when
    it builds the Job, after merging, so a replaced ``env``/labels field keeps them (env first,
    in dagster-k8s's order; user labels still override)."""
    items = dict(node.items)
    env = items.get("env")
    if isinstance(env, SeqNode) and env.directive == "replace":
        names = {getattr(i.items.get("name"), "value", None) for i in env.items if isinstance(i, MapNode)}
        origin = Origin(LAYER_DEFAULTS, Pos(f"<{LAYER_DEFAULTS}>"))
        kept = [from_plain(e, origin) for e in defaults["env"] if e["name"] not in names]
        items["env"] = SeqNode([*kept, *env.items], env.origin, "replace")
    for key in ("podLabels", "jobLabels"):
        labels = items.get(key)
        if isinstance(labels, MapNode) and labels.directive == "replace":
            origin = Origin(LAYER_DEFAULTS, Pos(f"<{LAYER_DEFAULTS}>"))
            kept_labels = {k: ScalarNode(v, origin) for k, v in defaults["labels"].items()
                           if k not in labels.items}
            items[key] = MapNode({**kept_labels, **labels.items}, labels.origin, labels.key_pos, "replace")
    if items == node.items:
        return node
    return MapNode(items, node.origin, node.key_pos, node.directive, node.overridden)


def _executor_layer(node: MapNode | None, settings: ExecutorSettings, diags: Diagnostics) -> MapNode | None:
    """The executor's dagster-k8s layer plus podc's ``step_timeout`` (Job activeDeadlineSeconds)."""
    if not settings.step_timeout:
        return node
    if node is not None and "activeDeadlineSeconds" in node.items:
        diags.add("dagster.bad-config", "step_timeout and step_k8s_config.job_spec_config."
                  "active_deadline_seconds both set", node.items["activeDeadlineSeconds"].origin.pos,
                  hint="keep one")
        return node
    origin = Origin(LAYER_EXECUTOR, Pos(f"{LAYER_EXECUTOR}.step_timeout"))
    items = dict(node.items) if node is not None else {}
    items["activeDeadlineSeconds"] = ScalarNode(int(settings.step_timeout), origin)
    return MapNode(items, node.origin if node is not None else origin,
                   {**(node.key_pos if node is not None else {}), "activeDeadlineSeconds": origin.pos})


def step_layers(info: StepInfo, settings: ExecutorSettings, tags: TagLayers, *,
                project_layers: Mapping[str, Path] | None = None,
                environ: Mapping[str, str] | None = None) -> list[StepLayer]:
    """The layers of :func:`step_plan`."""
    return step_plan(info, settings, tags, project_layers=project_layers, environ=environ).layers


def layer_names(layers: Sequence[StepLayer]) -> list[str]:
    return [layer.name for layer in layers]
