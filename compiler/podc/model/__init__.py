"""Typed models of the podc/v1 formats (layer and project files), built on pydantic v2.

Building the models costs ~150 ms, so importing this package does NOT: the names below are loaded
on first use. The compiler goes through :mod:`podc.model.gate` (pydantic-free for valid input);
``podc.model.constants``, ``.rules`` and ``.directives`` never import pydantic either.
"""

from __future__ import annotations

from podc._lazy import lazy_exports

__all__ = ["LayerSpec", "ProjectSpec", "PolicyException", "validate_layer", "validate_project", "check_directives"]

_LAZY = {
    "LayerSpec": "podc.model.layer",
    "PolicyException": "podc.model.layer",
    "ProjectSpec": "podc.model.project",
    "validate_layer": "podc.model.validate",
    "validate_project": "podc.model.validate",
    "check_directives": "podc.model.directives",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
