"""Cluster access for the executor: which kubeconfig, one bounded connect, one clear reason.

:func:`access_for` resolves the connection settings the way ``k8s_job_executor`` does (the
executor's ``kubeconfig_file``/``load_incluster_config`` first, then those of the instance's
K8sRunLauncher, then auto-detection). :func:`open_runtime` connects and opens the run's watches
within ``cluster_timeout`` seconds; on any failure it closes what it started (threads included)
and raises :class:`ClusterUnavailable` with one sentence saying what is wrong: a missing or
broken kubeconfig, TLS verification, 401/403, or an API server that does not answer. Problems
that cannot heal by waiting are marked ``permanent`` so the other steps of the run fail at once.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Mapping

from podc._record import record

__all__ = ["ClusterAccess", "ClusterUnavailable", "access_for", "describe_cluster_error",
           "open_runtime", "join_run_threads"]


@record(frozen=True)
class ClusterAccess:
    kubeconfig_file: str | None = None
    context: str | None = None
    in_cluster: bool | None = None  # None: in-cluster inside a Pod, else the kubeconfig
    cluster_timeout: float = 20.0
    pending_timeout: float | None = None


class ClusterUnavailable(Exception):
    """The run's cluster cannot be used; ``str()`` is the one-line reason."""

    def __init__(self, reason: str, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


def access_for(settings: Any, launcher: Mapping[str, Any] | None) -> ClusterAccess:
    kubeconfig, in_cluster = settings.kubeconfig_file, settings.load_incluster_config
    if launcher is not None:
        if in_cluster is None and kubeconfig is None:
            in_cluster = launcher.get("load_incluster_config", True)
            kubeconfig = launcher.get("kubeconfig_file")
    return ClusterAccess(kubeconfig, settings.context, in_cluster, settings.cluster_timeout,
                         settings.pending_timeout)


_TLS_WORDS = ("ssl", "certificate", "tls", "wrong version number", "handshake")


def describe_cluster_error(exc: BaseException, server: str | None = None) -> tuple[str, bool]:
    """(one-line reason, permanent) for an error raised while connecting or listing."""
    from podc.runtime.cluster import ClusterConfigError
    from podc.runtime.retry import ApiError

    where = f" at {server}" if server else ""
    text = str(exc)
    if isinstance(exc, ClusterUnavailable):
        return exc.reason, exc.permanent
    if isinstance(exc, ClusterConfigError):
        return f"no usable cluster configuration: {text}", True
    if isinstance(exc, ApiError):
        if exc.status == 401:
            return (f"the Kubernetes API server{where} rejected the credentials (401 Unauthorized): "
                    "the kubeconfig's token or certificate is not valid"), True
        if exc.status == 403:
            return (f"the Kubernetes API server{where} refused access (403 Forbidden): "
                    f"{exc.message or text}"), True
        if exc.status == 0:
            detail = exc.message or text
            if any(w in detail.lower() for w in _TLS_WORDS):
                return f"TLS to the Kubernetes API server{where} failed: {_short(detail)}", True
            return f"cannot reach the Kubernetes API server{where}: {_short(detail)}", False
        return f"the Kubernetes API server{where} answered {text}", exc.status < 500
    lowered = text.lower()
    if any(w in lowered for w in _TLS_WORDS):
        return f"TLS to the Kubernetes API server{where} failed: {_short(text)}", True
    if isinstance(exc, TimeoutError):
        return f"the Kubernetes API server{where} did not answer in time: {_short(text)}", False
    return f"cannot use the Kubernetes cluster{where}: {type(exc).__name__}: {_short(text)}", False


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _server(transport: Any) -> str | None:
    config = getattr(getattr(transport, "_api_client", None), "configuration", None)
    return getattr(config, "host", None)


def open_runtime(access: ClusterAccess, run_id: str, namespace: str | None) -> Any:
    """A started :class:`podc.runtime.Runtime` for the run, or :class:`ClusterUnavailable`."""
    from podc.runtime.cluster import connect, default_namespace
    from podc.runtime.diagnose import Timeouts
    from podc.runtime.runtime import Runtime

    try:
        transport = connect(kubeconfig=access.kubeconfig_file, context=access.context,
                            in_cluster=access.in_cluster)
        ns = namespace or default_namespace(access.kubeconfig_file, access.context)
    except Exception as exc:  # noqa: BLE001 - every way a config can be broken
        reason, permanent = describe_cluster_error(exc)
        raise ClusterUnavailable(reason, permanent) from exc
    timeouts = Timeouts()
    if access.pending_timeout:
        p = access.pending_timeout
        timeouts = Timeouts(start=max(p, 1.0), pending=p, image_pull=p,
                            config_error=min(p, timeouts.config_error),
                            failed_create=min(p, timeouts.failed_create))
    runtime = Runtime(transport, run_id=run_id, namespace=ns, timeouts=timeouts)
    try:
        runtime.start(sync_timeout=access.cluster_timeout)
    except BaseException as exc:
        runtime.close()
        join_run_threads(run_id, timeout=5.0)
        if not isinstance(exc, Exception):
            raise
        cause = (_probe(access) or exc) if isinstance(exc, TimeoutError) else exc
        reason, permanent = describe_cluster_error(cause, _server(transport))
        if isinstance(exc, TimeoutError):
            reason += f" (gave up after {access.cluster_timeout:g} s: executor cluster_timeout)"
        raise ClusterUnavailable(reason, permanent) from exc
    return runtime


def _probe(access: ClusterAccess) -> BaseException | None:
    """Why the API server did not answer: one GET /version without retries (a start() timeout
    only says that listing did not finish; the watch may still be inside its retries)."""
    from podc.runtime.cluster import connect
    from podc.runtime.retry import NoRetry

    try:
        connect(kubeconfig=access.kubeconfig_file, context=access.context, in_cluster=access.in_cluster,
                retry=NoRetry(), timeout=(2.0, 2.0)).request("GET", "/version")
    except Exception as exc:  # noqa: BLE001 - what we want to describe
        return exc
    return None


def join_run_threads(run_id: str, timeout: float) -> list[str]:
    """Wait (up to ``timeout`` seconds in all) for the run's ``podc-*`` threads to end; returns
    the names of those still alive."""
    tag = run_id[:16]
    deadline = time.monotonic() + timeout
    alive = []
    for thread in threading.enumerate():
        if thread is threading.current_thread() or not thread.name.startswith("podc-"):
            continue
        if tag and not thread.name.endswith(tag):
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            alive.append(thread.name)
    return alive
