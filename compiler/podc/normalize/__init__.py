"""Stage 3, normalize: a friendly podc layer -> a canonical partial-Job tree the merge folds.

``layer`` is the entry point; ``build`` holds the tree builders, ``container`` and ``volumes``
the field groups. The names below load on first use.
"""

from __future__ import annotations

from podc._lazy import lazy_exports

__all__ = ["normalize_layer", "normalize_python_layer", "declared_container", "policy_exceptions",
           "deleted_volume_names", "LayerException", "DEFAULT_CONTAINER"]

_LAZY = {name: "podc.normalize.layer" for name in __all__}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
