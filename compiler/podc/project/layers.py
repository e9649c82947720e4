"""Layer files of a project: read, validated and normalised once per run (:class:`LayerCache`),
with their ``extends`` expanded depth-first. Re-exported by :mod:`podc.project`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Protocol

from podc._record import field, record
from podc.errors import Diagnostics, PodcError, Pos
from podc.tree import MapNode, ScalarNode, SeqNode



class ProjectNames(Protocol):
    """What the layer cache needs of a project (:class:`podc.project.loader.Project` is one):
    its folder and how it names layer files. A protocol, so this module needs no import of the
    loader that imports it."""

    root: Path

    def layer_name(self, path: Path) -> str: ...

    def relative(self, path: Path) -> str: ...


Patch = tuple[MapNode, str]


@record(frozen=True)
class LayerRef:
    """A reference to a layer file, with the place that names it (for errors)."""

    path: Path
    pos: Pos
    written: str | None = None  # the path as the user wrote it (for "not found" messages)
    defined_at: Pos | None = None  # where a named layer's path is written (`layers:`), if by name


@record
class LoadedLayer:
    """A layer file read once per run. Its patches depend on the main container's name (the last
    layer of a target that declares ``container:`` names it), so they are cached per name."""

    path: Path
    name: str
    extends: list[LayerRef]
    node: MapNode  # without ``extends``
    _patches: dict[str | None, tuple[list[Patch], list]] = field(default_factory=dict)

    def patches(self, container: str | None, diags: Diagnostics) -> list[Patch]:
        hit = self._patches.get(container)
        if hit is None:
            local = Diagnostics()
            hit = (normalize_node(self.node, local, container) or [], list(local.items))
            self._patches[container] = hit
        diags.extend(hit[1])
        return hit[0]


class LayerCache:
    """Layer files read, validated and normalised once per run, keyed by absolute path."""

    def __init__(self, project: ProjectNames | None = None, base_dir: Path | None = None):
        self.project = project
        self.base_dir = base_dir or (project.root if project else Path.cwd())
        self._layers: dict[Path, LoadedLayer | None] = {}
        self._errors: dict[Path, list] = {}  # what loading a file reported, repeated on each use
        self._real_dirs: dict[str, str] = {}  # folder -> its realpath, for this run

    def name_for(self, path: Path) -> str:
        return self.project.layer_name(path) if self.project is not None else self.relative(path)

    def relative(self, path: Path) -> str:
        """``path`` relative to the project folder (or the base folder), as written in messages."""
        if self.project is not None:
            return self.project.relative(path)
        try:
            return Path(os.path.relpath(path, self.base_dir)).as_posix()
        except ValueError:
            return path.as_posix()

    def loaded(self) -> dict[str, LoadedLayer]:
        """The layer files read so far that loaded cleanly, by path (as ``CompiledJob.sources``
        names them): the checker reads ``exceptions:`` from these instead of reading files again."""
        return {str(path): layer for path, layer in self._layers.items() if layer is not None}

    def _realpath(self, path: Path) -> tuple[str, bool | None]:
        """``os.path.realpath(path)``, resolving each folder once per run: realpath checks every
        component of the path for a link, which for thousands of layer files in a few folders is
        mostly the same work again. The file itself is checked every time; when it is not a link,
        whether it is a folder comes along (its lstat is its stat), else None."""
        import stat

        folder, name = os.path.split(path)
        if not folder or name in ("", ".", ".."):
            return os.path.realpath(path), None
        real_folder = self._real_dirs.get(folder)
        if real_folder is None:
            real_folder = self._real_dirs[folder] = os.path.realpath(folder)
        joined = os.path.join(real_folder, name)
        try:
            mode = os.lstat(joined).st_mode
        except (OSError, ValueError):  # missing: realpath keeps the name as it is
            return joined, None
        return (os.path.realpath(joined), None) if stat.S_ISLNK(mode) else (joined, stat.S_ISDIR(mode))

    def get(self, ref: LayerRef, diags: Diagnostics) -> LoadedLayer | None:
        path = ref.path
        if path not in self._layers:
            local = Diagnostics()
            self._layers[path] = self._load(ref, local)
            self._errors[path] = local.items
        diags.extend(self._errors[path])
        return self._layers[path]

    def _load(self, ref: LayerRef, diags: Diagnostics) -> LoadedLayer | None:
        from podc.source.reader import load_single

        path = ref.path
        roots = getattr(self.project, "roots", None)
        is_dir = None
        if roots is not None:
            real, is_dir = self._realpath(path)
            if not roots.admit(path, ref.pos, "layer file", ref.written, diags, real):
                return None  # refused before reading: nothing of a foreign file reaches a message
        # a FIFO or a device exists: the reader refuses it
        if is_dir or (is_dir is None and not _exists_not_dir(path)):
            _missing_layer(ref, self.relative(path), self.name_for(path), diags)
            return None
        name = self.name_for(path)
        try:
            node = load_single(path, layer=name)
        except PodcError as e:
            diags.extend(e.diagnostics)
            return None
        if not isinstance(node, MapNode):
            diags.add("layer.type", "a layer file is a mapping", node.origin.pos)
            return None
        if _foreign(node):
            diags.add("layer.not-a-layer", f"{self.relative(path)} does not look like a podc layer: none of its "
                      f"{len(node.items)} top-level keys is a layer field (its content is not shown)",
                      ref.pos, hint="check the path; a layer sets fields such as image, env, resources")
            return None
        extends, node = _take_extends(node, path.parent, diags)
        return LoadedLayer(path, name, extends, node)

    def expand(self, ref: LayerRef, diags: Diagnostics, seen: set[Path] | None = None,
               chain: tuple[Path, ...] = ()) -> list[LoadedLayer]:
        """``ref`` after its ``extends``, depth-first; files in ``seen`` are skipped (each once).

        Iterative (an explicit stack), so an ``extends`` chain thousands of files long is read
        like a short one instead of overflowing Python's recursion limit."""
        seen = set() if seen is None else seen
        out: list[LoadedLayer] = []
        stack: list[list] = []  # frames: [ref, chain above it, its layer, index of the next parent]

        def enter(r: LayerRef, above: tuple[Path, ...]) -> None:
            if r.path in above:
                cycle = [self.name_for(p) for p in above[above.index(r.path):]] + [self.name_for(r.path)]
                diags.add("layer.extends-cycle", "extends cycle: " + " → ".join(cycle), r.pos,
                          hint="remove one of the `extends` entries so the layers form a tree")
                return
            if r.path in seen:
                return
            layer = self.get(r, diags)
            if layer is None:
                seen.add(r.path)
                return
            stack.append([r, above, layer, 0])

        enter(ref, chain)
        while stack:
            frame = stack[-1]
            r, above, layer, i = frame
            if i < len(layer.extends):
                frame[3] = i + 1
                enter(layer.extends[i], above + (r.path,))
                continue
            stack.pop()
            if r.path not in seen:
                seen.add(r.path)
                out.append(layer)
        return out


