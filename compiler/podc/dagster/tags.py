"""Op tags → podc layers.

Three tags are read from a step's op tags:

* ``podc/layers`` — named project layers or layer files, comma-separated or a JSON list;
* ``podc/config`` — an inline podc layer, JSON or YAML text (or a dict: Dagster serialises
  non-string op tag values to JSON);
* ``dagster-k8s/config`` (and dagster-k8s's older ``dagster-k8s/resource_requirements``) —
  read as one dagster-k8s level by :mod:`podc.dagster.k8s_config`, so a project can switch
  executors without rewriting its ops.

A dict-valued tag reaches the executor as JSON with *sorted* keys (Dagster serialises non-string
tag values that way), so a ``podc/config`` ``env`` mapping loses its order: write ``env`` as a list
(``[{name: A, value: x}, …]``) or the tag as YAML/JSON text to keep it.

Pure: no Dagster import, so the logic is unit-testable without a run.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from podc._record import field, record
from podc.errors import Diagnostic, PodcError, Pos

__all__ = [
    "TAG_LAYERS",
    "TAG_CONFIG",
    "TAG_DAGSTER_K8S",
    "TagLayers",
    "parse_layers_tag",
    "parse_config_tag",
    "layers_from_tags",
    "dagster_k8s_tag_level",
]

TAG_LAYERS = "podc/layers"
TAG_CONFIG = "podc/config"
TAG_DAGSTER_K8S = "dagster-k8s/config"
TAG_DAGSTER_K8S_RESOURCES = "dagster-k8s/resource_requirements"  # dagster-k8s's older tag


@record
class TagLayers:
    """What a step's tags contribute, in merge order (after the executor config)."""

    named: list[str] = field(default_factory=list)  # podc/layers entries, as written
    k8s_level: Any = None  # K8sLevel read from dagster-k8s/config (+ resource_requirements)
    inline: dict[str, Any] | None = None  # podc/config
    inline_node: Any = None  # podc/config written as YAML: the positioned tree (for provenance)
    inline_was_dict: bool = False  # podc/config given as a dict: Dagster sorted its keys


def _tag_error(tag: str, step_key: str, message: str, hint: str) -> PodcError:
    return PodcError([Diagnostic(code="dagster.bad-tag",
                                 message=f"op tag {tag!r} on step {step_key!r}: {message}",
                                 pos=Pos(f"<op tag {tag} on {step_key}>", 1, 1), hint=hint)])


def parse_layers_tag(value: Any, step_key: str = "?") -> list[str]:
    """``"a, b"`` or ``'["a", "b"]'`` (or a list) → ``["a", "b"]``; blank entries are dropped."""
    if isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith(("[", "{")):
            try:
                items = json.loads(text)
            except json.JSONDecodeError as exc:
                raise _tag_error(TAG_LAYERS, step_key, f"invalid JSON list: {exc.msg} at char {exc.pos}",
                                 'write a JSON list like ["gpu", "layers/big.yaml"] or a '
                                 "comma-separated list like gpu, layers/big.yaml") from None
            if not isinstance(items, list):
                raise _tag_error(TAG_LAYERS, step_key, "expected a list of layer names",
                                 'e.g. ["gpu", "layers/big.yaml"]')
        else:
            items = text.split(",")
    else:
        raise _tag_error(TAG_LAYERS, step_key, f"expected text, got {type(value).__name__}",
                         "e.g. gpu, layers/big.yaml")
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise _tag_error(TAG_LAYERS, step_key, f"layer names must be strings, got {item!r}",
                             'e.g. ["gpu", "layers/big.yaml"]')
        if item.strip():
            out.append(item.strip())
    return out


def parse_config_tag(value: Any, step_key: str = "?") -> dict[str, Any]:
    """An inline podc layer from a ``podc/config`` tag: a dict, JSON text or YAML text.

    YAML goes through :func:`podc.source.load_text`, so duplicate keys and syntax errors are
    reported at a line and column of the tag's text.
    """
    return _parse_config_tag(value, step_key)[0]


