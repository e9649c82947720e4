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

Every node of the result is new or shared from an input, never changed in place. A scalar that
replaced another records the loser's origin (and its history) in ``overridden``.
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


def merge(base: Node | None, patch: Node, mode: str, diags: Diagnostics) -> Node:
    """Merge ``patch`` onto ``base`` (None: nothing yet). Pure."""
    if mode not in MODES:
        raise ValueError(f"unknown merge mode {mode!r}")
    return _Merger(mode, diags).node(base, patch, (), None, None)


def _history(old: Node) -> tuple[Origin, ...]:
    return old.overridden + (old.origin,)


class _Merger:
    __slots__ = ("mode", "diags")

    def __init__(self, mode: str, diags: Diagnostics):
        self.mode = mode
        self.diags = diags

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
            for k, v in patch.items.items():
                if _deletes(v):
                    continue
                items[k] = self.fresh(v, path + (k,), k, None)
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
        items = dict(base.items)
        key_pos = dict(base.key_pos)
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
        return MapNode(items, base.origin, key_pos, None, base.overridden)

    # -- lists ---------------------------------------------------------------------------------
    def seq(self, base: SeqNode, patch: SeqNode, path: tuple, field: str | None) -> SeqNode:
        keyfn = list_key_fn(field or "", self.mode)
        if keyfn is None:  # an atomic list: replaced whole
            return self._replacing(self.fresh(patch, path, field, None), base)  # type: ignore[return-value]
        return self.keyed(base, patch, path, field or "", keyfn)

    def keyed(self, base: SeqNode | None, patch: SeqNode, path: tuple, field: str, keyfn) -> SeqNode:
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
            k = keyfn(item)
            if k is None:
                self.diags.add(
                    "merge.missing-key",
                    f"an item of {field!r} needs {key_names(field)!r} to be merged",
                    item.origin.pos, path=_show(path + (i,)),
                    hint=f"items of {field} are matched across layers by {key_names(field)}; add it")
                continue
            label = describe_key(field, k)
            if k in seen and field in KEYED_LISTS:  # identity lists (tolerations) just fold repeats
                self.diags.add(
                    "merge.duplicate-key", f"{field}{label} appears twice in one layer",
                    item.origin.pos, path=_show(path + (label,)),
                    related=[(seen[k].origin.pos, "first here")],
                    hint="keep one of them; a later layer can override it")
                continue
            seen[k] = item
            old = result.get(k)
            result[k] = self.node(old, item, path + (label,), None, field)
        origin = base.origin if base is not None else patch.origin
        overridden = base.overridden if base is not None else patch.overridden
        return SeqNode(list(result.values()), origin, None, overridden)


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
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        elif p.startswith("["):
            out += p
        else:
            out += ("." if out else "") + p
    return out
