"""The layer merge: canonical Job trees folded one onto another, recording provenance.

Rules (the README's merge table says the same):

* mappings merge by key; a scalar from the later layer wins; ``null`` or ``!delete`` removes a key;
* lists merge by the keys :mod:`podc.merge.keys` declares for the field; existing items keep their
  place, new items follow in the patch's order; other lists are replaced whole;
* ``!replace`` / ``$patch: replace`` replaces a map or list whole; a keyed item marked delete
  removes the base item with that key;
* union fields (a volume's source, an env var's value/valueFrom, a probe handler …) are replaced
  whole when the patch picks a different member: never two sources on one volume;
* the result never holds two items with the same key.

Every node of the result is new or shared from an input, never changed in place -- except nodes
the caller hands over in ``owned`` (see :func:`merge`). A scalar that replaced another records the
loser's origin (and its history) in ``overridden``.
"""

from __future__ import annotations

from typing import Iterable

from podc.errors import Diagnostics
from podc.merge.keys import (KEYED_LISTS, UNION_BY_FIELD, UNION_BY_LIST_ITEM, delete_selector, describe_key, key_names,
                             list_key_fn, selected)
from podc.tree import MapNode, Node, Origin, ScalarNode, SeqNode

__all__ = ["merge", "merge_all", "MODES"]

MODES = ("podc", "smp")


def merge_all(patches: Iterable[tuple[MapNode, str]], diags: Diagnostics) -> MapNode | None:
    """Fold ``(tree, mode)`` patches left to right; None when there are none."""
    result: MapNode | None = None
    for patch, mode in patches:
        merged = merge(result, patch, mode, diags)
        result = merged if isinstance(merged, MapNode) else result
    return result


def merge(base: Node | None, patch: Node, mode: str, diags: Diagnostics, owned: "Owned | None" = None) -> Node:
    """Merge ``patch`` onto ``base`` (None: nothing yet). Pure unless ``owned`` is given.

    ``owned`` makes a chain of merges linear instead of quadratic: maps and keyed lists that an
    earlier merge of the chain built (and recorded there) are updated in place instead of copied,
    and keyed lists keep their key index instead of recomputing every item's key. Only the caller
    may hold the trees of such a chain; clear ``owned`` before a tree is shared (it is then never
    changed again). The result is the same as without ``owned``.
    """
    if mode not in MODES:
        raise ValueError(f"unknown merge mode {mode!r}")
    return _Merger(mode, diags, owned).node(base, patch, (), None, None)


# id(node) -> (node, its key index or None for a map). Holding the node keeps its id unique.
Owned = dict[int, tuple[Node, "dict[tuple, int] | None"]]


def _history(old: Node) -> tuple[Origin, ...]:
    return old.overridden + (old.origin,)


