"""The rule kinds of the Pod Security Standards pack: one small function per kind.

The pack (``policies/pod-security/pack.yaml``) says WHAT is checked (fields, allowed values,
versions); this module says HOW each kind of rule walks a pod.  Every kind has a ``compile_*``
function that turns the rule's YAML parameters into parameters once, and an ``eval_*`` function
that appends :class:`PssFinding` values for one pod.

Paths in findings are JSON pointers: relative to the pod spec (``/containers/0/securityContext``)
or, for metadata, starting with ``/metadata`` (``/metadata/annotations/<escaped key>``).  A finding
about a field that is ABSENT but required points at the nearest parent that exists.
"""

from __future__ import annotations

from typing import Any, Callable

from podc._record import record
from podc.check.pss_model import (
    MISSING,
    PackError,
    PodView,
    PssFinding,
    Rule,
    dig,
    escape,
    fmt,
    nearest,
    or_list,
    strings,
    tag,
)

__all__ = ["KINDS"]

# ---------------------------------------------------------------- kind: security_context

@record(frozen=True, slots=True)
class _ScParams:
    keys: tuple[str, ...]
    display: str          # securityContext.<field> for messages
    pointer: str          # /securityContext/<field path>
    pod: bool
    containers: bool
    allowed: frozenset | None
    allowed_list: list
    forbidden: frozenset | None
    required: bool


def compile_security_context(raw: dict) -> _ScParams:
    field = raw["field"]
    keys = tuple(field.split("."))
    scopes = raw.get("scopes") or ["pod", "containers"]
    if not set(scopes) <= {"pod", "containers"}:
        raise PackError(f"unknown scope in {scopes}")
    allowed = raw.get("allowed")
    forbidden = raw.get("forbidden")
    if (allowed is None) == (forbidden is None):
        raise PackError(f"security_context rule for {field} needs exactly one of allowed/forbidden")
    return _ScParams(
        keys=keys, display=f"securityContext.{field}", pointer="/securityContext/" + "/".join(keys),
        pod="pod" in scopes, containers="containers" in scopes,
        allowed=frozenset(map(tag, allowed)) if allowed is not None else None,
        allowed_list=list(allowed or []),
        forbidden=frozenset(map(tag, forbidden)) if forbidden is not None else None,
        required=bool(raw.get("required", False)),
    )


def _sc_bad(p: _ScParams, v: Any) -> bool:
    try:
        key = tag(v)
        return key not in p.allowed if p.allowed is not None else key in p.forbidden  # type: ignore[operator]
    except TypeError:  # unhashable (a list or map where a scalar belongs): only an allow-list rejects it
        return p.allowed is not None


def _sc_set_detail(p: _ScParams, v: Any) -> str:
    if isinstance(v, (bool, int)):
        return f"must not set {p.display}={fmt(v)}"
    detail = f"must not set {p.display} to {fmt(v)}"
    if p.allowed is not None:
        detail += f" (allowed: {or_list(p.allowed_list)})"
    return detail


def _sc_required_detail(p: _ScParams) -> str:
    if len(p.allowed_list) == 1 and isinstance(p.allowed_list[0], (bool, int)):
        return f"must set {p.display}={fmt(p.allowed_list[0])}"
    return f"must set {p.display} to {or_list(p.allowed_list)}"


def eval_security_context(pod: PodView, rule: Rule, out: list[PssFinding]) -> None:
    p: _ScParams = rule.p
    keys = p.keys
    pod_value = MISSING
    if p.pod and pod.pod_sc is not None:
        pod_value = dig(pod.pod_sc, keys)
        if pod_value is not MISSING and _sc_bad(p, pod_value):
            out.append(rule.finding(f"pod {_sc_set_detail(p, pod_value)}", p.pointer))
    if not p.containers:
        return
    for base, name, c, sc in pod.containers:
        v = dig(sc, keys) if sc is not None else MISSING
        if v is not MISSING:
            if _sc_bad(p, v):
                out.append(rule.finding(f'container "{name}" {_sc_set_detail(p, v)}', base + p.pointer))
        elif p.required and pod_value is MISSING:
            # Absent here and not set on the pod: point at what exists, say what to add.
            where = nearest(base + "/securityContext", sc, keys) if sc is not None else base
            who = f'pod or container "{name}"' if p.pod else f'container "{name}"'
            out.append(rule.finding(f"{who} {_sc_required_detail(p)}", where))


# --------------------------------------------------------------------- kind: spec_flag

def compile_spec_flag(raw: dict) -> tuple[str, ...]:
    return tuple(strings(raw, "fields"))


