"""What ``podc submit --wait`` shows while it waits.

Every state change is one line, printed once, as it is seen: ``pending train (job/…):
FailedMount: …`` when a Job is stuck and the cluster says why, ``running train (job/…)``,
``succeeded train (job/…)``, ``FAILED train (job/…): …``. On a terminal, a live status line
below them counts the Jobs pending, running and done; in a log or a pipe, only the changes are
printed. At the deadline, Jobs still unfinished get a ``TIMED OUT`` line with their last reason.
"""

from __future__ import annotations

import threading
import time
from typing import Any, TextIO

__all__ = ["Progress", "wait_with_progress"]


def _is_tty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class Progress:
    def __init__(self, out: TextIO, names: list[str], *, live: bool | None = None,
                 lock: threading.Lock | None = None) -> None:
        self.out = out
        self.names = names
        self.live = _is_tty(out) if live is None else live
        self.lock = lock or threading.Lock()
        self._last: dict[str, tuple[str, str]] = {}
        self._status_shown = False
        self._started = time.monotonic()

    def line(self, text: str) -> None:
        """Print a line above the live status (log pumps use this too)."""
        with self.lock:
            self._clear()
            print(text, file=self.out, flush=True)
            self._draw_locked(None)

    def update(self, states: dict[str, Any]) -> None:
        lines = []
        for name in self.names:
            state = states.get(name)
            if state is None:
                continue
            reason = state.reason.describe() if state.reason is not None else ""
            key = (state.phase.value, reason)
            if self._last.get(name, ("pending", "")) == key:
                continue
            self._last[name] = key
            lines.append(describe(state))
        with self.lock:
            if lines:
                self._clear()
                for text in lines:
                    print(text, file=self.out, flush=True)
            self._draw_locked(states)

    def _clear(self) -> None:
        if self._status_shown:
            self.out.write("\r\033[K")
            self._status_shown = False

    def _draw_locked(self, states: dict[str, Any] | None) -> None:
        if not self.live:
            return
        if states is not None:
            self._states = states
        states = getattr(self, "_states", {})
        counts = {"pending": 0, "running": 0, "done": 0}
        for name in self.names:
            state = states.get(name)
            phase = state.phase.value if state is not None else "pending"
            counts["done" if phase in ("succeeded", "failed") else phase] += 1
        took = int(time.monotonic() - self._started)
        self.out.write(f"\r\033[Kwaiting: {counts['pending']} pending, {counts['running']} running, "
                       f"{counts['done']}/{len(self.names)} done ({took}s)")
        self.out.flush()
        self._status_shown = True

    def finish(self) -> None:
        with self.lock:
            self._clear()
            self.out.flush()


def describe(state: Any) -> str:
    """The line for a Job's state: ``<phase> <step> (job/<name>)[: reason]``."""
    head = f"{state.step_key} (job/{state.name})"
    reason = state.reason.describe() if state.reason is not None else ""
    if state.succeeded:
        return f"succeeded {head}"
    if state.terminal:
        return f"FAILED {head}: {state.phase.value}: {reason}" if reason else f"FAILED {head}"
    return f"{state.phase.value} {head}: {reason}" if reason else f"{state.phase.value} {head}"


def wait_with_progress(rt: Any, names: list[str], progress: Progress,
                       deadline: float | None) -> dict[str, Any]:
    """Wait until every Job is terminal or the deadline passes, showing changes; the states."""
    tick = 0.2  # states are read from the runtime's memory: no request per tick
    while True:
        left = None if deadline is None else deadline - time.monotonic()
        states = rt.wait(names, timeout=tick if left is None else max(0.0, min(tick, left)))
        progress.update(states)
        if all(s.terminal for s in states.values()) and len(states) == len(names):
            return states
        if (left is not None and left <= 0) or getattr(rt, "_closed", False):
            return states
