"""A long-running process that compiles again and again does not grow (issue 11 §2).

Before: 3,000 in-process ``compile_project`` calls left ~168,000 uncollected objects (cyclic
garbage hidden in the oldest generation by the gc pause) and ~40 live objects per compile in
ruamel's shared loader. Counted after a full collection, live objects must stay flat; without
one, the garbage the program carries must stay bounded.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import podc

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = str(ROOT / "examples" / "platform")


def _live() -> int:
    gc.collect()
    return len(gc.get_objects())


def test_many_small_compiles_do_not_grow():
    for _ in range(20):  # warm caches
        podc.compile_project(PLATFORM, check=False)
    before = _live()
    for _ in range(200):
        podc.compile_project(PLATFORM, check=False)
    uncollected = gc.collect()  # garbage left behind by the pauses, found only now
    after = len(gc.get_objects())
    assert after - before < 500, (before, after)  # no per-compile live growth (was ~40/compile)
    assert uncollected < 5_000, uncollected  # was ~740 per compile, never collected


def test_repeated_large_compiles_keep_garbage_bounded(tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from bench_compile import write_podc
    finally:
        sys.path.remove(str(ROOT / "bench"))
    project = str(write_podc(tmp_path / "p", 150))  # a pause large enough for the freeze path
    podc.compile_project(project, check=False)
    before = _live()
    for _ in range(4):
        podc.compile_project(project, check=False)
    uncollected = gc.collect()
    after = len(gc.get_objects())
    assert after - before < 2_000, (before, after)
    # at most the garbage of the last couple of large compiles is still waiting for collection
    assert uncollected < 60_000, uncollected


def test_compile_and_check_leave_no_cyclic_garbage(tmp_path):
    """Reference counting frees everything a compile builds: no recursive closure or other cycle
    is left for the collector (5,000 layers used to leave 200,000 objects behind, a full
    collection of 0.4 s). Files the fast reader handles are checked; ruamel (the full loader)
    still builds a class per load, which the periodic full collection frees."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from bench_compile import write_podc
    finally:
        sys.path.remove(str(ROOT / "bench"))
    project = str(write_podc(tmp_path / "p", 20))
    podc.compile_project(project, check=True)  # warm caches: compiled rules, loaded packs
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        podc.compile_project(project, check=True)
        podc.check_project(project)
        gc.collect()
        kinds = sorted({type(o).__name__ for o in gc.garbage})
        assert len(gc.garbage) == 0, kinds
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