def eval_spec_flag(pod: PodView, rule: Rule, out: list[PssFinding]) -> None:
    spec = pod.spec
    for field in rule.p:
        if spec.get(field) is True:
            out.append(rule.finding(f"pod must not set {field}=true", f"/{field}"))


# ------------------------------------------------------------------ kind: capabilities

def compile_capabilities(raw: dict) -> tuple[frozenset, str | None]:
    return frozenset(strings(raw, "allowed_add")), raw.get("require_drop")


def eval_capabilities(pod: PodView, rule: Rule, out: list[PssFinding]) -> None:
    allowed_add, require_drop = rule.p
    for base, name, c, sc in pod.containers:
        caps = sc.get("capabilities") if sc is not None else None
        if not isinstance(caps, dict):
            caps = None
        add = caps.get("add") if caps is not None else None
        if isinstance(add, list):
            for i, cap in enumerate(add):
                if not isinstance(cap, str) or cap not in allowed_add:
                    out.append(rule.finding(
                        f'container "{name}" must not include {fmt(cap)} in securityContext.capabilities.add',
                        f"{base}/securityContext/capabilities/add/{i}"))
        if require_drop is None:
            continue
        drop = caps.get("drop") if caps is not None else None
        if isinstance(drop, list) and require_drop in drop:
            continue
        if isinstance(drop, list):
            where = f"{base}/securityContext/capabilities/drop"
        elif caps is not None:
            where = f"{base}/securityContext/capabilities"
        elif sc is not None:
            where = f"{base}/securityContext"
        else:
            where = base
        out.append(rule.finding(
            f'container "{name}" must set securityContext.capabilities.drop=["{require_drop}"]', where))


# ----------------------------------------------------------------------- kind: volumes

def compile_volumes(raw: dict) -> tuple[frozenset | None, frozenset | None]:
    allowed, forbidden = raw.get("allowed"), raw.get("forbidden")
    if (allowed is None) == (forbidden is None):
        raise PackError("volumes rule needs exactly one of allowed/forbidden")
    return (frozenset(allowed) if allowed is not None else None,
            frozenset(forbidden) if forbidden is not None else None)


def eval_volumes(pod: PodView, rule: Rule, out: list[PssFinding]) -> None:
    allowed, forbidden = rule.p
    volumes = pod.spec.get("volumes")
    if not isinstance(volumes, list):
        return
    for i, vol in enumerate(volumes):
        if not isinstance(vol, dict):
            continue
        for source, value in vol.items():
            # A volume with no source at all is defaulted to emptyDir by the API server: allowed.
            if source == "name" or value is None:
                continue
            if (source in forbidden) if forbidden is not None else (source not in allowed):  # type: ignore[operator]
                out.append(rule.finding(
                    f'volume "{vol.get("name", "")}" must not use volume type "{source}"',
                    f"/volumes/{i}/{escape(str(source))}"))


# -------------------------------------------------------------------- kind: host_ports

def compile_host_ports(raw: dict) -> None:
    return None


def eval_host_ports(pod: PodView, rule: Rule, out: list[PssFinding]) -> None:
    for base, name, c, sc in pod.containers:
        ports = c.get("ports")
        if not isinstance(ports, list):
            continue
        for i, port in enumerate(ports):
            if isinstance(port, dict):
                host_port = port.get("hostPort")
                if host_port not in (None, 0):
                    out.append(rule.finding(f'container "{name}" must not set hostPort {fmt(host_port)}',
                                            f"{base}/ports/{i}/hostPort"))


# ------------------------------------------------------------------ kind: annotations

@record(frozen=True, slots=True)
class _AnnotationParams:
    keys: frozenset
    prefixes: tuple[str, ...]
    allowed_values: frozenset | None
    allowed_value_prefixes: tuple[str, ...]
    forbidden_values: frozenset | None


def compile_annotations(raw: dict) -> _AnnotationParams:
    allowed = raw.get("allowed_values")
    forbidden = raw.get("forbidden_values")
    if (allowed is None) == (forbidden is None):
        raise PackError("annotations rule needs exactly one of allowed_values/forbidden_values")
    return _AnnotationParams(
        keys=frozenset(strings(raw, "keys")), prefixes=tuple(strings(raw, "prefixes")),
        allowed_values=frozenset(allowed) if allowed is not None else None,
        allowed_value_prefixes=tuple(strings(raw, "allowed_value_prefixes")),
        forbidden_values=frozenset(forbidden) if forbidden is not None else None,
    )


