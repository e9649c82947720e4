"""The ordered layers of one run worker Job (``PodcRunLauncher``).

Order (first = lowest precedence; later layers win, keyed lists merge by key):

1. the project target's layers (``project``/``target``), or the launcher's ``layers`` files;
2. ``dagster.yaml:run_launcher.config`` — ``image``/``job_image``, ``run_timeout``,
   ``dagster_home``, ``postgres_password_secret``;
3. ``dagster.yaml:run_launcher.config (dagster-k8s keys)`` and
   ``dagster.yaml:run_launcher.config.run_k8s_config`` — K8sRunLauncher keys, translated;
4. ``dagster.yaml:run_launcher.config.layer`` — the launcher's inline podc layer;
5. the code location: ``dagster:code-location`` (its image), then its ``container_context``:
   ``podc.layers`` entries, ``k8s`` (translated, as dagster-k8s reads it), ``podc.layer``;
6. run tags: each ``podc/layers`` entry, ``tag:dagster-k8s/config``, ``tag:podc/config``;
7. ``dagster:run`` — what Dagster needs: the ``dagster api execute_run``/``resume_run``
   command, its arguments, ``DAGSTER_RUN_JOB_NAME``, the ``dagster/*`` labels and
   ``backoffLimit: 0`` (a second run worker for the same run would fight the first; resuming
   is Dagster's run monitoring's job). Last, so no layer can break the entry point.

Pure (no Dagster import): the launcher extracts plain values and calls :func:`run_worker_layers`.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Iterator, Mapping

from podc._record import field, record, replace
from podc.dagster.config import ExecutorSettings
from podc.dagster.launcher_config import LauncherSettings
from podc.dagster.layers import StepLayer, _resolve_named
from podc.dagster.tags import (TAG_CONFIG, TAG_DAGSTER_K8S, TAG_DAGSTER_K8S_RESOURCES, TAG_LAYERS,
                               TagLayers, dagster_k8s_tag_level, layers_from_tags)
from podc.errors import PodcError, Pos
from podc.kube.names import sanitize_label_value

__all__ = ["RunInfo", "run_worker_layers", "run_tag_layers", "k8s_layers",
           "container_context_namespace", "run_labels", "LAYER_LAUNCHER", "LAYER_RUN"]

LAYER_LAUNCHER = "dagster.yaml:run_launcher.config"
LAYER_LAUNCHER_INLINE = "dagster.yaml:run_launcher.config.layer"
LAYER_CONTEXT = "code-location:container_context"
LAYER_RUN = "dagster:run"
LAYER_IMAGE = "dagster:code-location"  # the code location's image
COMPONENT = "run_worker"
_PG_PASSWORD_KEY = "postgresql-password"  # the Secret key dagster-k8s reads


@record(frozen=True)
class RunInfo:
    """The plain facts about a run that its worker's layers are built from."""

    run_id: str
    job_name: str
    command: tuple[str, ...]  # entry point + api execute_run|resume_run (+ JSON for resume_run)
    run_env: tuple[tuple[str, str], ...] = ()  # e.g. DAGSTER_COMPRESSED_EXECUTE_RUN_ARGS
    code_location_image: str | None = None
    location_name: str | None = None
    container_context: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)


def _rename(text: str | None, pairs: tuple[tuple[str, str], ...]) -> str | None:
    for old, new in pairs:
        text = text.replace(old, new) if text else text
    return text


@contextlib.contextmanager
def _renamed_errors(*pairs: tuple[str, str]) -> Iterator[None]:
    """Reuse the op-tag readers for run-level input while naming the right source."""
    try:
        yield
    except PodcError as err:
        raise PodcError([replace(d, message=_rename(d.message, pairs),
                                 pos=replace(d.pos, file=_rename(d.pos.file, pairs)))
                         for d in err.diagnostics]) from None


def run_labels(info: RunInfo) -> dict[str, str]:
    """The labels dagster-k8s puts on run worker Jobs, as valid label values."""
    labels = {"dagster/job": sanitize_label_value(info.job_name),
              "dagster/run-id": sanitize_label_value(info.run_id),
              "app.kubernetes.io/component": COMPONENT}
    if info.location_name:
        labels["dagster/code-location"] = sanitize_label_value(info.location_name)
    return labels


# ---------------------------------------------------------------------------------------------
# dagster-k8s configuration (K8sRunLauncher keys, container_context.k8s, the dagster-k8s/config
# run tag) → podc layers, through podc.dagster.k8s_config: the levels are merged the way
# dagster-k8s merges them (DEEP appends lists), one layer per level, every value positioned at
# its source key. The single place that translation is called from.

LAYER_LAUNCHER_K8S = f"{LAYER_LAUNCHER} (dagster-k8s keys)"
LAYER_TAG_K8S = f"tag:{TAG_DAGSTER_K8S}"


