"""Small helpers shared by the emulator modules."""

from __future__ import annotations

import copy
import datetime as _dt
import random
import time
import uuid
from typing import Any

# The alphabet Kubernetes uses for generated name suffixes (no vowels, no confusable digits).
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_rng = random.Random()


def now_iso(ts: float | None = None) -> str:
    """RFC 3339 UTC timestamp with second precision, as Kubernetes serialises ``metav1.Time``."""
    t = _dt.datetime.fromtimestamp(time.time() if ts is None else ts, tz=_dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> float:
    return _dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.timezone.utc).timestamp()


def random_suffix(n: int = 5) -> str:
    return "".join(_rng.choice(_SUFFIX_ALPHABET) for _ in range(n))


def new_uid() -> str:
    return str(uuid.uuid4())


def deep_copy(obj: Any) -> Any:
    return copy.deepcopy(obj)


def dig(obj: Any, *path: str | int, default: Any = None) -> Any:
    """``obj[path[0]][path[1]]...`` or ``default`` when any step is missing."""
    cur = obj
    for step in path:
        if isinstance(cur, dict) and isinstance(step, str):
            cur = cur.get(step)
        elif isinstance(cur, list) and isinstance(step, int) and -len(cur) <= step < len(cur):
            cur = cur[step]
        else:
            return default
        if cur is None:
            return default
    return cur


def set_condition(conditions: list[dict[str, Any]], cond: dict[str, Any]) -> bool:
    """Insert or update a condition by ``type``; keeps lastTransitionTime when status is unchanged.

    Returns True when something changed.
    """
    for i, old in enumerate(conditions):
        if old.get("type") == cond["type"]:
            merged = dict(old)
            merged.update(cond)
            if old.get("status") == cond.get("status") and "lastTransitionTime" in old:
                merged["lastTransitionTime"] = old["lastTransitionTime"]
            if merged == old:
                return False
            conditions[i] = merged
            return True
    conditions.append(cond)
    return True
