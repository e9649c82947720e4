"""Cluster access: kubeconfig (path, context), in-cluster config, or an explicit ApiClient.

``kubernetes`` is imported only inside :func:`connect` (here and in
:mod:`podc.runtime.kubeconfig`), so ``import podc.runtime`` stays light.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from typing import Any, Callable

from podc.runtime.kubeconfig import ClusterConfigError, load_kubeconfig
from podc.runtime.redact import Redactor
from podc.runtime.retry import RetryPolicy
from podc.runtime.transport import HttpTransport

__all__ = ["ClusterConfigError", "client_installed", "connect", "default_namespace"]

log = logging.getLogger("podc.runtime")


def _load_api_client(kubeconfig: str | None, context: str | None, in_cluster: bool | None,
                     exec_timeout: float, redactor: Redactor) -> tuple[Any, bool]:
    if in_cluster or (in_cluster is None and kubeconfig is None
                      and os.environ.get("KUBERNETES_SERVICE_HOST")
                      and not os.environ.get("KUBECONFIG")):
        from kubernetes import client, config  # lazy: heavy, and only the runtime needs it

        try:
            cfg = client.Configuration()
            config.load_incluster_config(client_configuration=cfg)
        except config.ConfigException as exc:
            raise ClusterConfigError(f"in-cluster configuration unavailable: {exc}") from exc
        redactor.add(*(str(v) for v in (cfg.api_key or {}).values()))
        return client.ApiClient(cfg), False
    return load_kubeconfig(kubeconfig, context, exec_timeout=exec_timeout, redactor=redactor)


def client_installed() -> bool:
    """True when the Kubernetes client (the ``runtime`` extra) can be imported."""
    try:
        import kubernetes  # noqa: F401
        import urllib3  # noqa: F401
    except ImportError:
        return False
    return True


def default_namespace(kubeconfig: str | None = None, context: str | None = None) -> str:
    """The namespace of the kubeconfig context (or the in-cluster service account), else default."""
    sa_ns = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
    try:
        from kubernetes import config

        if kubeconfig is not None and not os.path.isfile(kubeconfig):
            raise FileNotFoundError(kubeconfig)  # never open a pipe or a directory
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
            timeout: tuple[float, float] = (5.0, 30.0), request_timeout: float = 60.0,
            exec_timeout: float = 60.0, deadline: float | None = None,
            warn: Callable[[str], None] | None = None) -> HttpTransport:
    """A transport for the cluster.

    Precedence: an explicit ``api_client``; ``in_cluster=True``; a kubeconfig (``kubeconfig`` path
    or ``$KUBECONFIG``/``~/.kube/config``, optional ``context``). With everything left unset
    inside a Pod (``KUBERNETES_SERVICE_HOST`` set, no ``$KUBECONFIG``), in-cluster config is used.

    ``request_timeout`` bounds one HTTP exchange; ``deadline`` (absolute ``time.monotonic()``)
    bounds every request of the transport. A credential plugin (``user.exec``) runs for at most
    ``exec_timeout`` seconds. ``warn`` receives one-time warnings (TLS verification turned off);
    by default they are logged on the ``podc.runtime`` logger. Raises :class:`ClusterConfigError`.
    """
    redactor = Redactor()
    insecure = False
    if api_client is None:
        from podc.runtime.deadline import deadline_scope

        with deadline_scope(at=deadline):
            api_client, insecure = _load_api_client(kubeconfig, context, in_cluster, exec_timeout,
                                                    redactor)
    else:
        cfg = api_client.configuration
        redactor.add(*(str(v) for v in (getattr(cfg, "api_key", None) or {}).values()))
        insecure = getattr(cfg, "verify_ssl", True) is False
    transport = HttpTransport(api_client, retry=retry, timeout=timeout,
                              request_timeout=request_timeout, redactor=redactor)
    transport.deadline = deadline
    if insecure:
        _say_insecure_once(api_client.configuration.host, warn or log.warning)
    return transport


def _say_insecure_once(host: str, warn: Callable[[str], None]) -> None:
    """urllib3 warns on every request, with its own source line; podc says it once per
    connection (the filter only silences urllib3 for this host)."""
    from urllib.parse import urlsplit

    try:
        from urllib3.exceptions import InsecureRequestWarning
    except ImportError:  # pragma: no cover - urllib3 comes with kubernetes
        return
    hostname = urlsplit(host).hostname or host
    warnings.filterwarnings("ignore", message=f"Unverified HTTPS request is being made to host "
                                              f"'{re.escape(hostname)}'",
                            category=InsecureRequestWarning)
    warn(f"TLS certificate verification is off for {host} (insecure-skip-tls-verify in the "
         "kubeconfig): anyone on the network path can read and change the traffic")
