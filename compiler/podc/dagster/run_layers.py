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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Mapping

from podc.dagster.launcher_config import LauncherSettings
from podc.dagster.layers import LAYER_CODE_LOCATION, StepLayer, _resolve_named
from podc.dagster.tags import TAG_CONFIG, TAG_DAGSTER_K8S, TagLayers, layers_from_tags
from podc.errors import Diagnostic, PodcError, Pos
from podc.kube.names import sanitize_label_value

__all__ = ["RunInfo", "run_worker_layers", "run_tag_layers", "k8s_keys_layers",
           "container_context_namespace", "run_labels", "LAYER_LAUNCHER", "LAYER_RUN"]

LAYER_LAUNCHER = "dagster.yaml:run_launcher.config"
LAYER_LAUNCHER_INLINE = "dagster.yaml:run_launcher.config.layer"
LAYER_CONTEXT = "code-location:container_context"
LAYER_RUN = "dagster:run"
COMPONENT = "run_worker"
_PG_PASSWORD_KEY = "postgresql-password"  # the Secret key dagster-k8s reads


@dataclass(frozen=True)
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
# dagster-k8s keys (K8sRunLauncher config and container_context.k8s) → podc layers. The single
# place the translation is called from, so a fuller translation can replace it in one spot.

def _env_vars(items: Any, where: str, environ: Mapping[str, str]) -> list[dict[str, str]]:
    out = []
    for item in items or []:
        name, sep, value = str(item).partition("=")
        if not sep:
            if name not in environ:
                raise PodcError.single(
                    "dagster.bad-config", f"{where}.env_vars: {name!r} has no value and is not "
                    "set in the launcher's environment", Pos(where, 1, 1),
                    hint=f"write '{name}=value', or set {name} where the launcher runs")
            value = environ[name]
        out.append({"name": name, "value": value})
    return out


def _as_k8s_config(keys: Mapping[str, Any], where: str,
                   environ: Mapping[str, str]) -> dict[str, Any]:
    """Flat K8sRunLauncher/K8sContainerContext keys in ``dagster-k8s/config`` shape."""
    container: dict[str, Any] = {}
    pod: dict[str, Any] = {}
    for key in ("image_pull_policy", "resources", "security_context", "volume_mounts"):
        if keys.get(key):
            container[key] = keys[key]
    env = _env_vars(keys.get("env_vars"), where, environ) + list(keys.get("env") or [])
    if env:
        container["env"] = env
    env_from = [{"config_map_ref": {"name": n}} for n in keys.get("env_config_maps") or []]
    env_from += [{"secret_ref": {"name": n}} for n in keys.get("env_secrets") or []]
    if env_from:
        container["env_from"] = env_from
    for key in ("service_account_name", "scheduler_name", "image_pull_secrets", "volumes"):
        if keys.get(key):
            pod[key] = keys[key]
    out: dict[str, Any] = {}
    if container:
        out["container_config"] = container
    if pod:
        out["pod_spec_config"] = pod
    if keys.get("labels"):
        out["job_metadata"] = {"labels": dict(keys["labels"])}
        out["pod_template_spec_metadata"] = {"labels": dict(keys["labels"])}
    return out


def k8s_keys_layers(keys: Mapping[str, Any], name: str, where: str,
                    environ: Mapping[str, str] | None = None) -> tuple[list[StepLayer], list[str]]:
    """Layers (and translation warnings) for dagster-k8s keys: the flat keys first, then their
    ``run_k8s_config`` (it wins, as in dagster-k8s)."""
    from podc.dagster.migrate import translate_dagster_k8s_config

    environ = os.environ if environ is None else environ
    layers: list[StepLayer] = []
    warnings: list[str] = []
    sources = [(name, _as_k8s_config(keys, where, environ))]
    if keys.get("run_k8s_config"):
        sources.append((f"{name}.run_k8s_config", keys["run_k8s_config"]))
    for layer_name, config in sources:
        if not config:
            continue
        with _renamed_errors(("op tag 'dagster-k8s/config' on step '?'", where),
                             ("<op tag dagster-k8s/config on ?>", where)):
            translation = translate_dagster_k8s_config(config, "?")
        warnings += [f"{layer_name}: {w}" for w in translation.warnings]
        if translation.layer:
            layers.append(StepLayer(layer_name, translation.layer, f"<{layer_name}>"))
    return layers, warnings


# ---------------------------------------------------------------------------------------------

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


def run_tag_layers(tags: Mapping[str, str]) -> TagLayers:
    """The run's ``podc/layers``, ``podc/config`` and ``dagster-k8s/config`` tags."""
    with _renamed_errors(("op tag", "run tag"), (" on step 'run'", ""), (" on run>", ">")):
        result = layers_from_tags(tags, "run")
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
    out: list[StepLayer] = []
    warnings: list[str] = list(tags.warnings)
    if not settings.compile.uses_project:
        for entry in settings.compile.layers:
            path = Path(entry)
            out.append(StepLayer(entry, path if path.is_absolute() else base_dir / path))
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
    k8s, k8s_warnings = k8s_keys_layers(settings.k8s, f"{LAYER_LAUNCHER} (dagster-k8s keys)",
                                        f"<{LAYER_LAUNCHER}>", environ)
    out += k8s
    warnings += k8s_warnings
    if settings.compile.layer:
        out.append(StepLayer(LAYER_LAUNCHER_INLINE, dict(settings.compile.layer),
                             f"<{LAYER_LAUNCHER_INLINE}>"))
    if info.code_location_image:
        out.append(StepLayer(LAYER_CODE_LOCATION, {"image": info.code_location_image},
                             "<code location: container image>"))
    podc_ctx = _context_section(info, "podc")
    out += _named(podc_ctx.get("layers"), project_layers, base_dir,
                  f"{LAYER_CONTEXT}.podc.layers")
    k8s_ctx = {k: v for k, v in _context_section(info, "k8s").items()
               if k not in ("namespace", "server_k8s_config")}
    k8s, k8s_warnings = k8s_keys_layers(k8s_ctx, f"{LAYER_CONTEXT}.k8s",
                                        f"<{LAYER_CONTEXT}.k8s>", environ)
    out += k8s
    warnings += k8s_warnings
    if podc_ctx.get("layer"):
        out.append(StepLayer(f"{LAYER_CONTEXT}.podc.layer", dict(podc_ctx["layer"]),
                             f"<{LAYER_CONTEXT}.podc.layer>"))
    out += _named(tags.named, project_layers, base_dir, "run tag podc/layers")
    if tags.migrated:
        out.append(StepLayer(f"tag:{TAG_DAGSTER_K8S}", tags.migrated,
                             f"<run tag {TAG_DAGSTER_K8S}>"))
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
