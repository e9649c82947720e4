"""Container environment and config references, resolved from the store like the kubelet does.

A missing Secret/ConfigMap (or key) referenced from ``env``/``envFrom`` is the kubelet's
``CreateContainerConfigError``; one referenced from a volume blocks the mount (``FailedMount``).
"""

from __future__ import annotations

import base64
import math
import re
from typing import Any

from podc.kube.quantity import parse_quantity
from podc.testing._util import dig
from podc.testing.store import Store

_VAR_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
_ENV_NAME = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*\Z")


class ConfigError(Exception):
    """A reference the kubelet cannot resolve; the message is what the kubelet reports."""


def expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes ``$(VAR)`` expansion: defined vars are replaced, ``$$`` escapes, others stay."""
    def repl(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1)
        return env[name] if name in env else m.group(0)
    return _VAR_REF.sub(repl, text)


def _source_data(store: Store, kind: str, namespace: str, name: str) -> dict[str, str] | None:
    if kind == "secret":
        obj = store.peek("secrets", namespace, name)
        if obj is None:
            return None
        out = {k: base64.b64decode(v).decode("utf-8", "replace") for k, v in (obj.get("data") or {}).items()}
        out.update({k: str(v) for k, v in (obj.get("stringData") or {}).items()})
        return out
    obj = store.peek("configmaps", namespace, name)
    if obj is None:
        return None
    return {k: str(v) for k, v in (obj.get("data") or {}).items()}


def _label(kind: str) -> tuple[str, str]:
    return ("secret", "Secret") if kind == "secret" else ("configmap", "ConfigMap")


def _field_ref(pod: dict[str, Any], path: str) -> str:
    m = re.match(r"metadata\.(labels|annotations)\['(.+)'\]\Z", path)
    if m:
        return str(dig(pod, "metadata", m.group(1), m.group(2), default=""))
    if path == "status.podIPs":
        return ",".join(ip["ip"] for ip in dig(pod, "status", "podIPs", default=[]))
    value = dig(pod, *path.split("."), default="")
    return str(value)


def _resource_ref(container: dict[str, Any], ref: dict[str, Any], node_alloc: dict[str, str]) -> str:
    resource = ref.get("resource", "")
    section, _, name = resource.partition(".")
    value = dig(container, "resources", section, name)
    if value is None:
        value = node_alloc.get(name, "0")
    divisor = parse_quantity(ref.get("divisor") or "1")
    return str(math.ceil(parse_quantity(value) / divisor))


def resolve_env(
    store: Store, pod: dict[str, Any], container: dict[str, Any], node_alloc: dict[str, str] | None = None
) -> dict[str, str]:
    """The container's environment (``envFrom`` then ``env``); ``ConfigError`` when unresolvable."""
    ns = pod["metadata"].get("namespace", "default")
    env: dict[str, str] = {}
    for src in container.get("envFrom") or []:
        kind = "secret" if "secretRef" in src else "configMap"
        ref = src.get("secretRef") or src.get("configMapRef") or {}
        data = _source_data(store, kind, ns, ref.get("name", ""))
        if data is None:
            if ref.get("optional"):
                continue
            raise ConfigError(f'{_label(kind)[0]} "{ref.get("name", "")}" not found')
        for k, v in data.items():
            key = src.get("prefix", "") + k
            if _ENV_NAME.match(key):
                env[key] = v
    for var in container.get("env") or []:
        name = var["name"]
        if "valueFrom" not in var:
            env[name] = expand(str(var.get("value", "")), env)
            continue
        vf = var["valueFrom"]
        if "secretKeyRef" in vf or "configMapKeyRef" in vf:
            kind = "secret" if "secretKeyRef" in vf else "configMap"
            ref = vf.get("secretKeyRef") or vf.get("configMapKeyRef")
            data = _source_data(store, kind, ns, ref.get("name", ""))
            lower, title = _label(kind)
            if data is None:
                if ref.get("optional"):
                    continue
                raise ConfigError(f'{lower} "{ref.get("name", "")}" not found')
            if ref.get("key") not in data:
                if ref.get("optional"):
                    continue
                raise ConfigError(f"couldn't find key {ref.get('key')} in {title} {ns}/{ref.get('name')}")
            env[name] = data[ref["key"]]
        elif "fieldRef" in vf:
            env[name] = _field_ref(pod, vf["fieldRef"].get("fieldPath", ""))
        elif "resourceFieldRef" in vf:
            env[name] = _resource_ref(container, vf["resourceFieldRef"], node_alloc or {})
    return env


def volume_problem(store: Store, pod: dict[str, Any]) -> str | None:
    """The kubelet's FailedMount message for the first unresolvable secret/configMap volume."""
    ns = pod["metadata"].get("namespace", "default")
    for vol in dig(pod, "spec", "volumes", default=[]):
        for kind, field, name_key in (("secret", "secret", "secretName"), ("configMap", "configMap", "name")):
            src = vol.get(field)
            if src is None or src.get("optional"):
                continue
            if _source_data(store, kind, ns, src.get(name_key, "")) is None:
                return (f'MountVolume.SetUp failed for volume "{vol["name"]}" : '
                        f'{_label(kind)[0]} "{src.get(name_key, "")}" not found')
    return None


def volume_files(store: Store, pod: dict[str, Any], vol: dict[str, Any]) -> dict[str, str]:
    """Files (relative path -> content) a secret/configMap volume would contain."""
    ns = pod["metadata"].get("namespace", "default")
    if "secret" in vol:
        data = _source_data(store, "secret", ns, vol["secret"].get("secretName", "")) or {}
        items = vol["secret"].get("items")
    elif "configMap" in vol:
        data = _source_data(store, "configMap", ns, vol["configMap"].get("name", "")) or {}
        items = vol["configMap"].get("items")
    else:
        return {}
    if items:
        return {it.get("path", it["key"]): data[it["key"]] for it in items if it["key"] in data}
    return dict(data)
