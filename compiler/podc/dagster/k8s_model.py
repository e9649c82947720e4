"""dagster-k8s's user-defined Kubernetes configuration, read and merged the way dagster-k8s 0.29 does.

A :class:`K8sConfig` is dagster-k8s's ``UserDefinedDagsterK8sConfig`` (``container_config``,
``pod_spec_config``, ``pod_template_spec_metadata``, ``job_metadata``, ``job_spec_config``,
``job_config`` and ``merge_behavior``) held as podc trees: every key is the Kubernetes (camelCase)
field name, whichever spelling the user wrote, and every node's :class:`~podc.tree.Origin` names the
exact source key it came from (``run-config:execution.config.env_vars[2]``), so provenance survives
the merges.

Reading follows ``dagster_k8s.models.k8s_snake_case_dict``: keys are converted with the Kubernetes
client's model tables (free-form maps such as labels keep their keys), an unknown field or both
spellings of one field is an error. :func:`merge` follows ``K8sContainerContext._merge_k8s_config``:
``DEEP`` merges mappings, appends lists (dropping items identical to one already there; ``command``
and ``args`` are replaced), ``SHALLOW`` replaces each section's top-level keys. Pure: imports the
``kubernetes`` client's model tables, never Dagster.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Mapping

from podc._record import field, record
from podc.errors import Diagnostics, Pos, did_you_mean
from podc.tree import MapNode, Node, Origin, ScalarNode, SeqNode, to_plain

__all__ = ["SECTIONS", "K8sConfig", "read_value", "parse_user_config", "parse_section", "merge", "positioned",
           "merge_behavior_of", "kube_model"]

#: section -> the Kubernetes model its keys belong to
SECTIONS: dict[str, str] = {
    "container_config": "V1Container",
    "pod_template_spec_metadata": "V1ObjectMeta",
    "pod_spec_config": "V1PodSpec",
    "job_config": "V1Job",
    "job_metadata": "V1ObjectMeta",
    "job_spec_config": "V1JobSpec",
}
MERGE_BEHAVIORS = ("DEEP", "SHALLOW")
#: lists dagster-k8s replaces instead of appending, at any depth (ALWAYS_SHALLOW_MERGE_LIST_FIELDS)
ALWAYS_REPLACED = frozenset({"command", "args"})
_CODE = "dagster.k8s-config"


@record(frozen=True)
class K8sConfig:
    """One level of dagster-k8s configuration (or several merged). Sections hold positioned trees
    with Kubernetes field names; empty sections are absent."""

    sections: Mapping[str, MapNode] = field(default_factory=dict)
    merge_behavior: str = "DEEP"

    def section(self, name: str) -> MapNode | None:
        return self.sections.get(name)

    def plain(self) -> dict[str, Any]:
        """The configuration as dagster-k8s's ``to_dict`` would show it (camelCase keys)."""
        return {**{k: to_plain(v) for k, v in self.sections.items()},
                "merge_behavior": self.merge_behavior}

    def __bool__(self) -> bool:
        return bool(self.sections)


# ---------------------------------------------------------------------------------------------
# building positioned trees

def positioned(data: Any, layer: str, path: str) -> Node:
    """``data`` as a tree whose every node names its own key path (``<path>.a[0].b``)."""
    origin = Origin(layer, Pos(path))
    if isinstance(data, Mapping):
        return MapNode({str(k): positioned(v, layer, f"{path}.{k}") for k, v in data.items()},
                       origin, {str(k): Pos(f"{path}.{k}") for k in data})
    if isinstance(data, (list, tuple)):
        return SeqNode([positioned(v, layer, f"{path}[{i}]") for i, v in enumerate(data)], origin)
    return ScalarNode(data, origin)


@lru_cache(maxsize=None)
def kube_model(name: str) -> Any:
    import kubernetes.client as k8s  # the model tables dagster-k8s itself uses

    return getattr(k8s, name, None)


_LIST = re.compile(r"^list\[(.+)\]$")
_DICT = re.compile(r"^dict[\[(]str, ?(.+)[\])]$")
_PRIMITIVES = {"str": str, "int": int, "float": float, "bool": bool}