def _parse_config_tag(value: Any, step_key: str) -> tuple[dict[str, Any], Any]:
    if isinstance(value, Mapping):
        return dict(value), None
    if not isinstance(value, str):
        raise _tag_error(TAG_CONFIG, step_key, f"expected a layer as JSON or YAML text, got "
                         f"{type(value).__name__}", 'e.g. {"resources": {"limits": {"memory": "1Gi"}}}')
    text = value.strip()
    data: Any
    node = None
    if not text:
        return {}, None
    from podc.source import load_text
    from podc.tree import to_plain

    # JSON is (almost always) YAML too: reading it with the YAML loader gives every value a
    # line:col inside the tag's text, which provenance and policy findings then point at.
    try:
        docs = load_text(text, filename=f"<op tag {TAG_CONFIG} on {step_key}>",
                         layer=f"tag:{TAG_CONFIG}")
    except PodcError:
        if not text.startswith("{"):
            raise
        try:  # the rare JSON the YAML reader rejects (tabs, odd escapes)
            docs, data = [], json.loads(text)
        except json.JSONDecodeError as exc:
            raise _tag_error(TAG_CONFIG, step_key, f"invalid JSON: {exc.msg} at char {exc.pos}",
                             "check quotes and commas, or write the layer as YAML") from None
    if docs or not text.startswith("{"):
        if len(docs) != 1:
            raise _tag_error(TAG_CONFIG, step_key, f"expected one YAML document, got {len(docs)}",
                             "remove the '---' separators")
        node = docs[0]
        data = to_plain(node)
    if data is None:
        return {}, None
    if not isinstance(data, dict):
        raise _tag_error(TAG_CONFIG, step_key, f"expected a mapping of layer fields, got "
                         f"{type(data).__name__}", "e.g. image: python:3.12")
    return data, node


def dagster_k8s_tag_level(tags: Mapping[str, Any], step_key: str, *, name: str | None = None,
                          source: str | None = None) -> Any:
    """``get_user_defined_k8s_config``: the config tag, its ``container_config.resources``
    replaced by the legacy ``dagster-k8s/resource_requirements`` tag when both are set.
    Returns a :class:`podc.dagster.k8s_config.K8sLevel`; raises :class:`PodcError`."""
    from podc.dagster.k8s_config import K8sLevel
    from podc.dagster.k8s_model import K8sConfig, parse_user_config, read_value
    from podc.errors import Diagnostics
    from podc.tree import MapNode

    diags = Diagnostics()
    name = name or f"tag:{TAG_DAGSTER_K8S}"
    where = (lambda tag: f"{source}.{tag}") if source else (lambda tag: f"<op tag {tag} on {step_key}>")
    config = parse_user_config(tags.get(TAG_DAGSTER_K8S), layer=name, source=where(TAG_DAGSTER_K8S),
                               diags=diags)
    if TAG_DAGSTER_K8S_RESOURCES in tags:
        value = tags[TAG_DAGSTER_K8S_RESOURCES]
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise _tag_error(TAG_DAGSTER_K8S_RESOURCES, step_key,
                                 f"invalid JSON: {exc.msg} at char {exc.pos}",
                                 'e.g. {"limits": {"memory": "1Gi"}}') from None
        node = read_value(value, "V1ResourceRequirements", name, where(TAG_DAGSTER_K8S_RESOURCES), diags)
        if isinstance(node, MapNode):
            container = config.section("container_config")
            items = dict(container.items) if container is not None else {}
            items["resources"] = node  # merge_dicts(container_config, {"resources": ...})
            origin = container.origin if container is not None else node.origin
            config = K8sConfig({**config.sections, "container_config": MapNode(items, origin)},
                               config.merge_behavior)
    diags.raise_if_errors()
    return K8sLevel(name, config)


def layers_from_tags(tags: Mapping[str, Any], step_key: str) -> TagLayers:
    """Read the podc-relevant tags of one step (missing tags contribute nothing)."""
    result = TagLayers()
    if TAG_LAYERS in tags:
        result.named = parse_layers_tag(tags[TAG_LAYERS], step_key)
    if TAG_DAGSTER_K8S in tags or TAG_DAGSTER_K8S_RESOURCES in tags:
        result.k8s_level = dagster_k8s_tag_level(tags, step_key)
    if TAG_CONFIG in tags:
        result.inline, result.inline_node = _parse_config_tag(tags[TAG_CONFIG], step_key)
        value = tags[TAG_CONFIG]
        result.inline_was_dict = isinstance(value, Mapping) or (
            isinstance(value, str) and value.lstrip().startswith("{") and _sorted_json(value))
    return result


def _sorted_json(text: str) -> bool:
    """Whether JSON text looks like Dagster's serialisation of a dict tag (keys sorted)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return False
    env = data.get("env") if isinstance(data, dict) else None
    return isinstance(env, dict) and list(env) == sorted(env) and len(env) > 1
