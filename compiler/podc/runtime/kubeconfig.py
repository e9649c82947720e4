"""Loading a kubeconfig with the official client, minus the parts that hang or mislead.

The client's loader is used for everything it does well (merging ``$KUBECONFIG`` files,
contexts, certificates, auth providers, token refresh). Three things are changed:

* a cluster without ``server`` (or a server without ``https://``) is a clear error, not a
  ``FutureWarning`` and a request to nowhere;
* credential plugins (``user.exec``) run with a timeout, non-interactively, and a failing plugin
  is an error that shows its stderr, instead of an ``ERROR:root`` log line followed by
  unauthenticated requests and a misleading 401;
* the user's secrets (tokens, passwords, client keys, plugin env values) are collected so that
  no message podc prints can contain them.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
import types
from typing import Any
from urllib.parse import urlsplit

from podc.runtime.deadline import current_deadline, left
from podc.runtime.redact import Redactor, kubeconfig_secrets

__all__ = ["ClusterConfigError", "load_kubeconfig", "run_exec_plugin"]


class ClusterConfigError(Exception):
    """No usable cluster configuration (missing kubeconfig, unknown context, no server, a
    failing credential plugin, …). The message is one line in podc's voice, secrets masked."""


def _check_file(path: str) -> None:
    for one in filter(None, path.split(os.pathsep)):
        expanded = os.path.expanduser(one)
        try:
            mode = os.stat(expanded).st_mode
        except FileNotFoundError:
            continue  # the client skips missing files of a $KUBECONFIG list; one alone is checked below
        except OSError as exc:
            raise ClusterConfigError(f"cannot read the kubeconfig {one}: {exc.strerror or exc}") from None
        if not stat.S_ISREG(mode):
            kind = "a named pipe" if stat.S_ISFIFO(mode) else "a directory" if stat.S_ISDIR(mode) \
                else "not a regular file"
            raise ClusterConfigError(f"the kubeconfig {one} is {kind}; podc reads kubeconfig files only")


def load_kubeconfig(kubeconfig: str | None, context: str | None, *, exec_timeout: float,
                    redactor: Redactor) -> tuple[Any, bool]:
    """(ApiClient, insecure) for a kubeconfig; raises :class:`ClusterConfigError`."""
    from kubernetes import client, config
    from kubernetes.config import kube_config

    path = kubeconfig if kubeconfig is not None else os.path.expanduser(
        kube_config.KUBE_CONFIG_DEFAULT_LOCATION)
    if kubeconfig is not None and not os.path.exists(kubeconfig):
        raise ClusterConfigError(f"kubeconfig file not found: {kubeconfig}")
    _check_file(path)
    if not any(os.path.exists(os.path.expanduser(p)) for p in path.split(os.pathsep) if p):
        raise ClusterConfigError(f"no kubeconfig found ({path}); pass --kubeconfig, or set $KUBECONFIG")
    cfg = client.Configuration()
    try:
        loader = kube_config._get_kube_config_loader(filename=path, active_context=context,
                                                     persist_config=True)
        cluster = loader._cluster
        user = loader._user
        redactor.add(*kubeconfig_secrets(getattr(user, "value", None)))
        _check_server(cluster, loader)
        loader._load_from_exec_plugin = types.MethodType(_bounded_exec_plugin, loader)
        loader._podc_exec_timeout = exec_timeout
        loader.load_and_set(cfg)
    except ClusterConfigError as exc:
        raise ClusterConfigError(redactor(exc)) from None
    except config.ConfigException as exc:
        raise ClusterConfigError(redactor(f"cannot load the kubeconfig: {exc}")) from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ClusterConfigError(redactor(f"cannot load the kubeconfig ({path}): "
                                          f"{type(exc).__name__}: {exc}")) from None
    except Exception as exc:  # a kubeconfig that is not YAML: the user's file, not a podc bug
        if type(exc).__module__.split(".")[0] not in ("yaml", "kubernetes"):
            raise
        raise ClusterConfigError(redactor(f"cannot load the kubeconfig ({path}): "
                                          f"{type(exc).__name__}: {' '.join(str(exc).split())}")) from None
    redactor.add(*(str(v) for v in (cfg.api_key or {}).values()), cfg.password)
    return client.ApiClient(cfg), cfg.verify_ssl is False


