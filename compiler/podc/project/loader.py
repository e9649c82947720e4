"""Project resolution: ``podc.yaml``, layer files, ``extends``, profiles and targets.

For one target the layer order is (first = lowest precedence)::

    podc:defaults (defaults/secure.yaml)
    name/namespace from the project (target name -> metadata.name, project namespace)
    target.layers, in the order listed, each after its ``extends`` (depth-first, each file once)
    the selected profile's layers
    target.file
    target.overrides
    target.profiles[<selected profile>]
    in-memory layers passed through the library (e.g. a Dagster step layer)

Layer files are read, validated and normalised once per run (:class:`LayerCache`): base, team
and environment layers are shared by many targets.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from podc._record import field, record
from podc.errors import Diagnostics, PodcError, Pos, did_you_mean
from podc.project.layers import LayerCache, LayerRef
from podc.project.roots import Roots
from podc.tree import MapNode, Node, Origin, ScalarNode, SeqNode, to_plain

__all__ = ["Target", "Project", "load_project", "find_project_file", "PROJECT_FILE"]

PROJECT_FILE = "podc.yaml"
_TARGET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}\Z")


@record
class Target:
    name: str
    pos: Pos  # where the target's name is written
    layers: list[LayerRef]
    file: LayerRef | None = None
    overrides: MapNode | None = None
    profiles: dict[str, MapNode] = field(default_factory=dict)


@record
class Project:
    path: Path  # the podc.yaml file (absolute)
    root: Path  # its folder
    node: MapNode
    kubernetes_version: str | None
    output: Path
    namespace: str | None
    namespace_pos: Pos
    layers: dict[str, LayerRef]
    profiles: dict[str, list[LayerRef]]
    profile_pos: dict[str, Pos]
    default_profile: str | None
    targets: dict[str, Target]
    policies: Any = None
    roots: Roots | None = None  # where layer, file:, extends and exception-file paths may point
    _names: dict[Path, str] | None = field(default=None, init=False, repr=False, compare=False)
    images: list = field(default_factory=list)  # image overrides: `images:`, then --image

    def layer_name(self, path: Path) -> str:
        """The name provenance shows for a layer file: its (first) name in ``layers:`` or its path."""
        names = self._names
        if names is None or len(names) > len(self.layers):  # built once: a scan per file is quadratic
            names = self._names = {}
            for name, ref in self.layers.items():
                names.setdefault(ref.path, name)
        name = names.get(path)
        return name if name is not None else self.relative(path)

    def relative(self, path: Path) -> str:
        try:
            return Path(os.path.relpath(path, self.root)).as_posix()
        except ValueError:
            return path.as_posix()

    def select_profile(self, profile: str | None, diags: Diagnostics) -> str | None:
        chosen = profile if profile is not None else self.default_profile
        if chosen is not None and chosen not in self.profiles:
            guess = did_you_mean(chosen, self.profiles)
            diags.add("project.unknown-profile", f"unknown profile {chosen!r}",
                      self.profile_pos.get("defaultProfile", Pos(str(self.path))) if profile is None else Pos(str(self.path)),
                      hint=f"did you mean {guess!r}?" if guess else f"profiles: {', '.join(sorted(self.profiles)) or '(none)'}")
            return None
        return chosen

    def files_of(self, target: Target, profile: str | None, cache: "LayerCache") -> list[Path]:
        """Every file ``target`` depends on (project file, layers, their extends)."""
        diags = Diagnostics()
        refs = list(target.layers) + list(self.profiles.get(profile or "", [])) + ([target.file] if target.file else [])
        files = [self.path]
        for ref in refs:
            files.append(ref.path)  # even when it fails to load: a broken layer still affects the target
            files.extend(layer.path for layer in cache.expand(ref, diags))
        return files


def find_project_file(path: str | os.PathLike = ".") -> Path:
    p = Path(path)
    if p.is_dir():
        p = p / PROJECT_FILE
    return p.resolve() if p.exists() else p.absolute()


def load_project(path: str | os.PathLike = ".") -> Project:
    """Read and check a project file (or the ``podc.yaml`` in a folder). Raises ``PodcError``."""
    from podc.source.reader import load_single

    file = find_project_file(path)
    if not file.exists():
        raise PodcError.single("project.missing", f"no {PROJECT_FILE} here", Pos(str(file)),
                               hint="pass the project folder or file, e.g. `podc compile examples/platform`")
    node = load_single(file, layer=PROJECT_FILE)
    diags = Diagnostics()
    if not isinstance(node, MapNode):
        raise PodcError.single("project.type", "a project file is a mapping", node.origin.pos)
    from podc.model.gate import check_project

    check_project(node, diags)  # unknown fields, types (with suggestions)
    diags.raise_if_errors()
    project = _ProjectReader(file, node, diags).read()  # names, paths, references
    diags.raise_if_errors()
    return project


class _ProjectReader:
    """Reads a project mapping into :class:`Project`, checking shapes with positions."""

    def __init__(self, file: Path, node: MapNode, diags: Diagnostics):
        self.file, self.node, self.diags = file, node, diags
        self.root = file.parent

    def read(self) -> Project:
        n = self.node
        layers = self._map_of_paths(n.get("layers"), "layers")
        profiles: dict[str, list[LayerRef]] = {}
        profiles_node = self._map(n.get("profiles"), "profiles")
        for name, value in (profiles_node.items.items() if profiles_node else []):
            profiles[name] = self._layer_list(value, layers, f"profiles.{name}")
        default = self._str(n.get("defaultProfile"), "defaultProfile")
        targets: dict[str, Target] = {}
        targets_node = self._map(n.get("targets"), "targets")
        for name, value in (targets_node.items.items() if targets_node else []):
            pos = targets_node.key_pos.get(name, value.origin.pos)
            if not _TARGET_NAME.match(name):  # it names the output file, and the Job by default
                self.diags.add("project.target-name", f"invalid target name {name!r}", pos,
                               hint="use letters, digits, '-', '_' and '.', starting with a letter or digit")
                continue
            targets[name] = self._target(name, pos, value, layers, profiles)
        if targets_node is None or not targets:
            self.diags.add("project.no-targets", "the project defines no targets", n.origin.pos,
                           hint="add `targets: {my-job: {layers: [base]}}`")
        ns = n.get("namespace")
        output = self._str(n.get("output"), "output") or "build"
        policies = n.get("policies")
        roots = Roots.of(self.root, self._allowed_roots(n.get("allowedRoots")))
        for ref in layers.values():  # declared paths are checked even when no target uses them
            roots.admit(ref.path, ref.pos, "layer file", ref.written, self.diags)
        return Project(
            path=self.file, root=self.root, node=n,
            kubernetes_version=_text(n.get("kubernetesVersion")),
            output=(self.root / output),
            namespace=self._str(ns, "namespace"),
            namespace_pos=ns.origin.pos if ns is not None else Pos(),
            layers=layers, profiles=profiles,
            profile_pos={k: n.key_pos.get(k, Pos()) for k in ("defaultProfile",)},
            default_profile=default, targets=targets,
            policies=to_plain(policies) if policies is not None else None, roots=roots,
            images=_image_overrides(n.get("images")),
        )

    def _allowed_roots(self, node: Node | None) -> dict[str, Path]:
        m = self._map(node, "allowedRoots")
        out: dict[str, Path] = {}
        for name, value in (m.items.items() if m else []):
            text = self._str(value, f"allowedRoots.{name}")
            if not text:
                continue
            path = Path(os.path.normpath(self.root / text))
            if not path.is_dir():
                self.diags.add("project.allowed-root", f"allowed root {name!r} is not a folder: {text}",
                               value.origin.pos, hint="paths in allowedRoots are folders, relative to podc.yaml")
                continue
            out[name] = path
        return out

    def _target(self, name: str, pos: Pos, node: Node, layers: dict[str, LayerRef],
                profiles: dict[str, list[LayerRef]]) -> Target:
        target = Target(name, pos, [])
        if isinstance(node, ScalarNode) and node.value is None:
            return target
        if not isinstance(node, MapNode):
            self.diags.add("project.type", f"target {name!r} must be a mapping", node.origin.pos)
            return target
        target.layers = self._layer_list(node.get("layers"), layers, f"targets.{name}.layers")
        file_node = node.get("file")
        if file_node is not None:
            path = self._str(file_node, f"targets.{name}.file")
            if path:
                target.file = self._file_ref(path, file_node.origin.pos, self.root)
        target.overrides = self._map(node.get("overrides"), f"targets.{name}.overrides")
        pnode = self._map(node.get("profiles"), f"targets.{name}.profiles")
        for pname, pvalue in (pnode.items.items() if pnode else []):
            if pname not in profiles:
                guess = did_you_mean(pname, profiles)
                self.diags.add("project.unknown-profile", f"unknown profile {pname!r}",
                               pnode.key_pos.get(pname, pvalue.origin.pos),
                               hint=f"did you mean {guess!r}?" if guess else "define it under `profiles:` first")
            m = self._map(pvalue, f"targets.{name}.profiles.{pname}")
            if m is not None:
                target.profiles[pname] = m
        return target

    def _layer_list(self, node: Node | None, layers: dict[str, LayerRef], where: str) -> list[LayerRef]:
        if node is None:
            return []
        items = [node] if isinstance(node, ScalarNode) else node.items if isinstance(node, SeqNode) else None
        if items is None:
            self.diags.add("project.type", f"{where} must be a list of layer names or files", node.origin.pos)
            return []
        refs = []
        for item in items:
            text = self._str(item, where)
            if not text:
                continue
            if text in layers:
                refs.append(LayerRef(layers[text].path, item.origin.pos, layers[text].written, layers[text].pos))
            elif text.endswith((".yaml", ".yml", ".json")) or "/" in text:
                refs.append(self._file_ref(text, item.origin.pos, self.root))
            else:
                guess = did_you_mean(text, layers)
                self.diags.add("project.unknown-layer", f"unknown layer {text!r}", item.origin.pos,
                               hint=f"did you mean {guess!r}?" if guess else "name a layer from `layers:` or a file path")
        return refs

    def _map_of_paths(self, node: Node | None, where: str) -> dict[str, LayerRef]:
        m = self._map(node, where)
        out: dict[str, LayerRef] = {}
        for name, value in (m.items.items() if m else []):
            text = self._str(value, f"{where}.{name}")
            if text:
                out[name] = self._file_ref(text, value.origin.pos, self.root)
        return out

    def _file_ref(self, text: str, pos: Pos, base: Path) -> LayerRef:
        return LayerRef(Path(os.path.normpath(base / text)), pos, text)

    def _map(self, node: Node | None, where: str) -> MapNode | None:
        if node is None or (isinstance(node, ScalarNode) and node.value is None):
            return None
        if not isinstance(node, MapNode):
            self.diags.add("project.type", f"{where} must be a mapping", node.origin.pos)
            return None
        return node

    def _str(self, node: Node | None, where: str) -> str | None:
        if node is None or (isinstance(node, ScalarNode) and node.value is None):
            return None
        if not isinstance(node, ScalarNode) or not isinstance(node.value, str):
            self.diags.add("project.type", f"{where} must be a string", node.origin.pos)
            return None
        return node.value


def _text(node: Node | None) -> str | None:
    return str(node.value) if isinstance(node, ScalarNode) and node.value is not None else None


def _image_overrides(node: Node | None) -> list:
    """``images:`` entries (their shape is checked by the model) as keyword arguments of
    :class:`podc.kube.image_overrides.ImageOverride` (render applies them)."""
    out = []
    for item in getattr(node, "items", None) or []:
        if isinstance(item, MapNode) and _text(item.get("name")):
            out.append({"name": _text(item.get("name")), "new_name": _text(item.get("newName")),
                        "new_tag": _text(item.get("newTag")), "digest": _text(item.get("digest")),
                        "pos": item.origin.pos, "layer": "images"})
    return out


def relabel(node: Node, layer: str) -> Node:
    """A copy of ``node`` whose origins name ``layer`` (inline layers of the project file)."""
    if isinstance(node, ScalarNode):
        return ScalarNode(node.value, Origin(layer, node.origin.pos), node.directive, node.overridden)
    if isinstance(node, MapNode):
        return MapNode({k: relabel(v, layer) for k, v in node.items.items()}, Origin(layer, node.origin.pos),
                       dict(node.key_pos), node.directive, node.overridden)
    return SeqNode([relabel(v, layer) for v in node.items], Origin(layer, node.origin.pos), node.directive,
                   node.overridden)
