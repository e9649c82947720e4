"""Scalars whose meaning depends on the reader, refused where podc would give them a third meaning.

podc reads every plain scalar as kustomize does (:mod:`podc.source.scalars`): ``0400`` is 256,
``True`` is a boolean, ``1.10`` is the number 1.1. Two places still disagree, and there podc
refuses the scalar with a located error saying how to quote it:

* where podc turns the value into a string (labels, annotations, nodeSelector, env values,
  ``args``, ``command``): podc would write ``"256"``, ``"true"``, ``"1.1"``, but kustomize keeps
  labels and annotations as written (``"0400"``, ``"True"``, ``"1.10"``) and writes numbers
  elsewhere (which the API server rejects in a string field);
* a plain timestamp (``2024-01-01``) outside labels and annotations: podc keeps the text,
  kustomize rewrites it (``2024-01-01T00:00:00Z``).

Numbers in number fields (``defaultMode: 0400``, ``backoffLimit: 0x10``) mean the same to
everyone and pass.
"""

from __future__ import annotations

from podc.errors import Diagnostics
from podc.tree import MapNode, Node, ScalarNode, SeqNode

__all__ = ["check_spelled_scalars"]

_META = frozenset(("labels", "annotations", "jobLabels", "jobAnnotations", "podLabels", "podAnnotations"))
_STRING_MAPS = frozenset(("nodeSelector",))
_STRING_LISTS = frozenset(("args", "command"))
_CONTAINER_HOLDERS = frozenset(("initContainers", "sidecars"))
# podc's own fields never reach another tool: `expires: 2027-03-31` is a date podc reads as text.
_PODC_ONLY = frozenset(("exceptions", "extends", "apiVersion", "kind"))


def check_spelled_scalars(layer: Node, diags: Diagnostics) -> None:
    """Report the reader-dependent scalars of a friendly layer (see the module docstring)."""
    if not isinstance(layer, MapNode):
        return
    _walk(layer, diags, root=True)


def _walk(node: MapNode, diags: Diagnostics, *, root: bool) -> None:
    for key, value in node.items.items():
        if root and key in _PODC_ONLY:
            continue
        if key in _META or key in _STRING_MAPS:
            if isinstance(value, MapNode):
                for v in value.items.values():
                    _string(v, diags, keeps_text=key in _META)
            continue
        if key in _STRING_LISTS and isinstance(value, SeqNode):
            for v in value.items:
                _string(v, diags, keeps_text=False)
            continue
        if key == "env":
            _env(value, diags)
            continue
        if key == "raw" and root and isinstance(value, MapNode):
            _raw(value, diags)
            continue
        if root and key in _CONTAINER_HOLDERS and isinstance(value, MapNode):
            for entry in value.items.values():
                if isinstance(entry, MapNode):
                    _walk(entry, diags, root=False)
            continue
        _other(value, diags)


def _env(value: Node, diags: Diagnostics) -> None:
    if isinstance(value, MapNode):
        for v in value.items.values():
            if isinstance(v, MapNode):
                _string(v.items.get("value"), diags, keeps_text=False)
                _other(v, diags)
            else:
                _string(v, diags, keeps_text=False)
    elif isinstance(value, SeqNode):
        for item in value.items:
            if isinstance(item, MapNode):
                _string(item.items.get("value"), diags, keeps_text=False)


def _raw(node: Node, diags: Diagnostics) -> None:
    """Raw fragments keep typed values (as kustomize does), except labels and annotations,
    which kustomize keeps as written."""
    if isinstance(node, MapNode):
        for key, value in node.items.items():
            if key in ("labels", "annotations") and isinstance(value, MapNode):
                for v in value.items.values():
                    _string(v, diags, keeps_text=True)
            else:
                _raw(value, diags)
    elif isinstance(node, SeqNode):
        for item in node.items:
            _raw(item, diags)
    else:
        _other(node, diags)


def _other(node: Node | None, diags: Diagnostics) -> None:
    """Anywhere else: only plain timestamps are refused."""
    if isinstance(node, ScalarNode):
        # The reader marks a string as spelled only when it is a plain timestamp (podc.source.scalars).
        if node.spelled is not None and isinstance(node.value, str):
            diags.add("yaml.ambiguous-scalar",
                      f"{node.spelled} is a timestamp to YAML readers: kustomize and kubectl rewrite it "
                      f"(e.g. as {_rfc3339(node.spelled)}), podc would keep the text",
                      node.origin.pos, hint=f'quote it ("{node.spelled}") to keep the text')
    elif isinstance(node, MapNode):
        for v in node.items.values():
            _other(v, diags)
    elif isinstance(node, SeqNode):
        for v in node.items:
            _other(v, diags)


def _string(node: Node | None, diags: Diagnostics, *, keeps_text: bool) -> None:
    if not isinstance(node, ScalarNode) or node.spelled is None:
        return
    text, value = node.spelled, node.value
    if isinstance(value, str):  # a timestamp: text kept where kustomize keeps it too
        if not keeps_text:
            _other(node, diags)
        return
    if keeps_text:
        theirs = f"kustomize keeps {text!r} as written"
    else:
        theirs = f"kustomize writes the {_kind(value)} {_show(value)}"
    diags.add("yaml.ambiguous-scalar",
              f"{text} is the {_kind(value)} {_show(value)} in YAML; this field is text, and {theirs}",
              node.origin.pos, hint=f'quote it ("{text}") for the text as written, or write {_canonical(value)!r}')


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    return "integer" if isinstance(value, int) else "number"


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _canonical(value: object) -> str:
    return _show(value)


def _rfc3339(text: str) -> str:
    if len(text) == 10:
        return text + "T00:00:00Z"
    return text.replace(" ", "T").replace("t", "T")
