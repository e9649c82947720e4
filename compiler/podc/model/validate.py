"""``validate_layer`` / ``validate_project``: positioned trees in, typed specs (or diagnostics) out.

These build and run the pydantic models; the compiler calls the fast gate
(:mod:`podc.model.gate`) instead, which comes here only for documents it cannot accept.
"""

from __future__ import annotations

from pydantic import ValidationError

from podc.errors import Diagnostics
from podc.model.directives import (
    KEYED_LISTS,
    check_directives,
    check_raw_container,
    check_references,
    inline_layers,
    is_kubernetes_object,
)
from podc.model.layer import LayerSpec
from podc.model.locate import report_errors
from podc.model.project import ProjectSpec
from podc.tree import MapNode, Node, ScalarNode, to_plain

__all__ = ["validate_layer", "validate_project", "check_directives", "KEYED_LISTS"]


def _kind(node: Node, diags: Diagnostics, prefix: str, what: str) -> bool:
    if isinstance(node, MapNode):
        return True
    value = node.value if isinstance(node, ScalarNode) else []
    from podc.model.common import kind_of

    diags.add(f"{prefix}.type", f"a {what} file is a mapping of fields, got {kind_of(value)}", node.origin.pos)
    return False


def validate_layer(node: Node, diags: Diagnostics) -> LayerSpec | None:
    """Validate a layer tree; every problem goes to ``diags``. None when the layer is invalid."""
    if not _kind(node, diags, "layer", "layer"):
        return None
    if is_kubernetes_object(node, diags):
        return None
    before = len(diags.errors)
    data = check_directives(node, diags)
    try:
        spec = LayerSpec.model_validate(data)
    except ValidationError as e:
        report_errors(e.errors(include_url=False), node, LayerSpec, diags, "layer")
        return None
    check_raw_container(node, spec.container, diags)
    return spec if len(diags.errors) == before else None


def validate_project(node: Node, diags: Diagnostics) -> ProjectSpec | None:
    """Validate ``podc.yaml``; also checks that names it uses (profiles, layers) exist."""
    if not _kind(node, diags, "project", "project"):
        return None
    before = len(diags.errors)
    if node.directive:
        diags.add("project.directive", f"a project file cannot be marked !{node.directive}", node.origin.pos)
    for inline in inline_layers(node):
        check_directives(inline, diags)
    try:
        spec = ProjectSpec.model_validate(to_plain(node))
    except ValidationError as e:
        report_errors(e.errors(include_url=False), node, ProjectSpec, diags, "project")
        return None
    check_references(node, list(spec.layers or {}), list(spec.profiles or {}), spec.defaultProfile, diags)
    return spec if len(diags.errors) == before else None