def k8s_layers(settings: LauncherSettings, info: RunInfo,
               environ: Mapping[str, str]) -> tuple[dict[str, list[StepLayer]], list[str]]:
    """The dagster-k8s levels of a run worker as podc layers, by where they go (``launcher``,
    ``code-location``, ``tag``), and the translation warnings, formatted."""
    from podc.dagster.k8s_config import (code_location_levels, container_context_level,
                                         translate_levels)
    from podc.errors import Diagnostics, format_diagnostics

    diags = Diagnostics()
    levels = []
    if settings.k8s:
        levels.append(container_context_level(dict(settings.k8s), LAYER_LAUNCHER_K8S,
                                              LAYER_LAUNCHER, environ=environ, diags=diags))
    ctx = {k: v for k, v in (info.container_context or {}).items() if k in ("env_vars", "k8s")}
    user = code_location_levels(ctx, f"{LAYER_CONTEXT}.k8s", source=LAYER_CONTEXT,
                                environ=environ, diags=diags)
    if TAG_DAGSTER_K8S in info.tags or TAG_DAGSTER_K8S_RESOURCES in info.tags:
        with _renamed_errors(("op tag", "run tag"), (" on step 'run'", "")):
            user.append(dagster_k8s_tag_level(info.tags, "run", name=LAYER_TAG_K8S,
                                              source="run-tag"))
    levels += _allowed(user, settings, diags)
    translation = translate_levels(levels, diags=diags)
    diags.raise_if_errors()
    where = {LAYER_LAUNCHER_K8S: "launcher", f"{LAYER_CONTEXT}.k8s": "code-location",
             LAYER_TAG_K8S: "tag"}
    out: dict[str, list[StepLayer]] = {"launcher": [], "code-location": [], "tag": []}
    warnings: list[str] = []
    for layer in translation.layers:
        out[where[layer.name]].append(StepLayer(layer.name, layer.node, f"<{layer.name}>"))
        if layer.warnings:
            warnings.append(format_diagnostics(layer.warnings))
    return out, warnings


# ---------------------------------------------------------------------------------------------

def _allowed(levels: list[Any], settings: LauncherSettings, diags: Any) -> list[Any]:
    """The user-defined levels (code location, run tags) checked against the launcher's
    allow-lists as dagster-k8s checks them: a field outside the list is an error, an env var
    outside it is dropped with a warning."""
    if settings.allow_fields is None and settings.allow_env_vars is None:
        return levels
    from podc.dagster.k8s_allowlist import apply_allowlists
    from podc.dagster.k8s_config import K8sLevel
    from podc.errors import Diagnostics

    out = []
    for level in levels:
        found = Diagnostics()
        level = apply_allowlists(level, settings.allow_fields, settings.allow_env_vars, found)
        diags.extend(d for d in found.items if d.severity == "error")
        out.append(K8sLevel(level.name, level.config, level.namespace, level.image,
                            (*level.diagnostics, *(d for d in found.items if d.severity != "error"))))
    return out


def _refuse_podc_layers_under_allowlist(info: RunInfo, settings: LauncherSettings) -> None:
    """podc layers from a code location or a run tag could set any field: with a field
    allow-list in force they are refused rather than let through."""
    if settings.allow_fields is None:
        return
    used = [f"container_context.podc.{k}" for k in ("layers", "layer")
            if _context_section(info, "podc").get(k)]
    used += [f"run tag {t}" for t in (TAG_LAYERS, TAG_CONFIG) if info.tags.get(t)]
    if used:
        raise PodcError.single(
            "dagster.k8s-allowlist", f"{', '.join(used)}: podc layers from code locations and "
            "run tags are not allowed while the run launcher sets "
            "only_allow_user_defined_k8s_config_fields", Pos(f"<{LAYER_LAUNCHER}>", 1, 1),
            hint="use the allowed dagster-k8s fields, or drop the allow-list and enforce the "
                 "limits with podc policies")


def _context_section(info: RunInfo, key: str) -> Mapping[str, Any]:
    value = (info.container_context or {}).get(key) or {}
    if not isinstance(value, Mapping):
        raise PodcError.single("dagster.bad-container-context",
                               f"container_context.{key} of code location "
                               f"{info.location_name!r} must be a mapping, got "
                               f"{type(value).__name__}", Pos(f"<{LAYER_CONTEXT}.{key}>", 1, 1),
                               hint="see docs/dagster.md, 'Run launcher'")
    return value


def container_context_namespace(info: RunInfo) -> str | None:
    """``container_context.podc.namespace``, else ``container_context.k8s.namespace``."""
    return _context_section(info, "podc").get("namespace") \
        or _context_section(info, "k8s").get("namespace")


