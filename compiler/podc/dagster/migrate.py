"""``podc migrate dagster-k8s``: a run config (and op tags) written for dagster-k8s's
``k8s_job_executor`` → podc layer files, each value commented with the key it came from.

The files are what ``podc_executor`` builds from the same configuration (the translation is
:mod:`podc.dagster.k8s_config`'s), so a team can move keys to native layers step by step:

* ``executor.yaml`` — the executor's flat keys and ``step_k8s_config``: use it as
  ``execution.config.layers: [executor.yaml]``;
* ``ops/<op>.yaml`` and ``ops/<op>.per-step.yaml`` — an op's ``dagster-k8s/config`` tag and its
  ``per_step_k8s_config`` entry: use them as the op's ``podc/layers`` tag, in that order;
* ``run_config.yaml`` — what stays in the run config (concurrency, retries, cluster access,
  ``env_vars`` read from the run worker, ``image``/``namespace``) plus ``layers``.

Pure apart from reading the input: no Dagster import; the Kubernetes client's model tables name
the fields.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from podc._record import field, record
from podc.dagster.k8s_config import (K8sLevel, container_context_level, translate_levels,
                                     user_config_level)
from podc.dagster.tags import dagster_k8s_tag_level
from podc.emit import to_yaml
from podc.errors import Diagnostic, Diagnostics, PodcError, Pos
from podc.tree import MapNode, Node, ScalarNode, SeqNode

__all__ = ["Migration", "migrate_dagster_k8s", "render_layer"]

RENAMED = {"job_namespace": "namespace", "job_image": "image"}
EXECUTOR_LAYER_KEYS = ("image_pull_policy", "image_pull_secrets", "service_account_name",
                       "env_config_maps", "env_secrets", "env_vars", "volume_mounts", "volumes",
                       "labels", "resources", "scheduler_name", "security_context", "step_k8s_config")


@record
class Migration:
    files: dict[str, str] = field(default_factory=dict)  # relative path -> YAML text
    warnings: list[Diagnostic] = field(default_factory=list)


def _executor_config(run_config: Mapping[str, Any], file: str) -> tuple[dict[str, Any], str]:
    execution = run_config.get("execution") if isinstance(run_config, Mapping) else None
    if not isinstance(execution, Mapping):
        raise PodcError.single("migrate.no-executor", "no `execution` section in the run config",
                               Pos(file), hint="expected execution: {config: {job_image: …, env_vars: …}}")
    if "config" in execution:
        return dict(execution.get("config") or {}), "execution.config"
    for name in ("k8s", "k8s_job_executor"):  # the older form: execution: {k8s: {config: …}}
        if isinstance(execution.get(name), Mapping):
            return dict(execution[name].get("config") or {}), f"execution.{name}.config"
    raise PodcError.single("migrate.no-executor", "`execution` has no `config`", Pos(file),
                           hint="expected execution: {config: {…}}")


def migrate_dagster_k8s(run_config: Mapping[str, Any], *, tags: Mapping[str, Any] | None = None,
                        positions: Mapping[str, Pos] | None = None, file: str = "<run config>",
                        layer_dir: str = ".") -> Migration:
    """The layer files and remaining run config for ``run_config`` (and ``tags``: op name → that
    op's tags). ``positions`` maps source key paths to file positions (for the comments)."""
    cfg, prefix = _executor_config(run_config, file)
    diags = Diagnostics()
    from_worker = [e for e in cfg.get("env_vars") or [] if isinstance(e, str) and "=" not in e]
    raw = cfg.get("step_k8s_config") or {}
    if str(getattr(raw.get("merge_behavior"), "value", raw.get("merge_behavior"))) == "SHALLOW" and \
            "env" in (raw.get("container_config") or {}):
        from_worker = []  # step_k8s_config's SHALLOW env replaces the executor's env_vars
    layer_cfg = {k: cfg[k] for k in EXECUTOR_LAYER_KEYS if k in cfg}
    executor = container_context_level(layer_cfg, "executor", prefix, raw_key="step_k8s_config",
                                       read_worker_env=False, diags=diags)
    per_step = cfg.get("per_step_k8s_config") or {}
    ops = sorted(set(tags or {}) | set(per_step))
    out = Migration()
    result = translate_levels([executor], diags=diags)
    diags.raise_if_errors()
    out.warnings.extend(result.warnings)
    executor_seen: dict[str, set] = {}
    image = None
    if result.layers and "image" in result.layers[0].node.items:
        # a layer file comes before the code location's image; the executor's `image` after it
        node = result.layers[0].node
        image = node.items["image"]
        result.layers[0].node = MapNode({k: v for k, v in node.items.items() if k != "image"},
                                        node.origin, node.key_pos)
    if result.layers and result.layers[0].node.items:
        out.files["executor.yaml"] = render_layer(result.layers[0].node, positions, _header(
            "the executor's dagster-k8s keys", "execution.config.layers: [executor.yaml]"),
            executor_seen)
    for op in ops:
        chain: list[K8sLevel] = [executor]
        op_tags = (tags or {}).get(op) or {}
        if not isinstance(op_tags, Mapping):
            raise PodcError.single("migrate.bad-tags", f"the tags of op {op!r} must be a mapping",
                                   (positions or {}).get(op, Pos(file)))
        if any(k.startswith("dagster-k8s/") for k in op_tags):
            chain.append(dagster_k8s_tag_level(op_tags, op, name=f"op:{op}", source=op))
        if op in per_step:
            chain.append(user_config_level(per_step[op], f"per-step:{op}",
                                           f"{prefix}.per_step_k8s_config.{op}", diags=diags))
        translated = translate_levels(chain, diags=diags)
        diags.raise_if_errors()
        seen = {k: set(v) for k, v in executor_seen.items()}
        out.warnings.extend(w for layer in translated.layers[1:] for w in layer.warnings)
        for layer in translated.layers:
            if layer.name == "executor":
                continue
            path = f"ops/{op}.yaml" if layer.name.startswith("op:") else f"ops/{op}.per-step.yaml"
            out.files[path] = render_layer(layer.node, positions, _header(
                f"op {op!r}: " + ("its dagster-k8s/config tag" if layer.name.startswith("op:")
                                  else "per_step_k8s_config." + op),
                f"@op(tags={{'podc/layers': '<the files of ops/{op}*.yaml, this order>'}})"), seen)
    if image is not None:
        cfg = {**cfg, "job_image": getattr(image, "value", None)}
    out.files["run_config.yaml"] = _remaining(cfg, from_worker, layer_dir, "executor.yaml" in out.files)
    return out


def _header(what: str, use: str) -> str:
    return (f"# podc layer generated by `podc migrate dagster-k8s` from {what}.\n"
            f"# Use it as {use}. Each value names the key it came from.\n")


def _remaining(cfg: Mapping[str, Any], from_worker: list[str], layer_dir: str, has_layer: bool) -> str:
    """Every key that is not a layer's (podc's own keys included), dagster-k8s's names of
    ``image``/``namespace`` renamed, and the executor layer file in ``layers``."""
    kept: dict[str, Any] = {}
    executor_file = str(Path(layer_dir) / "executor.yaml")
    note = ""
    if has_layer and cfg.get("project"):
        note = f"# Add {executor_file} to the project target's layers (first), or keep the keys.\n"
    elif has_layer:
        kept["layers"] = [*(cfg.get("layers") or ()), executor_file]
    for key, value in cfg.items():
        if key in EXECUTOR_LAYER_KEYS or key in ("per_step_k8s_config", "layers"):
            continue
        if key in RENAMED:
            if value is not None and not (key == "job_image" and "image" in cfg):
                kept[RENAMED[key]] = value
        else:
            kept[key] = value
    if from_worker:  # read in the run worker (podc_executor does the same); after the files' env
        kept["env_vars"] = from_worker
    text = to_yaml({"execution": {"config": kept}})
    return ("# The run config after the migration: what stays in execution.config.\n"
            "# `layers` come before a code location's container_context and the run launcher's\n"
            "# settings; keep those levels in mind if you use them.\n" + note + text)


# ---------------------------------------------------------------------------------------------
# a positioned layer as commented YAML

def _scalar(value: Any) -> str:
    return to_yaml(value).rstrip("\n") if not isinstance(value, (dict, list)) else to_yaml(value)


def _flow(node: Node) -> str:
    if isinstance(node, ScalarNode):
        text = _scalar(node.value)
        # inside {…} a ':' or '#' ends a plain scalar for libyaml-style readers: quote it
        if isinstance(node.value, str) and not text.startswith('"') and (":" in text or "#" in text):
            return json.dumps(node.value)
        return text
    if isinstance(node, MapNode):
        body = ", ".join(f"{_scalar(k)}: {_flow(v)}" for k, v in node.items.items())
        return f"{{{body}}}"
    return "[" + ", ".join(_flow(v) for v in node.items) + "]"


def _source(node: Node, positions: Mapping[str, Pos] | None) -> str:
    key = node.origin.pos.file or ""
    pos = (positions or {}).get(key)
    where = f" ({pos})" if pos is not None and pos.line else ""
    return f"  # {key}{where}" if key else ""


def _tag(node: Node) -> str:
    return " !replace" if getattr(node, "directive", None) == "replace" else ""


def _emit(node: MapNode, indent: str, out: list[str], positions: Mapping[str, Pos] | None,
          seen: dict[str, set], path: str = "") -> None:
    from podc.merge.keys import list_key_fn

    for key, child in node.items.items():
        where = f"{path}.{key}" if path else key
        head = f"{indent}{_scalar(key)}:{_tag(child)}"
        if isinstance(child, ScalarNode):
            out.append(f"{head} {_scalar(child.value)}{_source(child, positions)}")
        elif not child.items:
            out.append(f"{head} {'{}' if isinstance(child, MapNode) else '[]'}{_source(child, positions)}")
        elif isinstance(child, MapNode):
            out.append(head)
            _emit(child, indent + "  ", out, positions, seen, where)
        else:
            out.append(head)
            key_fn = list_key_fn(key, "podc")
            known = seen.setdefault(where, set())
            for item in child.items:
                # an item re-stating a lower file's item (same key) replaces it whole, as the
                # later duplicate wins in dagster-k8s's Job
                item_key = key_fn(item) if key_fn is not None else None
                replace = "!replace " if item_key is not None and item_key in known \
                    and isinstance(item, MapNode) and item.directive == "replace" else ""
                if item_key is not None:
                    known.add(item_key)
                out.append(f"{indent}  - {replace}{_flow(item)}{_source(item, positions)}")


def render_layer(node: MapNode, positions: Mapping[str, Pos] | None = None, header: str = "",
                 seen: dict[str, set] | None = None) -> str:
    """A positioned podc layer as YAML, each value commented with its source key. ``seen``
    (field path → item keys of earlier files, updated) decides which list items replace."""
    out: list[str] = []
    _emit(node, "", out, positions, {} if seen is None else seen)
    return header + "\n".join(out) + "\n"


def key_positions(node: Node, prefix: str = "") -> dict[str, Pos]:
    """Source key path (``execution.config.env_vars[2]``) → where it is written."""
    out: dict[str, Pos] = {}
    if isinstance(node, MapNode):
        for key, child in node.items.items():
            path = f"{prefix}.{key}" if prefix else key
            out[path] = node.key_pos.get(key, child.origin.pos)
            out.update(key_positions(child, path))
    elif isinstance(node, SeqNode):
        for i, child in enumerate(node.items):
            path = f"{prefix}[{i}]"
            out[path] = child.origin.pos
            out.update(key_positions(child, path))
    return out