def read_value(value: Any, kind: str, layer: str, path: str, diags: Diagnostics) -> Node | None:
    """One value of Kubernetes type ``kind`` (``V1Container``, ``list[V1EnvVar]``,
    ``dict(str, str)``, ``int``...) as a camelCase tree; None (and a diagnostic) when invalid."""
    where = Pos(path)
    if value is None:
        return ScalarNode(None, Origin(layer, where))
    m = _LIST.match(kind)
    if m:
        if not isinstance(value, (list, tuple)):
            diags.add(_CODE, f"expected a list, got {type(value).__name__}", where, path=path)
            return None
        items = [read_value(v, m.group(1), layer, f"{path}[{i}]", diags) for i, v in enumerate(value)]
        return SeqNode([i for i in items if i is not None], Origin(layer, where))
    m = _DICT.match(kind)
    if m:
        if not isinstance(value, Mapping):
            diags.add(_CODE, f"expected a mapping, got {type(value).__name__}", where, path=path)
            return None
        out = {str(k): read_value(v, m.group(1), layer, f"{path}.{k}", diags) for k, v in value.items()}
        return MapNode({k: v for k, v in out.items() if v is not None}, Origin(layer, where),
                       {k: Pos(f"{path}.{k}") for k in out})
    if kind in _PRIMITIVES:
        return _scalar(value, kind, layer, path, diags)
    model = kube_model(kind) if kind.startswith("V") else None
    if model is None:  # "object", dates: passed through as written (dagster-k8s does the same)
        return positioned(value, layer, path)
    if not isinstance(value, Mapping):
        diags.add(_CODE, f"expected a mapping ({kind}), got {type(value).__name__}", where, path=path)
        return None
    attrs: dict[str, str] = model.attribute_map
    by_camel = {camel: snake for snake, camel in attrs.items()}
    items: dict[str, Node] = {}
    key_pos: dict[str, Pos] = {}
    written: dict[str, str] = {}
    for key, item in value.items():
        key = str(key)
        snake = key if key in attrs else by_camel.get(key)
        if snake is None:
            guess = did_you_mean(key, list(attrs) + list(by_camel))
            diags.add(_CODE, f"`{key}` is not a field of {kind}", Pos(f"{path}.{key}"),
                      path=f"{path}.{key}",
                      hint=f"did you mean `{guess}`?" if guess else
                      "dagster-k8s refuses unknown fields too (Unexpected keys in model class)")
            continue
        camel = attrs[snake]
        if camel in written:
            diags.add(_CODE, f"`{key}` and `{written[camel]}` are the same field of {kind}",
                      Pos(f"{path}.{key}"), path=f"{path}.{key}", hint="keep one spelling")
            continue
        written[camel] = key
        node = read_value(item, model.openapi_types[snake], layer, f"{path}.{key}", diags)
        if node is not None:
            items[camel] = node
            key_pos[camel] = Pos(f"{path}.{key}")
    return MapNode(items, Origin(layer, where), key_pos)


def _scalar(value: Any, kind: str, layer: str, path: str, diags: Diagnostics) -> Node | None:
    origin = Origin(layer, Pos(path))
    if isinstance(value, (Mapping, list, tuple)):
        diags.add(_CODE, f"expected a {kind}, got {type(value).__name__}", origin.pos, path=path)
        return None
    if kind == "bool":
        if isinstance(value, bool):
            return ScalarNode(value, origin)
        # dagster-k8s would call bool("false") and get True: refuse instead of inverting it
        diags.add(_CODE, f"expected true or false, got {value!r}", origin.pos, path=path,
                  hint="write a YAML boolean, not a string")
        return None
    try:  # what dagster-k8s does: klass(data), so 5 -> "5" for a string field, "3" -> 3 for an int
        converted = _PRIMITIVES[kind](value) if not isinstance(value, bool) or kind == "str" else None
    except (TypeError, ValueError):
        converted = None
    if converted is None:
        diags.add(_CODE, f"expected a {kind}, got {value!r}", origin.pos, path=path)
        return None
    return ScalarNode(converted, origin)


def merge_behavior_of(value: Any, layer: str, path: str, diags: Diagnostics) -> str:
    """``DEEP``/``SHALLOW`` from a tag string, a Dagster enum value or None (DEEP)."""
    if value is None:
        return "DEEP"
    text = getattr(value, "value", value)
    if isinstance(text, str) and text in MERGE_BEHAVIORS:
        return text
    diags.add(_CODE, f"merge_behavior must be DEEP or SHALLOW, got {text!r}", Pos(path), path=path,
              hint="dagster-k8s accepts exactly these two names")
    return "DEEP"