def _check_server(cluster: Any, loader: Any) -> None:
    context = getattr(loader, "current_context", None) or {}
    name = (context.get("context") or {}).get("cluster", "?")
    where = f"cluster `{name}` (context `{context.get('name', '?')}`)"
    server = cluster.safe_get("server") if hasattr(cluster, "safe_get") else None
    if not server:
        raise ClusterConfigError(f"the kubeconfig's {where} has no `server`; add the API "
                                 "server's URL (https://…)")
    if urlsplit(str(server)).scheme not in ("http", "https") or not urlsplit(str(server)).netloc:
        raise ClusterConfigError(f"the kubeconfig's {where} has server {server!r}; it must be a "
                                 "URL starting with https:// (or http://)")


def _bounded_exec_plugin(self: Any) -> bool | None:
    """``KubeConfigLoader._load_from_exec_plugin`` with :func:`run_exec_plugin`: same results,
    but bounded, and failures raise (the client logs them and carries on unauthenticated)."""
    from kubernetes.config.exec_provider import ExecProvider
    from kubernetes.config.kube_config import FileOrData, parse_rfc3339

    if "exec" not in self._user:
        return None
    base_path = self._get_base_path(self._cluster.path)
    provider = ExecProvider(self._user["exec"], base_path, self._cluster)
    status = run_exec_plugin(provider, self._podc_exec_timeout)
    if "token" in status:
        self.token = "Bearer %s" % status["token"]
    elif "clientCertificateData" in status and "clientKeyData" in status:
        for attr, key in (("cert_file", "clientCertificateData"), ("key_file", "clientKeyData")):
            setattr(self, attr, FileOrData(status, None, data_key_name=key, file_base_path=base_path,
                                           base64_file_content=False,
                                           temp_file_path=self._temp_file_path).as_file())
    else:
        raise ClusterConfigError(f"the credential plugin `{provider.args[0]}` answered without a "
                                 "token or client certificate and key")
    if "expirationTimestamp" in status:
        self.expiry = parse_rfc3339(status["expirationTimestamp"])
    return True


def run_exec_plugin(provider: Any, timeout: float) -> dict[str, Any]:
    """Run a kubeconfig credential plugin (``ExecProvider``'s command, args and env) and return
    its ``status``. Non-interactive (stdin closed), killed with its process group after
    ``timeout`` seconds (or the caller's deadline); raises :class:`ClusterConfigError`."""
    remaining = left(current_deadline())
    timeout = timeout if remaining is None else max(0.1, min(timeout, remaining))
    info: dict[str, Any] = {"apiVersion": provider.api_version, "kind": "ExecCredential",
                            "spec": {"interactive": False}}
    if getattr(provider, "cluster", None) is not None:
        info["spec"]["cluster"] = provider.cluster.value
    env = dict(provider.env, KUBERNETES_EXEC_INFO=json.dumps(info))
    command = os.path.basename(str(provider.args[0]))
    try:
        proc = subprocess.Popen(provider.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, cwd=provider.cwd, env=env, text=True,
                                errors="replace", start_new_session=True)
    except OSError as exc:
        raise ClusterConfigError(f"cannot run the kubeconfig's credential plugin `{command}`: "
                                 f"{exc.strerror or exc}") from None
    started = time.monotonic()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise ClusterConfigError(f"the kubeconfig's credential plugin `{command}` did not answer "
                                 f"within {timeout:g}s; it was stopped") from None
    if proc.returncode != 0:
        said = " ".join((err or "").strip().splitlines()[-3:])[-500:] or "no error output"
        raise ClusterConfigError(f"the kubeconfig's credential plugin `{command}` failed (exit "
                                 f"{proc.returncode} after {time.monotonic() - started:.1f}s): {said}")
    try:
        data = json.loads(out)
        status = data["status"]
        if not isinstance(status, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise ClusterConfigError(f"the kubeconfig's credential plugin `{command}` did not print an "
                                 "ExecCredential (JSON with a `status`)") from None
    if data.get("apiVersion") != provider.api_version:
        raise ClusterConfigError(f"the credential plugin `{command}` answered apiVersion "
                                 f"{data.get('apiVersion')!r}, expected {provider.api_version!r}")
    return status


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()
    try:
        proc.communicate(timeout=2.0)
    except (subprocess.TimeoutExpired, OSError, ValueError):
        pass
