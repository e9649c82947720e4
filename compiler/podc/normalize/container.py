"""Normalising container fields: friendly ``env`` forms, quantities, ``args`` as strings.

Used for the main container (fields at the top of a layer) and for ``initContainers``/``sidecars``.
"""

from __future__ import annotations

from podc.normalize.build import ListB, MapB, freeze, is_null, leaf, origin_at, str_leaf, str_seq
from podc.tree import MapNode, Node, ScalarNode, SeqNode

__all__ = ["ContainerB", "CONTAINER_KEYS", "resources_node"]

#: Fields copied to a container (after conversion); order = Kubernetes' own documentation order.
CONTAINER_KEYS = ("image", "imagePullPolicy", "command", "args", "workingDir", "ports", "env", "envFrom",
                  "resources", "securityContext", "volumeMounts", "startupProbe", "readinessProbe",
                  "livenessProbe", "lifecycle")

_VALUE_FROM = ("secretKeyRef", "configMapKeyRef", "fieldRef", "resourceFieldRef")


class ContainerB:
    """One container in the Job tree under construction."""

    __slots__ = ("b",)

    def __init__(self, b: MapB):
        self.b = b

    def _list(self, key: str, near: Node) -> ListB:
        current = self.b.items.get(key)
        if isinstance(current, ListB):
            return current
        made = ListB(near.origin)
        self.b.items[key] = made
        return made

    def env(self, near: Node) -> ListB:
        return self._list("env", near)

    def env_from(self, near: Node) -> ListB:
        return self._list("envFrom", near)

    def mounts(self, near: Node) -> ListB:
        return self._list("volumeMounts", near)

    def set_field(self, key: str, value: Node) -> None:
        """Copy one container field from a layer, converting to the Kubernetes form."""
        if is_null(value):
            self.b.set(key, value)  # null (or !delete) removes the field when layers merge
        elif key == "env":
            add_env(value, self.env(value))
        elif key in ("envFrom", "volumeMounts"):
            target = self._list(key, value)
            if isinstance(value, SeqNode):
                target.directive = target.directive or value.directive
                target.items.extend(value.items)
        elif key in ("command", "args"):
            self.b.set(key, str_seq(value))
        elif key == "resources":
            self.b.set(key, resources_node(value))
        else:
            self.b.set(key, value)


def add_env(env: Node, out: ListB) -> None:
    """Append the env vars of a friendly ``env`` (mapping or Kubernetes list) to ``out``."""
    out.directive = out.directive or env.directive
    if isinstance(env, SeqNode):
        for item in env.items:
            out.items.append(_env_list_item(item))
        return
    if not isinstance(env, MapNode):
        return
    for name, value in env.items.items():
        name_leaf = leaf(name, origin_at(env, env.key_pos.get(name)))
        out.items.append(env_entry(name_leaf, value))


def env_entry(name_leaf: ScalarNode, value: Node) -> Node:
    """One friendly env entry ``NAME: value`` as a Kubernetes EnvVar node."""
    if is_null(value) or value.directive == "delete":
        return MapNode({"name": name_leaf}, name_leaf.origin, directive="delete")
    if isinstance(value, ScalarNode):
        return MapNode({"name": name_leaf, "value": str_leaf(value)}, name_leaf.origin)
    assert isinstance(value, MapNode)
    item = MapB(value.origin, value.directive)
    item.set("name", name_leaf)
    for key, member in value.items.items():
        if key == "value":
            item.set("value", str_leaf(member) if not is_null(member) else leaf("", member.origin))
        elif key == "valueFrom":
            item.set("valueFrom", member)
        elif key in _VALUE_FROM:
            item.set("valueFrom", MapNode({key: member}, member.origin, {key: value.key_pos.get(key, member.origin.pos)}))
    return freeze(item)


def _env_list_item(item: Node) -> Node:
    if not isinstance(item, MapNode):
        return item
    value = item.items.get("value")
    if isinstance(value, ScalarNode) and value.value is not None and not isinstance(value.value, str):
        items = dict(item.items)
        items["value"] = str_leaf(value)
        return MapNode(items, item.origin, item.key_pos, item.directive, item.overridden)
    return item


def resources_node(node: Node) -> Node:
    """``resources`` with every quantity written as a string (``cpu: 2`` → ``"2"``)."""
    if not isinstance(node, MapNode):
        return node
    items: dict[str, Node] = {}
    for key, value in node.items.items():
        if key in ("requests", "limits") and isinstance(value, MapNode):
            items[key] = MapNode({k: str_leaf(v) if isinstance(v, ScalarNode) else v for k, v in value.items.items()},
                                 value.origin, value.key_pos, value.directive, value.overridden)
        else:
            items[key] = value
    return MapNode(items, node.origin, node.key_pos, node.directive, node.overridden)