def _exists_not_dir(path: Path) -> bool:
    """``path.exists() and not path.is_dir()`` with one stat instead of two (once per layer file)."""
    import errno
    import stat

    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP) \
                or getattr(e, "winerror", None) in (21, 123, 1921):
            return False  # what pathlib's exists() and is_dir() treat as "no such file"
        raise
    except ValueError:  # a NUL in the path
        return False
    return not stat.S_ISDIR(mode)


def _foreign(node: MapNode) -> bool:
    """A mapping none of whose keys is a layer field (a credentials file, someone's config): listing
    its keys as "unknown field" errors would print its content. A layer with typos (``imagee``)
    has keys close to a field, and gets the usual did-you-mean errors."""
    from podc.errors import did_you_mean
    from podc.model.fast import layer_field_names

    fields = layer_field_names()
    return (bool(fields) and bool(node.items)
            and not any(k in fields or did_you_mean(str(k), fields) for k in node.items))


_WINDOWS_DRIVE = re.compile(r"[A-Za-z]:[\\/]")


def _missing_layer(ref: LayerRef, relative: str, name: str, diags: Diagnostics) -> None:
    """A layer path that names no file: a folder, a Windows-style path, or simply nothing."""
    shown = relative + (f" (layer `{name}`)" if name != relative else "")
    # a layer used by name is reported where its path is written (the line to fix)
    where, related = ref.pos, []
    if ref.defined_at is not None and ref.defined_at != ref.pos:
        where, related = ref.defined_at, [(ref.pos, f"layer `{name}` is used here")]
    if ref.path.is_dir():
        diags.add("input.not-a-file", f"expected a layer file, found a directory: {shown}", where,
                  hint="name a .yaml file inside it", related=related)
        return
    written = ref.written or relative
    if _WINDOWS_DRIVE.match(written):
        hint = "podc paths use `/` on every OS and are relative to the file that names them, not absolute (`C:\\…`)"
    elif "\\" in written:
        fixed = written.replace("\\", "/")
        hint = f"podc paths use `/` on every OS and are relative to the file that names them: `{fixed}`"
    else:
        hint = "paths are relative to the file that names them"
    diags.add("input.missing-file", f"layer file not found: {shown}", where, hint=hint, related=related)


def _take_extends(node: MapNode, base: Path, diags: Diagnostics) -> tuple[list[LayerRef], MapNode]:
    ext = node.get("extends")
    if ext is None:
        return [], node
    rest = {k: v for k, v in node.items.items() if k != "extends"}
    stripped = MapNode(rest, node.origin, {k: p for k, p in node.key_pos.items() if k != "extends"},
                       node.directive, node.overridden)
    items = [ext] if isinstance(ext, ScalarNode) else ext.items if isinstance(ext, SeqNode) else None
    refs: list[LayerRef] = []
    if items is None:
        diags.add("layer.type", "extends must be a file path or a list of file paths", ext.origin.pos)
        return [], stripped
    for item in items:
        if not isinstance(item, ScalarNode) or not isinstance(item.value, str) or not item.value:
            diags.add("layer.type", "extends entries are file paths (strings)", item.origin.pos)
            continue
        refs.append(LayerRef(Path(os.path.normpath(base / item.value)), item.origin.pos, item.value))
    return refs, stripped


def normalize_node(node: MapNode, diags: Diagnostics, container: str | None = None) -> list[Patch] | None:
    """Validate one layer mapping and normalise it into canonical patches; None on errors."""
    from podc.normalize.layer import normalize_layer

    before = len(diags.errors)
    patches = normalize_layer(node, diags, container=container)
    if len(diags.errors) > before:
        return None
    return patches