def eval_annotations(pod: PodView, rule: Rule, out: list[PssFinding]) -> None:
    annotations = pod.meta.get("annotations")
    if not annotations or not isinstance(annotations, dict):
        return
    p: _AnnotationParams = rule.p
    for key in sorted(annotations, key=str):
        if not isinstance(key, str) or not (key in p.keys or key.startswith(p.prefixes)):
            continue
        value = annotations[key]
        text = "" if value is None else str(value)
        if p.allowed_values is not None:
            bad = text not in p.allowed_values and not text.startswith(p.allowed_value_prefixes)
        else:
            bad = text in p.forbidden_values  # type: ignore[operator]
        if bad:
            out.append(rule.finding(f"{key}={fmt(text)}", f"/metadata/annotations/{escape(key)}"))


# ---------------------------------------------------------------------- kind: selinux

def compile_selinux(raw: dict) -> frozenset:
    return frozenset(strings(raw, "allowed_types"))


def _selinux_one(rule: Rule, who: str, base: str, sc: dict | None, out: list[PssFinding]) -> None:
    opts = sc.get("seLinuxOptions") if sc is not None else None
    if not isinstance(opts, dict):
        return
    se_type = opts.get("type") or ""
    if se_type not in rule.p:
        out.append(rule.finding(f"{who} must not set securityContext.seLinuxOptions.type to {fmt(se_type)}",
                                f"{base}/securityContext/seLinuxOptions/type"))
    for field in ("user", "role"):
        if opts.get(field):
            out.append(rule.finding(f"{who} must not set securityContext.seLinuxOptions.{field}",
                                    f"{base}/securityContext/seLinuxOptions/{field}"))


def eval_selinux(pod: PodView, rule: Rule, out: list[PssFinding]) -> None:
    _selinux_one(rule, "pod", "", pod.pod_sc, out)
    for base, name, c, sc in pod.containers:
        _selinux_one(rule, f'container "{name}"', base, sc, out)


# ---------------------------------------------------------------------- kind: sysctls

def compile_sysctls(raw: dict) -> frozenset:
    return frozenset(strings(raw, "allowed"))


def eval_sysctls(pod: PodView, rule: Rule, out: list[PssFinding]) -> None:
    sysctls = pod.pod_sc.get("sysctls") if pod.pod_sc is not None else None
    if not isinstance(sysctls, list):
        return
    for i, s in enumerate(sysctls):
        name = s.get("name") if isinstance(s, dict) else None
        if not isinstance(name, str) or name not in rule.p:
            out.append(rule.finding(f"pod must not set sysctl {fmt(name)}", f"/securityContext/sysctls/{i}/name"))


# ------------------------------------------------------------------ kind: probe_hosts

_PROBE_HANDLERS = tuple(
    (f"{where}/{handler}", (*where.split("/"), handler))
    for where in ("livenessProbe", "readinessProbe", "startupProbe", "lifecycle/postStart", "lifecycle/preStop")
    for handler in ("httpGet", "tcpSocket")
)


def compile_probe_hosts(raw: dict) -> None:
    return None


def eval_probe_hosts(pod: PodView, rule: Rule, out: list[PssFinding]) -> None:
    for base, name, c, sc in pod.containers:
        if not ("livenessProbe" in c or "readinessProbe" in c or "startupProbe" in c or "lifecycle" in c):
            continue
        for pointer, keys in _PROBE_HANDLERS:
            handler = dig(c, keys)
            if handler is MISSING or not isinstance(handler, dict):
                continue
            host = handler.get("host")
            if host:
                field = pointer.replace("/", ".")
                out.append(rule.finding(f'container "{name}" must not set {field}.host ({fmt(host)})',
                                        f"{base}/{pointer}/host"))


# ------------------------------------------------------------------------- registry

Compile = Callable[[dict], Any]
Evaluate = Callable[[PodView, Rule, list], None]

KINDS: dict[str, tuple[Compile, Evaluate]] = {
    "security_context": (compile_security_context, eval_security_context),
    "spec_flag": (compile_spec_flag, eval_spec_flag),
    "capabilities": (compile_capabilities, eval_capabilities),
    "volumes": (compile_volumes, eval_volumes),
    "host_ports": (compile_host_ports, eval_host_ports),
    "annotations": (compile_annotations, eval_annotations),
    "selinux": (compile_selinux, eval_selinux),
    "sysctls": (compile_sysctls, eval_sysctls),
    "probe_hosts": (compile_probe_hosts, eval_probe_hosts),
}
