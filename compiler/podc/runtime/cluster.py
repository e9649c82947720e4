"""Cluster access: kubeconfig (path, context), in-cluster config, or an explicit ApiClient.

The only module of the runtime that imports ``kubernetes`` (inside :func:`connect`).
"""

from __future__ import annotations

import os
from typing import Any

from podc.runtime.retry import RetryPolicy
from podc.runtime.transport import HttpTransport

__all__ = ["ClusterConfigError", "connect", "default_namespace"]


class ClusterConfigError(Exception):
    """No usable cluster configuration (missing kubeconfig, unknown context, …)."""


def _load_api_client(kubeconfig: str | None, context: str | None, in_cluster: bool | None) -> Any:
    from kubernetes import client, config  # lazy: heavy, and only the runtime needs it

    if in_cluster or (in_cluster is None and kubeconfig is None
                      and os.environ.get("KUBERNETES_SERVICE_HOST")
                      and not os.environ.get("KUBECONFIG")):
        try:
            cfg = client.Configuration()
            config.load_incluster_config(client_configuration=cfg)
            return client.ApiClient(cfg)
        except config.ConfigException as exc:
            raise ClusterConfigError(f"in-cluster configuration unavailable: {exc}") from exc
    if kubeconfig is not None and not os.path.exists(kubeconfig):
        raise ClusterConfigError(f"kubeconfig file not found: {kubeconfig}")
    try:
        cfg = client.Configuration()
        config.load_kube_config(config_file=kubeconfig, context=context,
                                client_configuration=cfg)
    except config.ConfigException as exc:
        raise ClusterConfigError(f"cannot load kubeconfig: {exc}") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ClusterConfigError(f"cannot load kubeconfig: {exc}") from exc
    return client.ApiClient(cfg)


def default_namespace(kubeconfig: str | None = None, context: str | None = None) -> str:
    """The namespace of the kubeconfig context (or the in-cluster service account), else default."""
    sa_ns = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
    try:
        from kubernetes import config

        _, current = config.list_kube_config_contexts(config_file=kubeconfig)
        if context:
            contexts, _ = config.list_kube_config_contexts(config_file=kubeconfig)
            current = next((c for c in contexts if c.get("name") == context), current)
        ns = (current or {}).get("context", {}).get("namespace")
        if ns:
            return str(ns)
    except Exception:  # noqa: BLE001 - no kubeconfig: fall through to the in-cluster file
        if os.path.exists(sa_ns):
            with open(sa_ns, encoding="utf-8") as fh:
                return fh.read().strip() or "default"
    return "default"


def connect(*, kubeconfig: str | None = None, context: str | None = None,
            in_cluster: bool | None = None, api_client: Any = None,
            retry: RetryPolicy | None = None,
            timeout: tuple[float, float] = (5.0, 30.0)) -> HttpTransport:
    """A transport for the cluster.

    Precedence: an explicit ``api_client``; ``in_cluster=True``; a kubeconfig (``kubeconfig`` path
    or ``$KUBECONFIG``/``~/.kube/config``, optional ``context``). With everything left unset
    inside a Pod (``KUBERNETES_SERVICE_HOST`` set, no ``$KUBECONFIG``), in-cluster config is used.
    """
    if api_client is None:
        api_client = _load_api_client(kubeconfig, context, in_cluster)
    return HttpTransport(api_client, retry=retry, timeout=timeout)
