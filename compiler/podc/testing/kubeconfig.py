"""A kubeconfig pointing the official clients (Python, kubectl) at the emulator.

The token is the cluster's own (:attr:`podc.testing.LocalCluster.token`, random per start): the
emulator refuses requests without it, so only whoever can read this file (mode 0600) can use it."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

from podc.testing.access import server_path

CONTEXT = "podc-local"


def new_token() -> str:
    """A fresh bearer token (256 random bits)."""
    import secrets

    return secrets.token_urlsafe(32)


def kubeconfig_dict(url: str, namespace: str = "default", context: str = CONTEXT, *, token: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        # The token twice: as the user's token (clients send it as a bearer header) and in the
        # server path (kubectl sends no bearer token over plain HTTP): podc.testing.access.
        "clusters": [{"name": context, "cluster": {"server": url.rstrip("/") + server_path(token)}}],
        "users": [{"name": context, "user": {"token": token}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context, "namespace": namespace}}],
        "current-context": context,
        "preferences": {},
    }


def kubeconfig_text(url: str, namespace: str = "default", context: str = CONTEXT, *, token: str) -> str:
    # JSON is valid YAML, so every kubeconfig loader reads it; keys are emitted in a fixed order.
    return json.dumps(kubeconfig_dict(url, namespace, context, token=token), indent=2) + "\n"


def write_kubeconfig(path: str, url: str, namespace: str = "default", context: str = CONTEXT, *,
                     token: str) -> str:
    """Write atomically (temp file + rename) and return ``path``."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".kubeconfig-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(kubeconfig_text(url, namespace, context, token=token))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