def parse_section(section: str, value: Any, layer: str, path: str, diags: Diagnostics) -> MapNode | None:
    node = read_value(value, SECTIONS[section], layer, path, diags)
    if isinstance(node, ScalarNode):  # section: null
        return None
    return node if isinstance(node, MapNode) and node.items else None


def parse_user_config(value: Any, *, layer: str, source: str, diags: Diagnostics,
                      sections: tuple[str, ...] = tuple(SECTIONS)) -> K8sConfig:
    """A ``dagster-k8s/config`` value (a mapping, or JSON text as Dagster stores tags)."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except json.JSONDecodeError as exc:
            diags.add(_CODE, f"invalid JSON: {exc.msg} at char {exc.pos}", Pos(source),
                      hint='e.g. {"container_config": {"resources": {"limits": {"memory": "1Gi"}}}}')
            return K8sConfig()
    if value is None:
        return K8sConfig()
    if not isinstance(value, Mapping):
        diags.add(_CODE, f"expected a mapping of dagster-k8s sections, got {type(value).__name__}",
                  Pos(source), hint="sections: " + ", ".join(sections))
        return K8sConfig()
    out: dict[str, MapNode] = {}
    behavior = "DEEP"
    for key, item in value.items():
        path = f"{source}.{key}"
        if key == "merge_behavior":
            behavior = merge_behavior_of(item, layer, path, diags)
        elif key in sections:
            node = parse_section(key, item, layer, path, diags)
            if node is not None:
                out[key] = node
        else:
            guess = did_you_mean(str(key), [*sections, "merge_behavior"])
            diags.add(_CODE, f"`{key}` is not a dagster-k8s config section", Pos(path), path=path,
                      hint=f"did you mean `{guess}`?" if guess else "sections: " + ", ".join(sections))
    return K8sConfig(out, behavior)


# ---------------------------------------------------------------------------------------------
# merging, as K8sContainerContext._merge_k8s_config does

def _identity(node: Node) -> str:
    return json.dumps(to_plain(node), sort_keys=True, default=str)


def _append(onto: SeqNode, other: SeqNode) -> SeqNode:
    seen: set[str] = set()
    items: list[Node] = []
    for item in [*onto.items, *other.items]:
        ident = _identity(item)
        if ident not in seen:  # dagster-k8s's _dedupe_list: the first identical item stays
            seen.add(ident)
            items.append(item)
    return SeqNode(items, other.origin)


def _deep(onto: MapNode, other: MapNode, diags: Diagnostics) -> MapNode:
    items = dict(onto.items)
    key_pos = dict(onto.key_pos)
    for key, value in other.items.items():
        current = items.get(key)
        key_pos[key] = other.key_pos.get(key, value.origin.pos)
        if current is None or (isinstance(current, ScalarNode) and current.value is None):
            items[key] = value
        elif isinstance(value, SeqNode) and key not in ALWAYS_REPLACED:
            if not isinstance(current, SeqNode):
                diags.add(_CODE, f"`{key}` is a list here but not at {current.origin.pos}",
                          value.origin.pos, hint="dagster-k8s cannot merge them either")
                continue
            items[key] = _append(current, value)
        elif isinstance(value, MapNode):
            if not isinstance(current, MapNode):
                diags.add(_CODE, f"`{key}` is a mapping here but not at {current.origin.pos}",
                          value.origin.pos, hint="dagster-k8s cannot merge them either")
                continue
            items[key] = _deep(current, value, diags)
        else:
            items[key] = value
    return MapNode(items, other.origin, key_pos)


def merge(onto: K8sConfig, other: K8sConfig, diags: Diagnostics) -> K8sConfig:
    """``other`` merged onto ``onto`` with ``other``'s merge behaviour (which the result keeps)."""
    sections: dict[str, MapNode] = dict(onto.sections)
    for name, node in other.sections.items():
        current = sections.get(name)
        if current is None:
            sections[name] = node
        elif other.merge_behavior == "SHALLOW":
            sections[name] = MapNode({**current.items, **node.items}, node.origin,
                                     {**current.key_pos, **node.key_pos})
        else:
            sections[name] = _deep(current, node, diags)
    return K8sConfig(sections, other.merge_behavior)
