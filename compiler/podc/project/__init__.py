"""Stage 2, resolve: a podc.yaml project -> targets, profiles and the ordered layers of each.

``loader`` reads the project file; ``layers`` loads, caches and names the layer files. The
names below load on first use.
"""

from __future__ import annotations

from podc._lazy import lazy_exports

__all__ = ["LayerRef", "Target", "Project", "LoadedLayer", "LayerCache", "Patch", "load_project",
           "find_project_file", "PROJECT_FILE"]

_LAZY = {
    **{name: "podc.project.loader" for name in ("Target", "Project", "load_project", "find_project_file",
                                                "PROJECT_FILE")},
    **{name: "podc.project.layers" for name in ("LayerRef", "LoadedLayer", "LayerCache", "Patch")},
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
