"""``gc_paused``: the collector is off while trees are built, and the objects built meanwhile do
not become a backlog that the first young collection afterwards scans (~0.1 s per 1000 Jobs)."""

from __future__ import annotations

import gc

from podc.pipeline import gc_paused


def test_objects_built_while_paused_skip_the_young_generation():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        built = [[i] for i in range(50_000)]
    assert gc.isenabled()
    assert gc.get_count()[0] < 1_000  # not 50 000 young objects waiting to be scanned
    assert len(built) == 50_000


def test_cycles_made_while_paused_are_still_collected():
    class Node:
        pass

    with gc_paused():
        a, b = Node(), Node()
        a.other, b.other = b, a
        del a, b
    assert gc.collect() >= 2  # a full collection still finds them


def test_objects_the_program_froze_stay_frozen():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with gc_paused():
            [[i] for i in range(1000)]
        assert gc.get_freeze_count() >= frozen  # gc_paused did not unfreeze them
    finally:
        gc.unfreeze()


def test_nested_pauses_resume_only_at_the_outer_end():
    with gc_paused():
        with gc_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
