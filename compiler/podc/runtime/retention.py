"""Forgetting Jobs a long-lived :class:`~podc.runtime.Runtime` no longer needs.

A Runtime keeps a record of every Job its watch has seen, which suits one run. ``PodcRunLauncher``
keeps one Runtime per namespace for *all* run workers, in a daemon that runs for months: the
records of workers whose Job has finished and is gone (its TTL, a cancellation) are dropped so
memory stays bounded. A Job that reappears is tracked again from its next watch event.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from podc.runtime.naming import label_value

if TYPE_CHECKING:
    from podc.runtime.runtime import Runtime

__all__ = ["forget_gone"]


def forget_gone(rt: "Runtime", older_than: float = 600.0) -> int:
    """Drop the records of Jobs that are terminal, deleted, without Pods, and were last
    observed ``older_than`` seconds ago or more. Returns how many were dropped."""
    now = time.time()
    with rt._changed:
        gone = [name for name, rec in rt._records.items()
                if rec.deleted and rec.phase.terminal and not rec.pods
                and now - rec.observed_at >= older_than]
        for name in gone:
            rec = rt._records.pop(name)
            if rt._by_step.get((label_value(rec.step_key), str(rec.attempt))) == name:
                del rt._by_step[(label_value(rec.step_key), str(rec.attempt))]
    return len(gone)
