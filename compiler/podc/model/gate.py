"""``check_layer`` / ``check_project``: the compiler's validation gate, pydantic-free for valid input.

A document the fast check (:mod:`podc.model.fast`) and the tree rules
(:mod:`podc.model.directives`) accept is valid, and nothing more is done. Anything else (invalid, or
something the fast check is unsure about) goes through the full pydantic validation
(:mod:`podc.model.validate`), which reports exactly what it always reported, so error output does
not depend on which path ran.
"""

from __future__ import annotations

from podc.errors import Diagnostics
from podc.model.directives import (
    check_directives,
    check_raw_container,
    check_references,
    inline_layers,
    is_kubernetes_object,
)
from podc.model.fast import layer_ok, project_ok
from podc.tree import MapNode, Node, to_plain

__all__ = ["check_layer", "check_project", "layer_fast_path"]


def layer_fast_path(node: Node) -> bool:
    """True when the layer is valid by the fast checks alone (no diagnostics to report)."""
    if type(node) is not MapNode or node.directive:
        return False
    scratch = Diagnostics()
    if is_kubernetes_object(node, scratch):
        return False
    data = check_directives(node, scratch)
    if scratch.items or not layer_ok(data):
        return False
    container = data.get("container")
    check_raw_container(node, container if isinstance(container, str) else None, scratch)
    return not scratch.items


def check_layer(node: Node, diags: Diagnostics) -> bool:
    """Validate a layer tree; problems go to ``diags`` (as :func:`podc.model.validate_layer` words them)."""
    from podc.model.scalars import check_spelled_scalars

    before = len(diags.errors)
    check_spelled_scalars(node, diags)
    if len(diags.errors) > before:
        return False
    if layer_fast_path(node):
        return True
    from podc.model.validate import validate_layer

    return validate_layer(node, diags) is not None


def project_fast_path(node: Node) -> bool:
    if type(node) is not MapNode or node.directive:
        return False
    scratch = Diagnostics()
    for inline in inline_layers(node):
        check_directives(inline, scratch)
    data = to_plain(node)
    if scratch.items or not project_ok(data):
        return False
    check_references(node, list(data.get("layers") or {}), list(data.get("profiles") or {}),
                     data.get("defaultProfile"), scratch)
    return not scratch.items


def check_project(node: Node, diags: Diagnostics) -> bool:
    """Validate ``podc.yaml`` (fields, types, the names it refers to); problems go to ``diags``."""
    if project_fast_path(node):
        return True
    from podc.model.validate import validate_project

    return validate_project(node, diags) is not None