class _Merger:
    __slots__ = ("mode", "diags", "owned")

    def __init__(self, mode: str, diags: Diagnostics, owned: Owned | None = None):
        self.mode = mode
        self.diags = diags
        self.owned = owned

    # field: the map key holding this node; list_field: set when this node is an item of that list.
    def node(self, base: Node | None, patch: Node, path: tuple, field: str | None, list_field: str | None) -> Node:
        if base is None:
            return self.fresh(patch, path, field, list_field)
        if patch.directive == "replace" or type(base) is not type(patch):
            return self._replacing(self.fresh(patch, path, field, list_field), base)
        if isinstance(patch, MapNode):
            return self.map(base, patch, path, field, list_field)  # type: ignore[arg-type]
        if isinstance(patch, SeqNode):
            return self.seq(base, patch, path, field)  # type: ignore[arg-type]
        return ScalarNode(patch.value, patch.origin, None, _history(base))

    @staticmethod
    def _replacing(new: Node, old: Node) -> Node:
        """``new`` (freshly built) standing where ``old`` was: a copy that remembers ``old``."""
        history = _history(old) + new.overridden
        if isinstance(new, ScalarNode):
            return ScalarNode(new.value, new.origin, None, history)
        if isinstance(new, MapNode):
            return MapNode(new.items, new.origin, new.key_pos, None, history)
        return SeqNode(new.items, new.origin, None, history)

    # -- building a node that has nothing under it -------------------------------------------
    def fresh(self, patch: Node, path: tuple, field: str | None, list_field: str | None) -> Node:
        """A patch node with no base: drop deletions, check keyed lists for duplicates."""
        if isinstance(patch, ScalarNode):
            if patch.directive is None and patch.overridden == ():
                return patch
            return ScalarNode(patch.value, patch.origin, None, patch.overridden)
        if isinstance(patch, MapNode):
            items: dict[str, Node] = {}
            same = patch.directive is None  # nothing dropped or rebuilt: the patch node itself will do
            for k, v in patch.items.items():
                if type(v) is ScalarNode:  # most values: inline what fresh() does for them
                    if v.value is None or v.directive == "delete":
                        same = False
                        continue
                    if v.directive is not None:
                        v = ScalarNode(v.value, v.origin, None, v.overridden)
                        same = False
                    items[k] = v
                    continue
                if v.directive == "delete":
                    same = False
                    continue
                new = items[k] = self.fresh(v, path + (k,), k, None)
                same = same and new is v
            if same:
                return patch
            return MapNode(items, patch.origin, patch.key_pos, None, patch.overridden)
        keyfn = list_key_fn(field or "", self.mode)
        if keyfn is None:
            items = []
            for i, v in enumerate(patch.items):
                if v.directive == "delete":  # never turn a delete request into an added item
                    self._unkeyed_delete(v, path + (i,), field)
                    continue
                items.append(self.fresh(v, path + (i,), None, field))
            return SeqNode(items, patch.origin, None, patch.overridden)
        return self.keyed(None, patch, path, field or "", keyfn)

    def _unkeyed_delete(self, item: Node, path: tuple, field: str | None) -> None:
        self.diags.add(
            "merge.delete-unkeyed",
            f"`{field}` has no merge key in Kubernetes: the list is replaced whole, so `$patch: delete` "
            "cannot remove one item", item.origin.pos, path=_show(path),
            hint=f"write the whole `{field}` list you want (kustomize would keep this item, directive and all, "
                 "and the API server would reject it)"
                 + ("; podc's friendly `tolerations:` field deletes by key" if field == "tolerations" else ""))

    # -- mappings ------------------------------------------------------------------------------
    def map(self, base: MapNode, patch: MapNode, path: tuple, field: str | None, list_field: str | None) -> MapNode:
        owned = self.owned
        in_place = owned is not None and id(base) in owned
        items = base.items if in_place else dict(base.items)
        key_pos = base.key_pos if in_place else dict(base.key_pos)
        members = _union_members(field, list_field, base, patch)
        if members is not None:
            chosen = [k for k in patch.items if k in members and not _deletes(patch.items[k])]
            if chosen:
                for k in list(items):
                    if k in members and k not in patch.items:
                        del items[k]
                        key_pos.pop(k, None)
        for k, pv in patch.items.items():
            if _deletes(pv):
                items.pop(k, None)
                key_pos.pop(k, None)
                continue
            bv = items.get(k)
            items[k] = self.node(bv, pv, path + (k,), k, None)
            if k in patch.key_pos:
                key_pos[k] = patch.key_pos[k]
        if in_place:
            return base
        result = MapNode(items, base.origin, key_pos, None, base.overridden)
        if owned is not None:
            owned[id(result)] = (result, None)
        return result

    # -- lists ---------------------------------------------------------------------------------
    def seq(self, base: SeqNode, patch: SeqNode, path: tuple, field: str | None) -> SeqNode:
        keyfn = list_key_fn(field or "", self.mode)
        if keyfn is None:  # an atomic list: replaced whole
            return self._replacing(self.fresh(patch, path, field, None), base)  # type: ignore[return-value]
        return self.keyed(base, patch, path, field or "", keyfn)

    def keyed(self, base: SeqNode | None, patch: SeqNode, path: tuple, field: str, keyfn) -> SeqNode:
        hit = self.owned.get(id(base)) if self.owned is not None and base is not None else None
        if hit is not None and hit[1] is not None:
            return self._keyed_in_place(base, hit[1], patch, path, field, keyfn)  # type: ignore[arg-type]
        result: dict[tuple, Node] = {}
        if base is not None:
            for item in base.items:
                k = keyfn(item)
                if k is not None:
                    result[k] = item
        seen: dict[tuple, Node] = {}
        for i, item in enumerate(patch.items):
            if item.directive == "delete":
                self._delete(result, item, path + (i,), field)
                continue
            k = self._patch_key(item, i, path, field, keyfn, seen)
            if k is None:
                continue
            old = result.get(k)
            result[k] = self.node(old, item, path + ((field, k),), None, field)
        origin = base.origin if base is not None else patch.origin
        overridden = base.overridden if base is not None else patch.overridden
        seq = SeqNode(list(result.values()), origin, None, overridden)
        if self.owned is not None:
            self.owned[id(seq)] = (seq, {k: i for i, k in enumerate(result)})
        return seq

    def _keyed_in_place(self, base: SeqNode, index: dict[tuple, int], patch: SeqNode, path: tuple, field: str,
                        keyfn) -> SeqNode:
        """:meth:`keyed` on a list this chain built: ``index`` (key -> position) is kept up to date
        instead of recomputing every item's key, and the list grows in place."""
        items = base.items
        seen: dict[tuple, Node] = {}
        for i, item in enumerate(patch.items):
            if item.directive == "delete":  # rare: select by the given key fields, then re-index
                current = {k: it for k, it in ((keyfn(it), it) for it in items) if k is not None}
                self._delete(current, item, path + (i,), field)
                if len(current) != len(items):
                    items[:] = list(current.values())
                    index.clear()
                    index.update((k, j) for j, k in enumerate(current))
                continue
            k = self._patch_key(item, i, path, field, keyfn, seen)
            if k is None:
                continue
            pos = index.get(k)
            if pos is None:
                index[k] = len(items)
                items.append(self.node(None, item, path + ((field, k),), None, field))
            else:
                items[pos] = self.node(items[pos], item, path + ((field, k),), None, field)
        return base

    def _patch_key(self, item: Node, i: int, path: tuple, field: str, keyfn, seen: dict[tuple, Node]) -> tuple | None:
        """The merge key of a patch's list item; None (reported) when it has none or repeats one."""
        k = keyfn(item)
        if k is None:
            self.diags.add(
                "merge.missing-key",
                f"an item of {field!r} needs {key_names(field)!r} to be merged",
                item.origin.pos, path=_show(path + (i,)),
                hint=f"items of {field} are matched across layers by {key_names(field)}; add it")
            return None
        if k in seen and field in KEYED_LISTS:  # identity lists (tolerations) just fold repeats
            label = describe_key(field, k)
            self.diags.add(
                "merge.duplicate-key", f"{field}{label} appears twice in one layer",
                item.origin.pos, path=_show(path + (label,)),
                related=[(seen[k].origin.pos, "first here")],
                hint="keep one of them; a later layer can override it")
            return None
        seen[k] = item
        return k

    def _delete(self, result: dict[tuple, Node], item: Node, path: tuple, field: str) -> None:
        """Remove the base items a ``$patch: delete`` item selects by its key fields."""
        selector = delete_selector(field, item)
        if selector is None:
            self.diags.add("merge.missing-key", f"a delete item of {field!r} needs {key_names(field)!r}",
                           item.origin.pos, path=_show(path),
                           hint=f"name the item to delete by its key: {key_names(field)}")
            return
        label = "[" + ",".join(f"{'.'.join(p)}={v}" for p, v in selector) + "]"
        gone = [k for k, base_item in result.items() if selected(field, base_item, selector)]
        for k in gone:
            del result[k]
        if not gone:
            self.diags.add("merge.delete-missing", f"nothing to delete: no {field}{label} in earlier layers",
                           item.origin.pos, path=_show(path[:-1] + (label,)), severity="warning",
                           hint="remove the delete directive, or check the key")


def _deletes(node: Node) -> bool:
    """A map value that removes its key: null, a scalar ``!delete``, or a mapping or list marked
    ``$patch: delete`` (strategic merge deletes the whole field)."""
    if isinstance(node, ScalarNode):
        return node.value is None or node.directive == "delete"
    return node.directive == "delete"


def _union_members(field: str | None, list_field: str | None, base: MapNode, patch: MapNode) -> frozenset[str] | None:
    if list_field is not None and list_field in UNION_BY_LIST_ITEM:
        members = UNION_BY_LIST_ITEM[list_field]
        if members is None:  # a volume: everything but its name is the source
            return frozenset(k for k in (*base.items, *patch.items) if k != "name")
        return members
    if field is not None:
        return UNION_BY_FIELD.get(field)
    return None


def _show(path: tuple) -> str:
    """A merge path for messages. Keyed items are kept as (field, key) while merging and only
    labelled here (``[name=FOO]``): most paths are never shown."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        elif isinstance(p, tuple):
            out += describe_key(*p)
        elif p.startswith("["):
            out += p
        else:
            out += ("." if out else "") + p
    return out
