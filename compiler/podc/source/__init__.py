"""Stage 1, load: YAML text -> positioned nodes (``podc.tree``), with size and depth limits.

``reader`` owns the YAML libraries (a fast reader for plain block YAML in ``fastyaml``, ruamel
for everything else); ``documents`` reads multi-document Kubernetes manifests for the checker
and the runtime. The names below load on first use.
"""

from __future__ import annotations

from podc._lazy import lazy_exports

__all__ = ["Limits", "DEFAULT_LIMITS", "load_file", "load_text", "load_single", "read_text",
           "SourceDocument", "load_documents"]

_LAZY = {
    "Limits": "podc.source.reader",
    "DEFAULT_LIMITS": "podc.source.reader",
    "load_file": "podc.source.reader",
    "load_text": "podc.source.reader",
    "load_single": "podc.source.reader",
    "read_text": "podc.source.reader",
    "SourceDocument": "podc.source.documents",
    "load_documents": "podc.source.documents",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
