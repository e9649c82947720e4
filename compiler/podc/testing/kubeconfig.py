"""A kubeconfig pointing the official clients (Python, kubectl) at the emulator."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

CONTEXT = "podc-local"
TOKEN = "podc-emulator-token"


def kubeconfig_dict(url: str, namespace: str = "default", context: str = CONTEXT) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": url}}],
        "users": [{"name": context, "user": {"token": TOKEN}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context, "namespace": namespace}}],
        "current-context": context,
        "preferences": {},
    }


def kubeconfig_text(url: str, namespace: str = "default", context: str = CONTEXT) -> str:
    # JSON is valid YAML, so every kubeconfig loader reads it; keys are emitted in a fixed order.
    return json.dumps(kubeconfig_dict(url, namespace, context), indent=2) + "\n"


def write_kubeconfig(path: str, url: str, namespace: str = "default", context: str = CONTEXT) -> str:
    """Write atomically (temp file + rename) and return ``path``."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".kubeconfig-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(kubeconfig_text(url, namespace, context))
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
