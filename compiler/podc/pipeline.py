"""The library API: compile a project (or a list of layers) into Jobs with provenance.

``compile_project`` resolves every target's layers (see :mod:`podc.project` for the order),
merges them and renders one :class:`~podc.render.CompiledJob` per target. Bad input raises one
:class:`~podc.errors.PodcError` carrying every diagnostic of the run, across targets.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Sequence, Union

from podc._gcpause import gc_paused  # noqa: F401  (re-exported: podc.pipeline.gc_paused)
from podc._record import field, record
from podc.errors import Diagnostic, Diagnostics, PodcError, Pos, did_you_mean
from podc.project.layers import LayerCache, LayerRef, LoadedLayer, normalize_node
from podc.project.loader import PROJECT_FILE, Project, Target, load_project, relabel
from podc.tree import MapNode, Node, Origin, ScalarNode, from_plain

__all__ = ["CompileResult", "compile_project", "compile_layers", "load_project", "LayerInput"]

LayerInput = Union[str, os.PathLike, dict, "tuple[str, dict]", MapNode]
Patch = tuple[MapNode, str]


@record
class CompileResult:
    jobs: list  # list[CompiledJob], in the project's target order
    diagnostics: list[Diagnostic] = field(default_factory=list)  # warnings (errors raise)
    project: Project | None = None
    profile: str | None = None
    layers: dict[str, LoadedLayer] = field(default_factory=dict)  # layer files read, by path


@record
class _Step:
    """One layer of a target, before normalisation: a cached file or an inline mapping."""

    identity: Any  # the file's path (merged prefixes are shared by identity) or None
    loaded: LoadedLayer | None = None
    node: MapNode | None = None

    def declared(self) -> str | None:
        leaf = self.container_leaf()
        return leaf.value if leaf is not None and isinstance(leaf.value, str) else None

    def container_leaf(self) -> ScalarNode | None:
        """The ``container:`` value of the layer (it names the main container), if any."""
        node = self.loaded.node if self.loaded is not None else self.node
        leaf = node.items.get("container") if isinstance(node, MapNode) else None
        return leaf if isinstance(leaf, ScalarNode) else None

    def patches(self, container: str | None, diags: Diagnostics) -> list[Patch]:
        if self.loaded is not None:
            return self.loaded.patches(container, diags)
        assert self.node is not None
        return normalize_node(self.node, diags, container) or []


class _Run:
    """State of one compile run: the layer cache and merged-prefix cache shared by all targets."""

    def __init__(self, project: Project | None, base_dir: Path | None = None):
        from podc.render.job import defaults

        self.project = project
        self.cache = LayerCache(project, base_dir)
        self.defaults = defaults().job
        # Merged prefixes of file layers, as a trie: (parent id, file identity) -> id; per id the
        # diagnostics that layer's merge produced and, for some ids, the merged tree.
        self.prefix_ids: dict[tuple[int, Any], int] = {}
        self.prefix_diags: list[list[Diagnostic]] = [[]]
        self.prefix_trees: dict[int, Node | None] = {}
        self.origins: dict = {}  # render's per-run ValueOrigin memo

    def prepare(self, steps: list[_Step], diags: Diagnostics) -> list[tuple[Any, list[Patch]]]:
        """Validate and normalise every layer (all problems reported, even when another layer of
        the target is broken). The main container's name is the one the LAST layer declaring
        ``container:`` chose (default "main"), so every layer patches the same container."""
        container = next((c for c in (s.declared() for s in reversed(steps)) if c), None)
        return [((container, s.identity) if s.identity is not None else None, s.patches(container, diags))
                for s in steps]

    def fold(self, layers: list[tuple[Any, list[Patch]]], diags: Diagnostics) -> MapNode | None:
        """Merge the defaults and then each layer's patches. File layers share merged prefixes
        across targets (base/team/env layers are merged once per run).

        Linear in the number of layers: a prefix is a node of a trie (``(parent, file) -> id``,
        not a growing tuple key), only some prefixes keep their tree (:func:`_keeps_tree`: all
        short ones, then at doubling depths, and where a target's run of files ends), and the
        merges between kept trees update the trees they built in place (``owned``).
        """
        from podc.merge import merge

        tree: Node | None = self.defaults
        node = 0  # the trie node of the prefix merged so far (0: the defaults alone)
        depth = merged = 0  # file layers on the matched path / merged into ``tree``
        for identity, _ in layers:  # the longest prefix an earlier target merged
            child = self.prefix_ids.get((node, identity)) if identity is not None else None
            if child is None:
                break
            node, depth = child, depth + 1
            diags.extend(self.prefix_diags[child])
            kept = self.prefix_trees.get(child)
            if kept is not None:
                tree, merged = kept, depth
        owned: dict = {}
        replay = Diagnostics()  # layers between the last kept tree and the matched prefix: their
        shareable = True        # diagnostics were replayed above
        for i in range(merged, len(layers)):
            identity, patches = layers[i]
            local = replay if i < depth else Diagnostics()
            for patch, mode in patches:
                tree = merge(tree, patch, mode, local, owned)
            if i < depth:
                continue
            diags.extend(local.items)
            shareable = shareable and identity is not None
            if shareable:
                child = self.prefix_ids[(node, identity)] = len(self.prefix_diags)
                node = child
                self.prefix_diags.append(list(local.items))
                last = i + 1 == len(layers) or layers[i + 1][0] is None
                if _keeps_tree(i + 1, last):
                    owned = {}  # a kept tree is shared from now on: never changed again
                    self.prefix_trees[node] = tree
        return tree if isinstance(tree, MapNode) else None

    def inline(self, node: MapNode, layer: str, diags: Diagnostics) -> list[_Step]:
        if "extends" in node.items:
            diags.add("layer.extends-inline", "inline layers cannot use extends",
                      node.key_pos.get("extends", node.origin.pos),
                      hint="list the files under the target's `layers:` instead")
            return []
        return [_Step(None, node=relabel(node, layer))]  # type: ignore[arg-type]

    def files(self, ref: LayerRef, seen: set[Path], diags: Diagnostics) -> list[_Step]:
        return [_Step(loaded.path, loaded=loaded) for loaded in self.cache.expand(ref, diags, seen)]

    def extra(self, layers: Sequence[LayerInput], seen: set[Path], diags: Diagnostics, base_dir: Path) -> list[_Step]:
        steps: list[_Step] = []
        for i, layer in enumerate(layers):
            if isinstance(layer, (str, os.PathLike)):
                steps.extend(self.files(LayerRef(Path(os.path.normpath(base_dir / layer)), Pos()), seen, diags))
            elif isinstance(layer, MapNode):
                steps.append(_Step(None, node=layer))
            elif isinstance(layer, dict) or _is_named(layer):
                name, data = layer if isinstance(layer, tuple) else (f"layer-{i}", layer)
                node = from_plain(data, Origin(name, Pos(f"<{name}>")), diags)
                if isinstance(node, MapNode):
                    steps.append(_Step(None, node=node))
            else:
                diags.add("layer.type", "a layer is a file path, a dict, a (name, dict) pair or a MapNode, got "
                          f"{type(layer).__name__}")
        return steps

    def target(self, target: Target, profile: str | None, extra: Sequence[LayerInput], diags: Diagnostics):
        from podc.render.job import render_job

        project = self.project
        assert project is not None
        seen: set[Path] = set()
        steps: list[_Step] = []
        refs = list(target.layers) + list(project.profiles.get(profile, []) if profile else [])
        if target.file:
            refs.append(target.file)
        for ref in refs:
            steps.extend(self.files(ref, seen, diags))
        if target.overrides is not None:
            steps.extend(self.inline(target.overrides, f"{target.name}.overrides", diags))
        if profile and profile in target.profiles:
            steps.extend(self.inline(target.profiles[profile], f"{target.name}.profiles.{profile}", diags))
        if extra:
            steps.extend(self.extra(extra, seen, diags, Path.cwd()))
        layers = self.prepare(steps, diags)
        if diags.errors:
            return None
        tree = self.fold(layers, diags)
        if tree is None or diags.errors:
            return None
        tree = fill_metadata(tree, target.name, Origin(PROJECT_FILE, target.pos), project.namespace,
                             Origin(PROJECT_FILE, project.namespace_pos))
        facts = _facts(steps, layers)
        sources = (str(project.path),) + tuple(str(s.identity) for s in steps if s.identity is not None)
        return render_job(tree, target.name, diags, sources=sources, kubernetes_version=project.kubernetes_version,
                          memo=self.origins, facts=facts)


def _keeps_tree(depth: int, last: bool) -> bool:
    """Whether the tree merged from the first ``depth`` file layers is kept for other targets:
    every short prefix (base/team/env stacks), then every doubling, and the end of a target's
    files. Any other prefix is re-merged from the nearest kept one, which bounds both the memory
    and the re-merging of very long stacks."""
    return last or depth <= 8 or depth & (depth - 1) == 0


def _is_named(layer: Any) -> bool:
    """A named in-memory layer: ``(name, dict)``, shown in provenance as ``name``."""
    return isinstance(layer, tuple) and len(layer) == 2 and isinstance(layer[0], str) and isinstance(layer[1], dict)


def _facts(steps: list[_Step], layers: list[tuple[Any, list[Patch]]]):
    from podc.render.job import LayerFacts, deleted_volume_names

    deleted: dict[str, int] = {}  # volume name ("*": all, `volumes: null`) -> rank of the last layer deleting it
    rank: dict[str, int] = {}  # layer name -> its place in the merge order
    for _, patches in layers:
        for patch, _mode in patches:
            here = rank.setdefault(patch.origin.layer, len(rank))
            for name in deleted_volume_names(patch):
                deleted[name] = here
    named = frozenset(leaf.origin for leaf in (s.container_leaf() for s in steps) if leaf is not None)
    return LayerFacts(frozenset(deleted), named, tuple(deleted.items()), tuple(rank.items()))


def fill_metadata(tree: MapNode, name: str | None, name_origin: Origin, namespace: str | None,
                  ns_origin: Origin) -> MapNode:
    """Set metadata.name / metadata.namespace where no layer set them (a layer's value wins)."""
    meta = tree.get("metadata")
    items = dict(meta.items) if isinstance(meta, MapNode) else {}
    changed = False
    if name and "name" not in items:
        items["name"], changed = ScalarNode(name, name_origin), True
    if namespace and "namespace" not in items:
        items["namespace"], changed = ScalarNode(namespace, ns_origin), True
    if not changed:
        return tree
    ordered = {k: items[k] for k in ("name", "namespace") if k in items}
    ordered.update((k, v) for k, v in items.items() if k not in ordered)
    new_meta = MapNode(ordered, meta.origin if isinstance(meta, MapNode) else name_origin,
                       meta.key_pos if isinstance(meta, MapNode) else {}, None,
                       meta.overridden if isinstance(meta, MapNode) else ())
    top = dict(tree.items)
    top["metadata"] = new_meta
    return MapNode(top, tree.origin, tree.key_pos, None, tree.overridden)


def compile_project(path: "str | os.PathLike | Project" = ".", profile: str | None = None,
                    targets: Iterable[str] | None = None, extra_layers: Sequence[LayerInput] = ()
                    ) -> CompileResult:
    """Compile the targets of the project at ``path`` (a folder holding podc.yaml, the file, or a
    :class:`Project` from :func:`load_project`).

    ``profile`` defaults to the project's ``defaultProfile``; ``targets`` to all of them.
    ``extra_layers`` are applied last to every target. This is the compiler alone: to compile
    *and* run the project's policies, use :func:`podc.api.compile_project` (``podc.compile_project``).
    """
    with gc_paused():  # one pause for load + compile: see podc._gcpause on large pauses
        project = path if isinstance(path, Project) else load_project(path)
        return compile_loaded(project, profile, targets, extra_layers)


def compile_loaded(project: Project, profile: str | None = None, targets: Iterable[str] | None = None,
                   extra_layers: Sequence[LayerInput] = (), cache: LayerCache | None = None
                   ) -> CompileResult:
    """:func:`compile_project` for a loaded project, optionally reusing a run's layer cache."""
    diags = Diagnostics()
    chosen = project.select_profile(profile, diags)
    names = list(project.targets)
    if targets is not None:
        names = []
        for t in targets:
            if t not in project.targets:
                guess = did_you_mean(t, project.targets)
                diags.add("project.unknown-target", f"unknown target {t!r}", Pos(str(project.path)),
                          hint=f"did you mean {guess!r}?" if guess else f"targets: {', '.join(project.targets)}")
            elif t not in names:
                names.append(t)
    diags.raise_if_errors()
    run = _Run(project)
    if cache is not None:
        run.cache = cache
    jobs = []
    with gc_paused():
        for name in names:
            local = Diagnostics()  # per target: one target's errors must not stop the others
            job = run.target(project.targets[name], chosen, extra_layers, local)
            diags.extend(local.items)
            if job is not None:
                jobs.append(job)
    diags.raise_if_errors()
    if project.images:
        from podc.render.images import apply_image_overrides

        jobs = apply_image_overrides(jobs, project.images)
    return CompileResult(jobs, diags.sorted(), project, chosen, run.cache.loaded())


def compile_layers(layers: Sequence[LayerInput], *, name: str, namespace: str | None = None,
                   base_dir: str | os.PathLike | None = None):
    """One Job from ``layers`` (files, Python dicts or MapNodes), after the built-in defaults.

    File paths are relative to ``base_dir`` (default: the current folder). Raises ``PodcError``.
    """
    from podc.render.job import render_job

    base = Path(base_dir) if base_dir is not None else Path.cwd()
    run = _Run(None, base)
    diags = Diagnostics()
    steps = run.extra(layers, set(), diags, base)
    prepared = run.prepare(steps, diags)
    diags.raise_if_errors()
    tree = run.fold(prepared, diags)
    diags.raise_if_errors()
    if tree is None:
        raise PodcError.single("layer.empty", "no layers to compile")
    api = Origin("podc:compile_layers", Pos())
    tree = fill_metadata(tree, name, api, namespace, api)
    sources = tuple(str(s.identity) for s in steps if s.identity is not None)
    job = render_job(tree, name, diags, sources=sources, facts=_facts(steps, prepared))
    diags.raise_if_errors()
    return job
