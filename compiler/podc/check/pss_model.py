"""Values shared by the Pod Security Standards evaluator and its rule kinds.

:class:`PssFinding` (the result), :class:`PodView` (what rules need from one pod, computed once),
:class:`Rule` (one compiled rule) and the small helpers the rule kinds share.

Paths in findings are JSON pointers: relative to the pod spec (``/containers/0/securityContext``)
or, for metadata, starting with ``/metadata`` (``/metadata/annotations/<escaped key>``).  A finding
about a field that is ABSENT but required points at the nearest parent that exists.
"""

from __future__ import annotations

from typing import Any

from podc._record import record

__all__ = ["PssFinding", "PodView", "Rule", "PackError", "MISSING"]

MISSING: Any = object()
_EMPTY: dict = {}
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


class PackError(ValueError):
    """The shipped pack data is malformed (a podc bug, not user input)."""


@record(frozen=True, slots=True)
class PssFinding:
    """One Pod Security Standards violation.

    ``path`` is a JSON pointer to the most specific offending field, relative to the pod spec
    (``/containers/0/securityContext/privileged``) or, when it starts with ``/metadata``, to the
    pod's metadata.  ``message`` is ``"<reason>: <detail>"`` like upstream's forbidden reason and
    detail; ``hint`` says how to fix it.
    """

    check_id: str
    level: str
    message: str
    path: str
    hint: str


class PodView:
    """What every rule needs from one pod, computed once per evaluation."""

    __slots__ = ("meta", "spec", "pod_sc", "containers", "windows", "user_namespace")

    def __init__(self, metadata: Any, spec: Any) -> None:
        self.meta = metadata if isinstance(metadata, dict) else _EMPTY
        spec = spec if isinstance(spec, dict) else _EMPTY
        self.spec = spec
        pod_sc = spec.get("securityContext")
        self.pod_sc = pod_sc if isinstance(pod_sc, dict) else None
        # (pointer, name, container, securityContext or None) for every container of every kind
        containers: list[tuple[str, str, dict, dict | None]] = []
        for key in _CONTAINER_LISTS:
            items = spec.get(key)
            if not items or not isinstance(items, list):
                continue
            for i, c in enumerate(items):
                if isinstance(c, dict):
                    sc = c.get("securityContext")
                    containers.append((f"/{key}/{i}", str(c.get("name", "")), c,
                                       sc if isinstance(sc, dict) else None))
        self.containers = containers
        os_ = spec.get("os")
        self.windows = isinstance(os_, dict) and os_.get("name") == "windows"
        self.user_namespace = spec.get("hostUsers") is False


class Rule:
    """One compiled rule of one check variant; ``p`` holds the kind's parameters."""

    __slots__ = ("check_id", "level", "reason", "hint", "windows_exempt", "user_namespace_exempt", "p")

    def __init__(self, check_id: str, level: str, reason: str, hint: str, windows_exempt: bool,
                 user_namespace_exempt: bool, p: Any) -> None:
        self.check_id = check_id
        self.level = level
        self.reason = reason
        self.hint = hint
        self.windows_exempt = windows_exempt
        self.user_namespace_exempt = user_namespace_exempt
        self.p = p

    def finding(self, detail: str, path: str) -> PssFinding:
        return PssFinding(self.check_id, self.level, f"{self.reason}: {detail}", path, self.hint)


# ---------------------------------------------------------------------------- value helpers

def tag(v: Any) -> tuple:
    """A comparison key that keeps true/1 and false/0 apart (Python says True == 1)."""
    return (v.__class__ is bool, v)


def fmt(v: Any) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, str):
        return f'"{v}"'
    return str(v)


def or_list(values: list) -> str:
    return " or ".join(fmt(v) for v in values)


def escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def dig(d: Any, keys: tuple[str, ...]) -> Any:
    for k in keys:
        if not isinstance(d, dict):
            return MISSING
        d = d.get(k)
        if d is None:
            return MISSING
    return d


def nearest(base: str, d: Any, keys: tuple[str, ...]) -> str:
    """Pointer to the deepest existing dict along ``keys`` below ``base`` (for absent fields)."""
    path = base
    for k in keys[:-1]:
        d = d.get(k) if isinstance(d, dict) else None
        if not isinstance(d, dict):
            break
        path = f"{path}/{k}"
    return path


def strings(raw: dict, key: str) -> list:
    values = raw.get(key) or []
    if not isinstance(values, list):
        raise PackError(f"{key} must be a list")
    return values
