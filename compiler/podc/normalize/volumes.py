"""Normalising friendly ``volumes`` and ``secrets`` into pod volumes, mounts and env references.

Deleting a volume (``volumes: {data: null}``) emits a ``volumes`` item ``{name: data}`` marked
``delete``; the mounts an earlier layer generated for it are left to the renderer, which drops
volumeMounts naming a volume that no longer exists (see docs/format.md, "Deleting").
"""

from __future__ import annotations

from typing import Callable

from podc.kube.names import sanitize_dns1123_label
from podc.model.constants import VOLUME_SOURCES
from podc.normalize.build import ListB, MapB, freeze, is_null, leaf, origin_at
from podc.normalize.container import ContainerB
from podc.tree import MapNode, Node, ScalarNode, SeqNode

__all__ = ["add_volumes", "add_secrets", "secret_volume_name"]

#: Finds the container a mount goes to: None = the main container; unknown names report and give None.
Resolver = Callable[[ScalarNode | None], ContainerB | None]

_MOUNT_KEYS = ("mountPath", "subPath", "readOnly")


def secret_volume_name(secret: str) -> str:
    """The pod volume that mounts Secret ``secret``: ``secret-<name>``, made a valid DNS label."""
    return sanitize_dns1123_label(f"secret-{secret}")


def add_volumes(node: MapNode, volumes: ListB, resolve: Resolver) -> None:
    volumes.directive = volumes.directive or node.directive
    for name, entry in node.items.items():
        name_leaf = leaf(name, origin_at(node, node.key_pos.get(name)))
        if is_null(entry) or entry.directive == "delete":
            volumes.items.append(MapNode({"name": name_leaf}, name_leaf.origin, directive="delete"))
            continue
        assert isinstance(entry, MapNode)
        item = MapB(entry.origin, "replace" if entry.directive == "replace" else None)
        item.set("name", name_leaf)
        for key, value in entry.items.items():
            if key in VOLUME_SOURCES:
                item.set(key, MapNode({}, value.origin) if is_null(value) else value)
        volumes.items.append(freeze(item))
        if "mountPath" in entry.items and not is_null(entry.items["mountPath"]):
            target = resolve(None)
            if target is not None:
                target.mounts(entry).items.append(_mount(name_leaf, entry))
        mounts = entry.items.get("mounts")
        if isinstance(mounts, SeqNode):
            for mount in mounts.items:
                if not isinstance(mount, MapNode):
                    continue
                container = mount.items.get("container")
                target = resolve(container if isinstance(container, ScalarNode) else None)
                if target is not None:
                    target.mounts(mount).items.append(_mount(name_leaf, mount))


def _mount(name_leaf: ScalarNode, src: MapNode, read_only: ScalarNode | None = None) -> MapNode:
    items: dict[str, Node] = {"name": name_leaf}
    for key in _MOUNT_KEYS:
        value = src.items.get(key)
        if value is not None and not is_null(value):
            items[key] = value
    if read_only is not None and "readOnly" not in items:
        items["readOnly"] = read_only
    mount_path = src.items["mountPath"]
    return MapNode(items, mount_path.origin, directive="delete" if src.directive == "delete" else None)


def add_secrets(node: MapNode, volumes: ListB, main: Callable[[], ContainerB]) -> None:
    """``secrets.<name>`` → a ``secret-<name>`` volume + mount, secretKeyRef env vars, an envFrom.

    A ``!replace`` on ``secrets`` itself is not passed on: it would replace ALL volumes.
    """
    for name, entry in node.items.items():
        kpos = node.key_pos.get(name)
        secret_leaf = leaf(name, origin_at(node, kpos))
        volume_leaf = leaf(secret_volume_name(name), secret_leaf.origin)
        if is_null(entry) or entry.directive == "delete":
            volumes.items.append(MapNode({"name": volume_leaf}, secret_leaf.origin, directive="delete"))
            continue
        assert isinstance(entry, MapNode)
        mount_path = entry.items.get("mountPath")
        if mount_path is not None and not is_null(mount_path):
            source = MapB(entry.origin)
            source.set("secretName", secret_leaf)
            for key in ("items", "defaultMode", "optional"):
                if key in entry.items and not is_null(entry.items[key]):
                    source.set(key, entry.items[key])
            volumes.items.append(MapNode({"name": volume_leaf, "secret": freeze(source)}, entry.origin))
            main().mounts(entry).items.append(_mount(volume_leaf, entry, leaf(True, mount_path.origin)))
        optional = entry.items.get("optional")
        env = entry.items.get("env")
        if isinstance(env, MapNode):
            target = main().env(env)
            for env_name, key in env.items.items():
                name_leaf = leaf(env_name, origin_at(env, env.key_pos.get(env_name)))
                ref = MapB(key.origin)
                ref.set("name", secret_leaf)
                ref.set("key", key)
                if optional is not None and not is_null(optional):
                    ref.set("optional", optional)
                value_from = MapNode({"secretKeyRef": freeze(ref)}, key.origin)
                target.items.append(MapNode({"name": name_leaf, "valueFrom": value_from}, name_leaf.origin))
        env_from = entry.items.get("envFrom")
        if env_from is not None and not is_null(env_from):
            _secret_env_from(secret_leaf, env_from, optional, main().env_from(env_from))


def _secret_env_from(secret_leaf: ScalarNode, env_from: Node, optional: Node | None, out: ListB) -> None:
    ref = MapB(env_from.origin)
    ref.set("name", secret_leaf)
    if optional is not None and not is_null(optional):
        ref.set("optional", optional)
    item = MapB(env_from.origin)
    if isinstance(env_from, MapNode) and "prefix" in env_from.items and not is_null(env_from.items["prefix"]):
        item.set("prefix", env_from.items["prefix"])
    item.set("secretRef", freeze(ref))
    if isinstance(env_from, ScalarNode) and env_from.value is False:
        item.directive = "delete"  # `envFrom: false` removes what an earlier layer added
    out.items.append(freeze(item))
