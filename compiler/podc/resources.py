"""Where podc's shipped data lives: the pinned schemas and the built-in policy packs.

In a wheel they are inside the package (``podc/_data/<kind>``); in a source checkout (editable
install, tests) they are the repository's top-level ``schemas/`` and ``policies/`` folders.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def data_path(kind: str) -> Path:
    """The folder holding ``kind`` ("schemas" or "policies")."""
    installed = _PACKAGE_DIR / "_data" / kind
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parents[1] / kind