def _named(entries: Any, project_layers: Mapping[str, Path], base_dir: Path,
           source: str) -> list[StepLayer]:
    if isinstance(entries, str):
        entries = [e.strip() for e in entries.split(",") if e.strip()]
    out = []
    with _renamed_errors(("op tag 'podc/layers' on step '?'", source),
                         ("<op tag podc/layers on ?>", f"<{source}>")):
        for entry in entries or []:
            out.append(_resolve_named(str(entry), project_layers, base_dir, "?"))
    return out


def settings_layer_files(settings: ExecutorSettings, base_dir: Path) -> list[StepLayer]:
    """The ``layers:`` files of a config without a project (a project's target brings its own)."""
    if settings.uses_project:
        return []
    return [StepLayer(entry, Path(entry) if Path(entry).is_absolute() else base_dir / entry)
            for entry in settings.layers]


def run_tag_layers(tags: Mapping[str, str]) -> TagLayers:
    """The run's ``podc/layers`` and ``podc/config`` tags (``dagster-k8s/config`` goes through
    :func:`k8s_layers` with the other dagster-k8s levels)."""
    own = {k: v for k, v in tags.items() if k in (TAG_LAYERS, TAG_CONFIG)}
    with _renamed_errors(("op tag", "run tag"), (" on step 'run'", ""), (" on run>", ">")):
        result = layers_from_tags(own, "run")
    if result.inline_node is not None:
        # Positions inside the tag text must name the run tag, not an op tag: read it again
        # (it parsed once already) under the right name.
        from podc.source import load_text

        result.inline_node = load_text(str(tags[TAG_CONFIG]).strip(),
                                       filename=f"<run tag {TAG_CONFIG}>",
                                       layer=f"tag:{TAG_CONFIG}")[0]
    return result


def run_worker_layers(info: RunInfo, settings: LauncherSettings, tags: TagLayers, *,
                      project_layers: Mapping[str, Path] | None = None,
                      environ: Mapping[str, str] | None = None) -> tuple[list[StepLayer], list[str]]:
    """Every layer of the run worker Job after the project target's own layers (the compiler
    adds those), in merge order, and the translation warnings."""
    environ = os.environ if environ is None else environ
    project_layers = project_layers or {}
    base_dir = Path(settings.compile.base_dir or os.getcwd())
    _refuse_podc_layers_under_allowlist(info, settings)
    out = settings_layer_files(settings.compile, base_dir)
    launcher: dict[str, Any] = {}
    if settings.compile.image:
        launcher["image"] = settings.compile.image
    if settings.run_timeout:
        launcher["activeDeadlineSeconds"] = int(settings.run_timeout)
    if settings.dagster_home:
        launcher.setdefault("env", {})["DAGSTER_HOME"] = settings.dagster_home
    if settings.postgres_password_secret:
        launcher.setdefault("env", {})["DAGSTER_PG_PASSWORD"] = {"secretKeyRef": {
            "name": settings.postgres_password_secret, "key": _PG_PASSWORD_KEY}}
    if launcher:
        out.append(StepLayer(LAYER_LAUNCHER, launcher, f"<{LAYER_LAUNCHER}>"))
    k8s, warnings = k8s_layers(settings, info, environ)
    out += k8s["launcher"]
    if settings.compile.layer:
        out.append(StepLayer(LAYER_LAUNCHER_INLINE, dict(settings.compile.layer),
                             f"<{LAYER_LAUNCHER_INLINE}>"))
    if info.code_location_image:
        out.append(StepLayer(LAYER_IMAGE, {"image": info.code_location_image},
                             "<code location: container image>"))
    podc_ctx = _context_section(info, "podc")
    out += _named(podc_ctx.get("layers"), project_layers, base_dir,
                  f"{LAYER_CONTEXT}.podc.layers")
    out += k8s["code-location"]
    if podc_ctx.get("layer"):
        out.append(StepLayer(f"{LAYER_CONTEXT}.podc.layer", dict(podc_ctx["layer"]),
                             f"<{LAYER_CONTEXT}.podc.layer>"))
    out += _named(tags.named, project_layers, base_dir, "run tag podc/layers")
    out += k8s["tag"]
    if tags.inline:
        out.append(StepLayer(f"tag:{TAG_CONFIG}", tags.inline_node or tags.inline,
                             f"<run tag {TAG_CONFIG}>"))
    out.append(StepLayer(LAYER_RUN, _run_layer(info, settings, environ),
                         "<dagster run layer: execute_run command, env, labels>"))
    return out, warnings


def _run_layer(info: RunInfo, settings: LauncherSettings,
               environ: Mapping[str, str]) -> dict[str, Any]:
    env: dict[str, Any] = {name: environ[name] for name in settings.compile.env_passthrough
                           if name in environ}
    env.update(dict(info.run_env))
    env["DAGSTER_RUN_JOB_NAME"] = info.job_name
    return {"command": list(info.command), "args": [], "env": env, "labels": run_labels(info),
            "backoffLimit": 0}
