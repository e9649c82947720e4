"""Pausing Python's cycle collector while podc builds large acyclic data.

Reading YAML, building node trees and compiling allocate millions of small objects that never
form cycles; the cyclic collector re-scanning them took ~40% of a compile and 0.1-0.2 s of a
2,000-document check. Reference counting still frees everything while it is paused.

Not quite everything: a few hundred objects per compile are cyclic garbage (recursive closures,
classes ruamel builds per load). A long-running process (Dagster, a service calling
``compile_project``) must not accumulate them, so how the collector is restored depends on how
much was built during the pause:

* a small pause (an ordinary compile of a few Jobs) leaves its objects in the young generation,
  where the next automatic collection frees its garbage: cheap, and nothing accumulates;
* a large pause (``podc compile`` of 1,000 Jobs) moves its objects straight to the oldest
  generation (``gc.freeze()`` + ``gc.unfreeze()``, O(1)) instead of letting the first young
  collection scan them all (~0.1 s). CPython does not count objects moved that way towards its
  next full collection, so this module does: once large pauses have moved more than
  :data:`FULL_COLLECT_AFTER` objects, the second of them ends with one full collection. A
  one-shot CLI run never pays it; a process compiling large projects over and over frees its
  garbage every few compiles, so memory does not grow.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator

SMALL_PAUSE = 20_000  # objects (net) allocated during a pause that are left to the normal collector
FULL_COLLECT_AFTER = 200_000  # objects moved to the oldest generation before a full collection

_moved = 0  # objects moved to the oldest generation by large pauses since the last full collection
_large_pauses = 0


@contextmanager
def gc_paused() -> Iterator[None]:
    """Collector off inside; on the way out it is restored (if it was on) without rescanning what
    was built meanwhile. Nesting is fine: only the outermost pause restores it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            _enable_without_rescan()


def _enable_without_rescan() -> None:
    """Re-enable the collector (see the module docstring for the small / large rule).

    freeze + unfreeze is skipped when the program froze objects itself (unfreeze would release
    its objects too); the collector is then simply re-enabled."""
    global _moved, _large_pauses
    built = gc.get_count()[0]  # tracked objects allocated (net) since the last collection
    if built < SMALL_PAUSE or gc.get_freeze_count() != 0:
        gc.enable()
        return
    gc.freeze()
    gc.unfreeze()
    gc.enable()
    _moved += built
    _large_pauses += 1
    if _moved >= FULL_COLLECT_AFTER and _large_pauses >= 2:
        _moved = _large_pauses = 0
        gc.collect()
