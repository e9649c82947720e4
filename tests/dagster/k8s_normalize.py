"""Normalisations for the differential test, one per deliberate difference listed in
``deliberate_differences.yaml`` (the test checks both lists name the same ids), and a field-by-
field diff of what is left."""

from __future__ import annotations

import copy
from typing import Any, Callable

PodcJob = tuple[dict[str, Any], Any]  # (manifest, provenance)
MAIN = "main"

# podc's keyed lists (podc.merge.keys): dagster-k8s appends, podc keeps one item per key
_KEYED = {"env": ("name",), "volumes": ("name",), "volumeMounts": ("mountPath",),
          "containers": ("name",), "initContainers": ("name",), "imagePullSecrets": ("name",),
          "hostAliases": ("ip",)}
_IDENTITY = {"tolerations": (("key",), ("operator",), ("value",), ("effect",)),
             "envFrom": (("configMapRef", "name"), ("secretRef", "name"), ("prefix",))}


def _pod(job: dict[str, Any]) -> dict[str, Any]:
    return job.setdefault("spec", {}).setdefault("template", {}).setdefault("spec", {})


def _main(job: dict[str, Any]) -> dict[str, Any]:
    containers = _pod(job).get("containers") or [{}]
    return containers[0]


# -- one function per deliberate difference: (reference, podc manifest, provenance) -> None ----

def main_container_name(ref: dict, podc: dict, prov: Any) -> None:
    """dagster-k8s names the step container `dagster` (or container_config.name); podc `main`."""
    main = _main(ref)
    old = main.get("name")
    main["name"] = MAIN

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "containerName" and v == old:
                    node[k] = MAIN
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(ref)


def object_names(ref: dict, podc: dict, prov: Any) -> None:
    """Job names differ (dagster-step-<md5> vs podc-<step>-<hash>); dagster-k8s also names the pod
    template; podc sets the Job's namespace in the manifest, dagster-k8s in the request."""
    for job in (ref, podc):
        meta = job.setdefault("metadata", {})
        meta.pop("name", None)
        job["spec"]["template"].setdefault("metadata", {}).pop("name", None)


def secure_defaults(ref: dict, podc: dict, prov: Any) -> None:
    """podc:defaults adds runAsNonRoot, seccompProfile, allowPrivilegeEscalation: false and
    capabilities.drop [ALL] where no layer sets them; dagster-k8s leaves them unset."""
    for pointer, origin in sorted(prov.items(), key=lambda kv: -len(kv[0])):
        if getattr(origin, "layer", None) != "podc:defaults" or not pointer:
            continue
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
        if _get(ref, parts) is _MISSING:
            _delete(podc, parts)


def automount_token(ref: dict, podc: dict, prov: Any) -> None:
    """dagster-k8s writes automountServiceAccountToken: true (the Kubernetes default) when no
    level sets it; podc leaves it unset."""
    pod = _pod(ref)
    if pod.get("automountServiceAccountToken") is True and "automountServiceAccountToken" not in _pod(podc):
        del pod["automountServiceAccountToken"]


def empty_collections(ref: dict, podc: dict, prov: Any) -> None:
    """dagster-k8s writes empty lists and maps (`volumes: []`, `envFrom: []`); podc omits them."""
    for job in (ref, podc):
        _drop_empty(job)


def duplicates_merged(ref: dict, podc: dict, prov: Any) -> None:
    """Where dagster-k8s's DEEP merge appends an item whose key is already there (a second FOO
    env var, a second `v1` volume, a second mount at /m1, a toleration differing only in
    tolerationSeconds), podc keeps one: the last definition, at the first one's place."""
    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, list) and (k in _KEYED or k in _IDENTITY):
                    node[k] = _dedupe(v, k)
                walk(node[k])
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(ref)


def step_key_env(ref: dict, podc: dict, prov: Any) -> None:
    """DAGSTER_RUN_STEP_KEY: dagster-k8s writes the step key; podc reads it from the Pod's
    podc.dev/step-key annotation (never truncated, not a literal)."""
    for job in (ref, podc):
        for env in _main(job).get("env") or []:
            if env.get("name") == "DAGSTER_RUN_STEP_KEY":
                env.pop("value", None)
                env.pop("valueFrom", None)


NORMALIZERS: dict[str, Callable[[dict, dict, Any], None]] = {
    "main-container-name": main_container_name,
    "object-names": object_names,
    "secure-defaults": secure_defaults,
    "automount-token-default": automount_token,
    "empty-collections": empty_collections,
    "duplicates-merged": duplicates_merged,
    "step-key-env": step_key_env,
}


def normalized(ref: dict, podc: dict, prov: Any) -> tuple[dict, dict]:
    ref, podc = copy.deepcopy(ref), copy.deepcopy(podc)
    for fn in NORMALIZERS.values():
        fn(ref, podc, prov)
    return ref, podc


# -- Kubernetes validity: differences where dagster-k8s builds a Job the API server rejects ----

def invalid_reasons(job: dict[str, Any]) -> list[str]:
    """Why the API server would reject ``job`` (the checks podc makes before submitting)."""
    pod = _pod(job)
    volumes = [v.get("name") for v in pod.get("volumes") or []]
    out = []
    if len(volumes) != len(set(volumes)):
        out.append("duplicate volume names")
    for c in pod.get("containers") or []:
        paths = [m.get("mountPath") for m in c.get("volumeMounts") or []]
        if len(paths) != len(set(paths)):
            out.append("two volume mounts at one path")
        for m in c.get("volumeMounts") or []:
            if m.get("name") not in volumes:
                out.append(f"volume mount names undeclared volume {m.get('name')}")
    return out


# -- helpers ----------------------------------------------------------------------------------

_MISSING = object()


def _get(node: Any, parts: list[str]) -> Any:
    for p in parts:
        if isinstance(node, dict) and p in node:
            node = node[p]
        elif isinstance(node, list) and p.isdigit() and int(p) < len(node):
            node = node[int(p)]
        else:
            return _MISSING
    return node


def _delete(node: Any, parts: list[str]) -> None:
    parent = _get(node, parts[:-1])
    if isinstance(parent, dict):
        parent.pop(parts[-1], None)


def _drop_empty(node: Any) -> Any:
    if isinstance(node, dict):
        for k in list(node):
            _drop_empty(node[k])
            if node[k] in ([], {}):
                del node[k]
    elif isinstance(node, list):
        for v in node:
            _drop_empty(v)
    return node


def _key(item: Any, field: str) -> Any:
    if not isinstance(item, dict):
        return None
    if field in _KEYED:
        return tuple(item.get(k) for k in _KEYED[field])
    out = []
    for path in _IDENTITY[field]:
        v: Any = item
        for p in path:
            v = v.get(p) if isinstance(v, dict) else None
        out.append("Equal" if path == ("operator",) and v is None else v)
    return tuple(out)


def _dedupe(items: list[Any], field: str) -> list[Any]:
    at: dict[Any, int] = {}
    out: list[Any] = []
    for item in items:
        key = _key(item, field)
        if key is None or key not in at:
            if key is not None:
                at[key] = len(out)
            out.append(item)
        else:
            out[at[key]] = item
    return out


def diff(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Field-by-field differences (path, dagster-k8s value, podc value)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out.extend(diff(a.get(k, _ABSENT), b.get(k, _ABSENT), f"{path}/{k}"))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in diff(x, y, f"{path}/{i}")]
    return [] if a == b else [(path or "/", a, b)]


class _Absent:
    def __repr__(self) -> str:
        return "<absent>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Absent)

    def __hash__(self) -> int:
        return 0


_ABSENT = _Absent()
