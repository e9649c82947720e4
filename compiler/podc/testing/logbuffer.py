"""An append-only, waitable byte buffer holding one container's log."""

from __future__ import annotations

import threading


class LogBuffer:
    def __init__(self) -> None:
        self._data = bytearray()
        self._cond = threading.Condition()
        self.closed = False

    def write(self, data: bytes) -> None:
        with self._cond:
            self._data += data
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def snapshot(self) -> bytes:
        with self._cond:
            return bytes(self._data)

    def read_from(self, offset: int, timeout: float) -> tuple[bytes, bool]:
        """Bytes after ``offset`` (waiting up to ``timeout`` for some) and whether the log is closed."""
        with self._cond:
            if len(self._data) <= offset and not self.closed:
                self._cond.wait(timeout)
            return bytes(self._data[offset:]), self.closed and len(self._data) <= offset + len(self._data[offset:])
