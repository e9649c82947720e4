"""Stage 5, render: the merged tree -> a deterministic batch/v1 Job with per-value provenance.

``compiled`` defines the result types; ``job`` renders (with the secure defaults), ``checks``
applies the cross-field rules a per-layer schema cannot see, ``provenance`` answers "who set
this?" (``podc explain``). The names below load on first use.
"""

from __future__ import annotations

from podc._lazy import lazy_exports

__all__ = ["ValueOrigin", "CompiledJob", "Provenance", "LayerFacts", "render_job", "defaults", "Defaults",
           "deleted_volume_names", "DEFAULTS_LAYER", "DEFAULTS_FILE", "check_job",
           "ExplainRecord", "explain", "resolve_field_path", "display_path", "source_text_at", "MASK"]

_LAZY = {
    "ValueOrigin": "podc.render.compiled",
    "CompiledJob": "podc.render.compiled",
    "DEFAULTS_LAYER": "podc.render.compiled",
    **{name: "podc.render.job" for name in ("Provenance", "LayerFacts", "render_job", "defaults", "Defaults",
                                            "deleted_volume_names", "DEFAULTS_FILE")},
    "check_job": "podc.render.checks",
    **{name: "podc.render.provenance" for name in ("ExplainRecord", "explain", "resolve_field_path",
                                                   "display_path", "source_text_at", "MASK")},
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
