"""The runtime's worker thread: grace deadlines and the I/O that diagnoses need.

Watch threads never block on requests: when a diagnosis needs Events or a log tail, or a Job the
runtime declared failed must be deleted, they queue a :class:`FollowUp` and this loop runs it,
then re-evaluates the Job. The same loop wakes every ``tick`` to fire grace deadlines.
"""

from __future__ import annotations

import logging
import queue
import time
from typing import Any

import podc.runtime.api as api
from podc.runtime.retry import ApiError
from podc.runtime.tracker import FollowUp, evaluate

log = logging.getLogger("podc.runtime")

# Every function takes the podc.runtime.runtime.Runtime it works for (typed loosely: that module
# imports this one).


def work_loop(rt: Any) -> None:
    while not rt._closed:
        try:
            item = rt._followups.get(timeout=rt._tick)
        except queue.Empty:
            item = None
        try:
            if item is not None and item.kind != "stop":
                run_followup(rt, item)
            check_deadlines(rt)
        except Exception:  # noqa: BLE001 - the worker must outlive one bad follow-up
            log.exception("runtime worker: unexpected error")


def check_deadlines(rt: Any) -> None:
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


def run_followup(rt: Any, item: FollowUp) -> None:
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
                rec.events_fetches += 1
        elif item.kind == "logs":
            lines = rt._safe_tail(item.pod or "", item.container)
            with rt._changed:
                rt._records[item.name].log_tail = lines
        elif item.kind == "delete" and rt.delete_failed:
            api.delete_job(rt.transport, rt.namespace, item.name, "Background")
    except KeyError:
        pass  # the Job was dropped meanwhile (its create failed)
    except ApiError as err:
        if err.kind != "interrupted":
            log.warning("follow-up %s for job/%s failed: %s", item.kind, item.name, err)
    finally:
        _resume(rt, item)


def _resume(rt: Any, item: FollowUp) -> None:
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
            rec.events_fetches += 1
        changed, again = evaluate(rec, time.monotonic(), rt.timeouts)
        rt._after_change(rec, changed)
    if again:
        rt._followups.put(again)
