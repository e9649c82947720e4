"""Opt-in "compat" knobs: make the emulator behave like *other* Kubernetes implementations.

The defaults are a current (>= 1.31) API server with its controllers. Code that talks to real
clusters must also cope with older servers, envtest (an API server without controllers),
proxies and other emulators; each knob switches one such behaviour on, so a test can prove the
client does not depend on the emulator's choices. ``LocalCluster(compat={...})``:

``no_job_controller``      ``True``: no Job controller (envtest, or a controller that is down):
                           Jobs are stored and defaulted, never get Pods or a status.
``job_conditions``         ``"legacy"``: only ``Complete``/``Failed`` (Kubernetes < 1.31, no
                           ``SuccessCriteriaMet``/``FailureTarget``). ``"interim"``: only the
                           interim ``SuccessCriteriaMet``/``FailureTarget``, the final condition
                           held back for ``final_condition_delay`` seconds (terminating Pods).
``final_condition_delay``  seconds the final condition lags the interim one (default 0).
``pod_labels``             ``"legacy"``: Pods get only ``job-name``/``controller-uid`` (< 1.27);
                           ``"new"``: only the ``batch.kubernetes.io/`` ones.
``paginate``               ``N``: page every list by ``N`` items even without ``limit``
                           (proxies, other servers), with ``metadata.continue``.
``bookmarks``              ``False``: ignore ``allowWatchBookmarks``.
``watch_expired``          how a too-old resourceVersion is refused: ``"event"`` (default: 200
                           + an ERROR event with a 410 Status), ``"http"`` (HTTP 410 on the watch
                           request), ``"event500"`` (ERROR event, code 500 "too old resource
                           version", as older servers did on etcd compaction).
``watch_timeout_cap``      seconds: end every watch stream silently after at most this long.
``event_style``            ``"events.k8s.io"``: Events look as the events.k8s.io/v1 writers make
                           them in the core/v1 view (no ``lastTimestamp``/``count``; ``eventTime``
                           and ``series`` instead).
``event_field_selectors``  ``False``: a field selector on Events answers 400.
``ignore_label_selectors`` ``True``: list and watch ignore ``labelSelector`` (a minimal or buggy
                           server): clients get every object of the namespace.
``deletecollection``       ``False``: DELETE on a collection answers 405 MethodNotAllowed.
``error_body``             ``"html"``: injected failures answer with a proxy's HTML page.
``retry_after_format``     ``"http-date"``: injected ``Retry-After`` headers are HTTP-dates.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import formatdate
from typing import Any

__all__ = ["Compat", "KNOWN"]

KNOWN: dict[str, tuple[Any, ...] | type] = {
    "no_job_controller": bool,
    "job_conditions": ("current", "legacy", "interim"),
    "final_condition_delay": float,
    "pod_labels": ("both", "legacy", "new"),
    "paginate": int,
    "bookmarks": bool,
    "watch_expired": ("event", "http", "event500"),
    "watch_timeout_cap": float,
    "event_style": ("core", "events.k8s.io"),
    "event_field_selectors": bool,
    "deletecollection": bool,
    "ignore_label_selectors": bool,
    "error_body": ("status", "html"),
    "retry_after_format": ("seconds", "http-date"),
}


class Compat:
    """Validated knobs with their defaults (the emulator's normal behaviour)."""

    def __init__(self, knobs: Mapping[str, Any] | None = None) -> None:
        knobs = dict(knobs or {})
        for key, value in knobs.items():
            allowed = KNOWN.get(key)
            if allowed is None:
                raise ValueError(f"unknown compat knob {key!r}; known: {', '.join(sorted(KNOWN))}")
            if isinstance(allowed, tuple):
                if value not in allowed:
                    raise ValueError(f"compat {key!r} must be one of {allowed}, got {value!r}")
            elif allowed is bool and not isinstance(value, bool):
                raise ValueError(f"compat {key!r} must be True or False, got {value!r}")
            elif allowed in (int, float) and (isinstance(value, bool) or not isinstance(value, (int, float))
                                              or value < 0):
                raise ValueError(f"compat {key!r} must be a non-negative number, got {value!r}")
        self.knobs = knobs
        self.no_job_controller: bool = knobs.get("no_job_controller", False)
        self.job_conditions: str = knobs.get("job_conditions", "current")
        self.final_condition_delay: float = float(knobs.get("final_condition_delay", 0))
        self.pod_labels: str = knobs.get("pod_labels", "both")
        self.paginate: int = int(knobs.get("paginate", 0))
        self.bookmarks: bool = knobs.get("bookmarks", True)
        self.watch_expired: str = knobs.get("watch_expired", "event")
        self.watch_timeout_cap: float = float(knobs.get("watch_timeout_cap", 0))
        self.event_style: str = knobs.get("event_style", "core")
        self.event_field_selectors: bool = knobs.get("event_field_selectors", True)
        self.deletecollection: bool = knobs.get("deletecollection", True)
        self.ignore_label_selectors: bool = knobs.get("ignore_label_selectors", False)
        self.error_body: str = knobs.get("error_body", "status")
        self.retry_after_format: str = knobs.get("retry_after_format", "seconds")

    def __repr__(self) -> str:
        return f"Compat({self.knobs!r})"

    def retry_after_header(self, seconds: str) -> str:
        if self.retry_after_format == "http-date":
            return formatdate(timeval=_now() + float(seconds), usegmt=True)
        return seconds

    def html_page(self, code: int, reason: str) -> bytes:
        return (f"<html><head><title>{code} {reason}</title></head><body><center><h1>{code} "
                f"{reason}</h1></center><hr><center>nginx</center></body></html>\n").encode()


def _now() -> float:
    import time

    return time.time()
