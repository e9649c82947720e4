"""Deadlines: every wait of the runtime is bounded by what the caller asked for.

A deadline is an absolute ``time.monotonic()`` value (or None: no bound). :func:`deadline_scope`
sets one for the calling thread, and every API request made inside it (with its retries and
their sleeps) ends by then. Socket timeouts alone cannot do that: a server that answers one byte
every two seconds never trips a 30-second read timeout. So blocking I/O is also registered with
the :data:`watchdog`, one process-wide thread (``podc-deadline``) that shuts the socket down when
the deadline passes. It runs only while something is registered and exits soon after.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

__all__ = ["deadline_scope", "current_deadline", "earliest", "left", "Watchdog", "watchdog",
           "podc_threads"]

_local = threading.local()


def earliest(*deadlines: float | None) -> float | None:
    """The first of some deadlines (None means no bound)."""
    known = [d for d in deadlines if d is not None]
    return min(known) if known else None


def left(deadline: float | None) -> float | None:
    """Seconds until ``deadline`` (never negative), None when unbounded."""
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def current_deadline() -> float | None:
    """The calling thread's deadline (set by :func:`deadline_scope`), or None."""
    return getattr(_local, "deadline", None)


@contextmanager
def deadline_scope(seconds: float | None = None, *, at: float | None = None) -> Iterator[float | None]:
    """Bound every request made by this thread inside the block: ``seconds`` from now, or the
    absolute monotonic time ``at``. Nested scopes only ever tighten the bound."""
    outer = current_deadline()
    mine = at if seconds is None else time.monotonic() + max(0.0, seconds)
    _local.deadline = earliest(outer, mine)
    try:
        yield _local.deadline
    finally:
        _local.deadline = outer


class Ticket:
    """A scheduled action; :meth:`cancel` before it fires and it never runs."""

    __slots__ = ("when", "action", "cancelled")

    def __init__(self, when: float, action: Callable[[], None]) -> None:
        self.when, self.action, self.cancelled = when, action, False

    def cancel(self) -> None:
        self.cancelled = True


class Watchdog:
    """Runs short actions (closing a socket) at given monotonic times, on one lazily started
    thread. The thread exits once nothing has been scheduled for ``linger`` seconds, or at once
    through :meth:`stop_if_idle` (called by ``Runtime.close()``), so no thread outlives its use."""

    def __init__(self, name: str = "podc-deadline", linger: float = 0.5) -> None:
        self._name = name
        self._linger = linger
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Ticket]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._quit = False

    def schedule(self, when: float, action: Callable[[], None]) -> Ticket:
        ticket = Ticket(when, action)
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._seq), ticket))
            self._quit = False
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            elif self._heap[0][2] is ticket:
                self._cond.notify()  # only an earlier wake-up needs the thread's attention
        return ticket

    def stop_if_idle(self, timeout: float = 1.0) -> bool:
        """Make the thread exit now if no live ticket is pending; True when no thread is left."""
        with self._cond:
            self._heap = [entry for entry in self._heap if not entry[2].cancelled]
            heapq.heapify(self._heap)
            if self._heap:
                return False
            self._quit = True
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _run(self) -> None:
        idle_since = time.monotonic()
        while True:
            due: list[Ticket] = []
            with self._cond:
                now = time.monotonic()
                while self._heap and (self._heap[0][2].cancelled or self._heap[0][0] <= now):
                    _, _, ticket = heapq.heappop(self._heap)
                    if not ticket.cancelled:
                        due.append(ticket)
                if not due:
                    if self._heap:
                        idle_since = now
                        self._cond.wait(self._heap[0][0] - now)
                        continue
                    if self._quit or now - idle_since >= self._linger:
                        self._thread = None
                        return
                    self._cond.wait(self._linger - (now - idle_since))
                    continue
            for ticket in due:
                try:
                    ticket.action()
                except Exception:  # noqa: BLE001 - a failed close must not stop the watchdog
                    pass
            idle_since = time.monotonic()


watchdog = Watchdog()


def podc_threads(include_emulator: bool = False) -> list[threading.Thread]:
    """Live threads started by podc: every one is named ``podc-…`` (the runtime's watches and
    worker, the deadline watchdog, ``podc submit``'s log readers). Empty once every Runtime is
    closed and the watchdog is idle (it exits by itself within a second; ``Runtime.close()``
    stops it at once when nothing else needs it). The local emulator's own threads
    (``podc-emulator-…``) are left out unless ``include_emulator``. For tests and leak checks."""
    return [t for t in threading.enumerate() if t.name.startswith("podc-") and t.is_alive()
            and (include_emulator or not t.name.startswith("podc-emulator-"))]
