"""Translate dagster-k8s's ``dagster-k8s/config`` op tag into one podc layer.

dagster-k8s accepts Kubernetes fields in snake_case or camelCase under ``container_config``,
``pod_spec_config``, ``pod_template_spec_metadata``, ``job_config``, ``job_metadata`` and
``job_spec_config``. This module camel-cases them with the Kubernetes client's own model tables
(so ``run_as_user`` inside ``security_context`` is converted, while label keys such as
``team_name`` are left alone) and maps them onto podc fields:

* friendly fields where podc has one, so podc's keyed merge applies: ``env`` (plain values),
  ``tolerations`` (accumulate), ``resources``, ``nodeSelector``, labels, annotations, ...;
* ``raw`` fragments for everything else (``raw.container``, ``raw.podSpec``, ``raw.jobSpec``),
  which merge like a strategic merge patch — still keyed by name for env, volumes, containers,
  and by mount path for volume mounts.

Whatever podc will not honour (the container name, Job/Pod names, ``merge_behavior: SHALLOW``,
unknown fields) is dropped with a warning that names the key. Where dagster-k8s would append a
second ``FOO`` env var or a second volume of the same name, podc's keyed merge yields one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping

from podc.errors import Diagnostic, PodcError, Pos

__all__ = ["Translation", "translate_dagster_k8s_config", "camelize"]

_SECTIONS = ("container_config", "pod_template_spec_metadata", "pod_spec_config", "job_config",
             "job_metadata", "job_spec_config", "merge_behavior")
_CAMEL_SECTIONS = {"containerConfig": "container_config",
                   "podTemplateSpecMetadata": "pod_template_spec_metadata",
                   "podSpecConfig": "pod_spec_config", "jobConfig": "job_config",
                   "jobMetadata": "job_metadata", "jobSpecConfig": "job_spec_config",
                   "mergeBehavior": "merge_behavior"}

# podc friendly field ← Kubernetes container field
_CONTAINER_FRIENDLY = ("image", "command", "args", "envFrom", "resources", "securityContext",
                       "imagePullPolicy")
# podc friendly field ← Kubernetes pod spec field
_POD_FRIENDLY = {"nodeSelector": "nodeSelector", "tolerations": "tolerations",
                 "affinity": "affinity", "serviceAccountName": "serviceAccountName",
                 "securityContext": "podSecurityContext", "imagePullSecrets": "imagePullSecrets"}
_JOB_SPEC_FRIENDLY = ("backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished")
_NAME_FIELDS = ("name", "namespace", "generateName", "uid", "resourceVersion", "ownerReferences",
                "finalizers", "creationTimestamp", "deletionTimestamp", "managedFields",
                "selfLink", "generation", "deletionGracePeriodSeconds")


@dataclass
class Translation:
    layer: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# snake_case / camelCase → camelCase, driven by the Kubernetes client's model tables

@lru_cache(maxsize=None)
def _model(name: str) -> Any:
    import kubernetes.client as k8s

    return getattr(k8s, name, None)


_LIST = re.compile(r"^(?:List|list)\[(.+)\]$")
_DICT = re.compile(r"^(?:Dict\[str, ?|dict\(str, ?)(.+)[\])]$")


def camelize(model_name: str, value: Any, path: str, warnings: list[str]) -> Any:
    """``value`` (a dict for ``model_name``, e.g. ``V1Container``) with every field key in
    camelCase. Free-form maps (labels, limits, nodeSelector) keep their keys. Unknown fields are
    dropped with a warning (dagster-k8s rejects them too)."""
    list_match = _LIST.match(model_name)
    if list_match:
        if not isinstance(value, list):
            return value
        return [camelize(list_match.group(1), v, f"{path}[{i}]", warnings)
                for i, v in enumerate(value)]
    dict_match = _DICT.match(model_name)
    if dict_match:
        if not isinstance(value, Mapping):
            return value
        return {k: camelize(dict_match.group(1), v, f"{path}.{k}", warnings) for k, v in value.items()}
    model = _model(model_name) if model_name.startswith("V") else None
    if model is None or not isinstance(value, Mapping):
        return value
    types: dict[str, str] = model.openapi_types
    attrs: dict[str, str] = model.attribute_map
    by_camel = {camel: snake for snake, camel in attrs.items()}
    out: dict[str, Any] = {}
    for key, item in value.items():
        snake = key if key in attrs else by_camel.get(key)
        if snake is None:
            warnings.append(f"{path}.{key}: not a field of {model_name}; ignored")
            continue
        out[attrs[snake]] = camelize(types[snake], item, f"{path}.{attrs[snake]}", warnings)
    return out


# ---------------------------------------------------------------------------------------------

def _bad_tag(step_key: str, message: str) -> PodcError:
    return PodcError([Diagnostic(code="dagster.bad-tag",
                                 message=f"op tag 'dagster-k8s/config' on step {step_key!r}: {message}",
                                 pos=Pos(f"<op tag dagster-k8s/config on {step_key}>", 1, 1),
                                 hint='e.g. {"container_config": {"resources": {"limits": '
                                      '{"memory": "1Gi"}}}}')])


def _metadata(meta: Mapping[str, Any], where: str, labels_key: str, annotations_key: str,
              layer: dict[str, Any], warnings: list[str]) -> None:
    for key, value in meta.items():
        if key == "labels":
            layer.setdefault(labels_key, {}).update(value or {})
        elif key == "annotations":
            layer.setdefault(annotations_key, {}).update(value or {})
        elif key in _NAME_FIELDS:
            warnings.append(f"{where}.{key}: podc names Jobs and Pods from the run id and step key "
                            "(idempotent submission); ignored")
        else:
            warnings.append(f"{where}.{key}: not supported in podc; ignored")


def _container(cfg: Mapping[str, Any], layer: dict[str, Any], warnings: list[str]) -> None:
    raw: dict[str, Any] = {}
    for key, value in cfg.items():
        if key == "name":
            warnings.append(f"container_config.name: podc's step container is always 'main' "
                            f"(not {value!r}); ignored")
        elif key == "env":
            _env(value or [], layer, raw, warnings)
        elif key in _CONTAINER_FRIENDLY:
            layer[key] = value
        else:
            raw[key] = value
    if raw:
        layer.setdefault("raw", {})["container"] = raw


def _env(items: list[Any], layer: dict[str, Any], raw: dict[str, Any], warnings: list[str]) -> None:
    plain: dict[str, str] = {}
    referenced: dict[str, dict[str, Any]] = {}
    for item in items:
        if not isinstance(item, Mapping) or "name" not in item:
            warnings.append(f"container_config.env: entry {item!r} has no name; ignored")
            continue
        name = item["name"]
        if name in plain or name in referenced:
            warnings.append(f"container_config.env: {name} is set twice; dagster-k8s would emit two "
                            f"{name} entries, podc keeps the last one")
            plain.pop(name, None)
            referenced.pop(name, None)
        if item.get("valueFrom") is not None:
            referenced[name] = dict(item)
        else:
            value = item.get("value")
            plain[name] = "" if value is None else value
    if plain:
        layer["env"] = plain
    if referenced:
        raw["env"] = list(referenced.values())


def _pod_spec(cfg: Mapping[str, Any], layer: dict[str, Any], warnings: list[str]) -> None:
    raw: dict[str, Any] = {}
    for key, value in cfg.items():
        if key in _POD_FRIENDLY:
            if key == "imagePullSecrets" and isinstance(value, list) and all(
                    isinstance(v, Mapping) and set(v) == {"name"} for v in value):
                value = [v["name"] for v in value]
            layer[_POD_FRIENDLY[key]] = value
        elif key == "volumes":
            raw["volumes"] = _dedupe_by_name(value or [], "pod_spec_config.volumes", warnings)
        else:
            raw[key] = value
    if raw:
        layer.setdefault("raw", {}).setdefault("podSpec", {}).update(raw)


def _dedupe_by_name(items: list[Any], where: str, warnings: list[str]) -> list[Any]:
    seen: dict[str, Any] = {}
    for item in items:
        name = item.get("name") if isinstance(item, Mapping) else None
        if name in seen:
            warnings.append(f"{where}: {name} is listed twice; dagster-k8s would emit both, "
                            "podc keeps the last one")
        seen[name] = item
    return list(seen.values())


def _job_spec(cfg: Mapping[str, Any], layer: dict[str, Any], warnings: list[str]) -> None:
    raw: dict[str, Any] = {}
    for key, value in cfg.items():
        if key in _JOB_SPEC_FRIENDLY:
            layer[key] = value
        elif key == "selector" or key == "manualSelector":
            warnings.append(f"job_spec_config.{key}: Job selectors are managed by Kubernetes; ignored")
        else:
            raw[key] = value
    if raw:
        layer.setdefault("raw", {}).setdefault("jobSpec", {}).update(raw)


def translate_dagster_k8s_config(value: Any, step_key: str = "?") -> Translation:
    """The podc layer equivalent to a ``dagster-k8s/config`` tag value (JSON text or dict)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise _bad_tag(step_key, f"invalid JSON: {exc.msg} at char {exc.pos}") from None
    if not isinstance(value, Mapping):
        raise _bad_tag(step_key, f"expected a mapping, got {type(value).__name__}")
    warnings: list[str] = []
    sections: dict[str, Any] = {}
    for key, item in value.items():
        name = _CAMEL_SECTIONS.get(key, key)
        if name not in _SECTIONS:
            warnings.append(f"{key}: not a dagster-k8s/config section; ignored")
        elif item is not None:
            if name != "merge_behavior" and not isinstance(item, Mapping):
                raise _bad_tag(step_key, f"{key} must be a mapping, got {type(item).__name__}")
            sections[name] = item
    layer: dict[str, Any] = {}
    behavior = sections.get("merge_behavior")
    if behavior is not None and str(behavior).upper() == "SHALLOW":
        warnings.append("merge_behavior: SHALLOW is not honoured: podc always merges keyed lists "
                        "by key (env by name, volumes by name); use '$patch: replace' in a podc "
                        "layer to replace a whole field")
    elif behavior is not None and str(behavior).upper() != "DEEP":
        warnings.append(f"merge_behavior: unknown value {behavior!r}; ignored")

    job_cfg = camelize("V1Job", sections.get("job_config") or {}, "job_config", warnings)
    for key, item in job_cfg.items():
        if key == "metadata":
            _metadata(item or {}, "job_config.metadata", "labels", "annotations", layer, warnings)
        elif key == "spec":
            spec = dict(item or {})
            template = spec.pop("template", None) or {}
            _job_spec(spec, layer, warnings)
            if template.get("metadata"):
                _metadata(template["metadata"], "job_config.spec.template.metadata", "podLabels",
                          "podAnnotations", layer, warnings)
            if template.get("spec"):
                _pod_spec(template["spec"], layer, warnings)
        elif key not in ("apiVersion", "kind"):
            warnings.append(f"job_config.{key}: not supported in podc; ignored")
    if "job_metadata" in sections:
        meta = camelize("V1ObjectMeta", sections["job_metadata"], "job_metadata", warnings)
        _metadata(meta, "job_metadata", "labels", "annotations", layer, warnings)
    if "job_spec_config" in sections:
        spec = dict(camelize("V1JobSpec", sections["job_spec_config"], "job_spec_config", warnings))
        template = spec.pop("template", None)
        if template:
            warnings.append("job_spec_config.template: use pod_spec_config / "
                            "pod_template_spec_metadata instead; ignored")
        _job_spec(spec, layer, warnings)
    if "pod_template_spec_metadata" in sections:
        meta = camelize("V1ObjectMeta", sections["pod_template_spec_metadata"],
                        "pod_template_spec_metadata", warnings)
        _metadata(meta, "pod_template_spec_metadata", "podLabels", "podAnnotations", layer, warnings)
    if "pod_spec_config" in sections:
        _pod_spec(camelize("V1PodSpec", sections["pod_spec_config"], "pod_spec_config", warnings),
                  layer, warnings)
    if "container_config" in sections:
        _container(camelize("V1Container", sections["container_config"], "container_config",
                            warnings), layer, warnings)
    return Translation(layer, warnings)
