"""The runtime's worker thread: grace deadlines and the I/O that diagnoses need.

Watch threads never block on requests: when a diagnosis needs Events or a log tail, or a Job the
runtime declared failed must be deleted, they queue a :class:`FollowUp` and this loop runs it,
then re-evaluates the Job. The same loop wakes every ``tick`` to fire grace deadlines.
"""

from __future__ import annotations

import logging
import queue
import time
from typing import TYPE_CHECKING

from podc.runtime import api
from podc.runtime.retry import ApiError
from podc.runtime.tracker import FollowUp, evaluate

if TYPE_CHECKING:
    from podc.runtime.runtime import Runtime

log = logging.getLogger("podc.runtime")


def work_loop(rt: "Runtime") -> None:
    while not rt._closed:
        try:
            item = rt._followups.get(timeout=rt._tick)
        except queue.Empty:
            item = None
        if item is not None and item.kind != "stop":
            run_followup(rt, item)
        check_deadlines(rt)


def check_deadlines(rt: "Runtime") -> None:
    now = time.monotonic()
    todo: list[FollowUp] = []
    with rt._changed:
        for rec in rt._records.values():
            if rec.next_deadline is not None and rec.next_deadline <= now:
                changed, followup = evaluate(rec, now, rt.timeouts)
                rt._after_change(rec, changed)
                if followup:
                    todo.append(followup)
    for item in todo:
        run_followup(rt, item)


def run_followup(rt: "Runtime", item: FollowUp) -> None:
    try:
        if item.kind == "events":
            with rt._lock:
                rec = rt._records[item.name]
                waiting = tuple(n for n, p in rec.pods.items()
                                if (p.get("status") or {}).get("phase") in (None, "Pending"))
            events = api.job_events(rt.transport, rt.namespace, item.name, waiting[:3])
            with rt._changed:
                rec = rt._records[item.name]
                rec.events, rec.events_at = events, time.monotonic()
        elif item.kind == "logs":
            lines = rt._safe_tail(item.pod or "", item.container)
            with rt._changed:
                rt._records[item.name].log_tail = lines
        elif item.kind == "delete" and rt.delete_failed:
            api.delete_job(rt.transport, rt.namespace, item.name, "Background")
    except ApiError as err:
        log.warning("follow-up %s for job/%s failed: %s", item.kind, item.name, err)
    finally:
        _resume(rt, item)


def _resume(rt: "Runtime", item: FollowUp) -> None:
    """Re-evaluate after a follow-up; a failed fetch counts as 'nothing found' (no busy loop)."""
    if item.kind not in ("events", "logs"):
        return
    with rt._changed:
        rec = rt._records.get(item.name)
        if rec is None:
            return
        rec.followup_pending = False
        if item.kind == "logs" and rec.log_tail is None:
            rec.log_tail = []
        if item.kind == "events" and (rec.events is None
                                      or time.monotonic() - rec.events_at > 1.0):
            rec.events, rec.events_at = [], time.monotonic()
        changed, again = evaluate(rec, time.monotonic(), rt.timeouts)
        rt._after_change(rec, changed)
    if again:
        rt._followups.put(again)
