"""The handful of Kubernetes calls the runtime makes, as functions over a Transport."""

from __future__ import annotations

from typing import Any

from podc.runtime.retry import ApiError
from podc.runtime.transport import Transport, encode_path

__all__ = ["redact_env_values", "jobs_path", "pods_path", "create_job", "get_job", "delete_job", "delete_jobs",
           "delete_pods", "job_events", "core_event", "events_path", "pod_log_tail", "pod_log_path"]


def jobs_path(namespace: str) -> str:
    return encode_path("apis", "batch", "v1", "namespaces", namespace, "jobs")


def pods_path(namespace: str) -> str:
    return encode_path("api", "v1", "namespaces", namespace, "pods")


def pod_log_path(namespace: str, pod: str) -> str:
    return encode_path("api", "v1", "namespaces", namespace, "pods", pod, "log")


def create_job(t: Transport, namespace: str, job: dict[str, Any]) -> dict[str, Any]:
    """POST the Job. An error message that quotes an env value has it masked: validation
    messages may echo field values, and env values must never reach a log or a terminal."""
    try:
        return t.request("POST", jobs_path(namespace), body=job)
    except ApiError as err:
        err.message = redact_env_values(err.message, job)
        err.args = (redact_env_values(str(err.args[0]), job),) if err.args else err.args
        raise


def _env_values(job: dict[str, Any]) -> set[str]:
    spec = ((job.get("spec") or {}).get("template") or {}).get("spec") or {}
    values = set()
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for c in spec.get(key) or []:
            for env in c.get("env") or []:
                value = env.get("value")
                if isinstance(value, str) and len(value) >= 3:
                    values.add(value)
    return values


def redact_env_values(message: str, job: dict[str, Any]) -> str:
    for value in sorted(_env_values(job), key=len, reverse=True):
        message = message.replace(value, "***")
    return message


def get_job(t: Transport, namespace: str, name: str) -> dict[str, Any]:
    return t.request("GET", jobs_path(namespace) + encode_path(name))


def _delete_options(propagation: str) -> dict[str, Any]:
    return {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation}


def delete_job(t: Transport, namespace: str, name: str, propagation: str) -> bool:
    """Delete one Job with a propagation policy. False if it was already gone."""
    try:
        t.request("DELETE", jobs_path(namespace) + encode_path(name),
                  query={"propagationPolicy": propagation}, body=_delete_options(propagation))
        return True
    except ApiError as err:
        if err.not_found:
            return False
        raise


def delete_jobs(t: Transport, namespace: str, selector: str, propagation: str) -> None:
    """Delete every Job matching ``selector`` in one request (deletecollection).

    A server that does not implement deletecollection (405 MethodNotAllowed, or 404 from an
    implementation that routes only named objects) gets one delete per Job found by the label."""
    try:
        t.request("DELETE", jobs_path(namespace),
                  query={"labelSelector": selector, "propagationPolicy": propagation},
                  body=_delete_options(propagation))
    except ApiError as err:
        if err.status not in (404, 405, 501):
            raise
        for name in _names(t, jobs_path(namespace), selector):
            delete_job(t, namespace, name, propagation)


def delete_pods(t: Transport, namespace: str, selector: str) -> None:
    try:
        t.request("DELETE", pods_path(namespace), query={"labelSelector": selector},
                  body=_delete_options("Background"))
    except ApiError as err:
        if err.status not in (404, 405, 501):
            raise
        for name in _names(t, pods_path(namespace), selector):
            try:
                t.request("DELETE", pods_path(namespace) + encode_path(name),
                          body=_delete_options("Background"))
            except ApiError as one:
                if not one.not_found:
                    raise


def _names(t: Transport, path: str, selector: str) -> list[str]:
    from podc.runtime.watch import list_all  # watch imports transport; keep api light

    items = list_all(t, path, {"labelSelector": selector}).get("items") or []
    return [(i.get("metadata") or {}).get("name") for i in items
            if (i.get("metadata") or {}).get("name")]


def events_path(namespace: str) -> str:
    return encode_path("api", "v1", "namespaces", namespace, "events")


def job_events(t: Transport, namespace: str, job: str,
               pods: list[str] | tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Events about a Job (FailedCreate: quota, missing service account) and some of its Pods
    (FailedMount, FailedScheduling). One request per object: field selectors cannot OR.

    Implementations differ in the event field selectors they support (a real API server knows
    ``involvedObject.kind``/``name``; some emulators and aggregated servers answer 400). On a
    400 the namespace's Events are listed once and filtered here. If core/v1 Events are not
    served at all (404), ``events.k8s.io/v1`` is read and converted to the core/v1 shape."""
    wanted = [("Job", job)] + [("Pod", p) for p in pods]
    out: list[dict[str, Any]] = []
    try:
        for kind, name in wanted:
            data = t.request("GET", events_path(namespace), query={
                "fieldSelector": f"involvedObject.kind={kind},involvedObject.name={name}"})
            out.extend(data.get("items") or [])
        return out
    except ApiError as err:
        if err.status not in (400, 404, 405, 501):
            raise
        fallback = err
    from podc.runtime.watch import list_all

    if fallback.status == 400:
        items = list_all(t, events_path(namespace), {}).get("items") or []
    else:
        path = encode_path("apis", "events.k8s.io", "v1", "namespaces", namespace, "events")
        items = [core_event(e) for e in list_all(t, path, {}).get("items") or []]
    keys = set(wanted)
    return [e for e in items
            if ((e.get("involvedObject") or {}).get("kind"),
                (e.get("involvedObject") or {}).get("name")) in keys]


def core_event(event: dict[str, Any]) -> dict[str, Any]:
    """An ``events.k8s.io/v1`` Event in the core/v1 shape the diagnosis reads (``regarding`` is
    ``involvedObject``, ``note`` is ``message``, ``series`` carries the count and last time)."""
    if "involvedObject" in event:
        return event
    series = event.get("series") or {}
    return {**event,
            "involvedObject": event.get("regarding") or {},
            "message": event.get("note") or event.get("deprecatedMessage") or "",
            "count": series.get("count") or event.get("deprecatedCount") or 1,
            "lastTimestamp": series.get("lastObservedTime") or event.get("deprecatedLastTimestamp")
            or event.get("eventTime")}


def pod_log_tail(t: Transport, namespace: str, pod: str, container: str | None,
                 lines: int) -> list[str]:
    text = t.request("GET", pod_log_path(namespace, pod),
                     query={"container": container, "tailLines": lines}, raw=True)
    return text.splitlines()[-lines:] if text else []
