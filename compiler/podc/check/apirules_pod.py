"""API-server rules for a pod spec that the OpenAPI schema does not state.

Ported from ``k8s.io/kubernetes/pkg/apis/core/validation`` (the subset that matters for batch
work): names, uniqueness, references between fields, enum values, quantities and
requests <= limits. Scheduling and security fields are in :mod:`podc.check.apirules_sched`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Callable

from podc.check.apirules_common import Collector, as_dict, as_list, check_labels, names, quantity
from podc.check.apirules_sched import check_affinity, check_security_context, check_spread, check_tolerations

__all__ = ["check_pod_spec", "RESTART_POLICIES"]

RESTART_POLICIES = ("Always", "OnFailure", "Never")
IMAGE_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
PROTOCOLS = ("TCP", "UDP", "SCTP")
TERMINATION_MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")
PREEMPTION_POLICIES = ("PreemptLowerPriority", "Never")
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def check_pod_spec(out: Collector, spec: object, path: tuple, restart_allowed: tuple[str, ...] = RESTART_POLICIES,
                   restart_required: bool = False) -> None:
    """Every pod-level rule for the pod spec at ``path``."""
    if not isinstance(spec, dict):
        return
    restart = spec.get("restartPolicy")
    if restart is None and restart_required:
        out.add("api.restart-policy", "restartPolicy is required here: " + " or ".join(restart_allowed),
                path + ("restartPolicy",), f"set restartPolicy: {restart_allowed[-1]}")
    elif isinstance(restart, str) and restart not in restart_allowed:
        what = "restartPolicy" if restart_allowed == RESTART_POLICIES else "restartPolicy for this kind"
        out.enum(restart, restart_allowed, what, path + ("restartPolicy",))
    # Dispatch on the keys present (a few of ~40): absent fields cost nothing.
    for key, value in spec.items():
        rule = _POD_FIELD_RULES.get(key)
        if rule is not None and value is not None:
            rule(out, value, path + (key,))
    volumes = _volumes(out, spec.get("volumes"), path + ("volumes",))
    _containers(out, spec, path, volumes)


def _enum_rule(allowed: tuple[str, ...], what: str) -> Callable[[Collector, object, tuple], None]:
    def rule(out: Collector, value: object, path: tuple) -> None:
        out.enum(value, allowed, what, path)

    return rule


def _min_rule(minimum: int) -> Callable[[Collector, object, tuple], None]:
    def rule(out: Collector, value: object, path: tuple) -> None:
        out.min_ints({path[-1]: value}, ((path[-1], minimum),), path[:-1])

    return rule


def _name_rule(check: Callable[[str], tuple[str, ...]]) -> Callable[[Collector, object, tuple], None]:
    def rule(out: Collector, value: object, path: tuple) -> None:
        if isinstance(value, str) and value:
            out.name("api.name", check(value), value, str(path[-1]), path)

    return rule


def _image_pull_secrets(out: Collector, secrets: object, path: tuple) -> None:
    for i, secret in enumerate(as_list(secrets)):
        name = as_dict(secret).get("name")
        if isinstance(name, str) and name:
            out.name("api.name", names.dns1123_subdomain(name), name, "image pull secret name", path + (i, "name"))


_POD_FIELD_RULES: dict[str, Callable[[Collector, object, tuple], None]] = {
    "dnsPolicy": _enum_rule(DNS_POLICIES, "dnsPolicy"),
    "preemptionPolicy": _enum_rule(PREEMPTION_POLICIES, "preemptionPolicy"),
    "terminationGracePeriodSeconds": _min_rule(0),
    "activeDeadlineSeconds": _min_rule(1),
    "hostname": _name_rule(names.dns1123_label),
    "subdomain": _name_rule(names.dns1123_label),
    "serviceAccountName": _name_rule(names.dns1123_subdomain),
    "priorityClassName": _name_rule(names.dns1123_subdomain),
    "nodeSelector": check_labels,
    "tolerations": check_tolerations,
    "affinity": check_affinity,
    "topologySpreadConstraints": check_spread,
    "securityContext": check_security_context,
    "imagePullSecrets": _image_pull_secrets,
}


def _volumes(out: Collector, volumes: object, path: tuple) -> set[str]:
    declared: dict[str, int] = {}
    for i, vol in enumerate(as_list(volumes)):
        vol = as_dict(vol)
        name = vol.get("name")
        if isinstance(name, str):
            out.name("api.name", names.dns1123_label(name), name, "volume name", path + (i, "name"))
            if name in declared:
                out.add("api.duplicate", f"duplicate volume name {name!r} (also volumes[{declared[name]}])",
                        path + (i, "name"), "volume names must be unique in a pod")
            declared.setdefault(name, i)
        _file_modes(out, vol, path + (i,))
        # No source at all is fine: the API server defaults it to emptyDir.
        sources = sorted(str(k) for k, v in vol.items() if k != "name" and v is not None)
        if len(sources) > 1:
            out.add("api.volume-source", f"volume {name!r} sets {len(sources)} sources ({', '.join(sources)}); "
                    "exactly one is allowed", path + (i,),
                    "a layer probably changed the source type without removing the old one ($patch: replace)")
    return set(declared)


MAX_FILE_MODE = 0o777
_MODE_SOURCES = ("secret", "configMap", "downwardAPI", "projected")


def _file_modes(out: Collector, vol: dict, path: tuple) -> None:
    """``defaultMode`` / ``items[].mode`` of projected-file volumes: the API server allows 0..0777."""
    for source in _MODE_SOURCES:
        src = vol.get(source)
        if not isinstance(src, dict):
            continue
        at = path + (source,)
        _file_mode(out, src.get("defaultMode"), at + ("defaultMode",))
        _item_modes(out, src, at)
        if source == "projected":
            for j, proj in enumerate(as_list(src.get("sources"))):
                for kind, inner in as_dict(proj).items():
                    if isinstance(inner, dict):
                        _item_modes(out, inner, at + ("sources", j, kind))


def _item_modes(out: Collector, src: dict, at: tuple) -> None:
    for k, item in enumerate(as_list(src.get("items"))):
        _file_mode(out, as_dict(item).get("mode"), at + ("items", k, "mode"))


def _file_mode(out: Collector, mode: object, at: tuple) -> None:
    if isinstance(mode, bool) or not isinstance(mode, int):
        return  # absent, or a type error the schema reports
    if not 0 <= mode <= MAX_FILE_MODE:
        out.add("api.file-mode", f"{at[-1]} must be a file mode between 0 and 0777 (511), got {mode}", at,
                "modes are octal: write 0644 or 0o644 (both read as octal, like kubectl) or the decimal 420")


def _containers(out: Collector, spec: dict, path: tuple, volumes: set[str]) -> None:
    if isinstance(spec.get("containers"), list) and not spec["containers"]:
        out.add("api.containers", "a pod needs at least one container", path + ("containers",))
    seen: dict[str, tuple] = {}
    for field in CONTAINER_LISTS:
        for i, ctr in enumerate(as_list(spec.get(field))):
            if not isinstance(ctr, dict):
                continue
            where = path + (field, i)
            name = ctr.get("name")
            if isinstance(name, str):
                out.name("api.name", names.container_name(name), name, "container name", where + ("name",))
                if name in seen:
                    out.add("api.duplicate", f"duplicate container name {name!r} (also {seen[name][-2]}[{seen[name][-1]}])",
                            where + ("name",), "container names must be unique across containers, "
                            "initContainers and ephemeralContainers")
                seen.setdefault(name, (field, i))
            _container(out, ctr, where, volumes, field)


def _container(out: Collector, ctr: dict, where: tuple, volumes: set[str], field: str) -> None:
    image = ctr.get("image")
    if image is None or image == "":
        out.add("api.image", "container has no image", where + ("image",), "set image: <registry>/<repo>:<tag>")
    elif isinstance(image, str) and image != image.strip():
        out.add("api.image", f"image {image!r} has leading or trailing whitespace", where + ("image",))
    restart = ctr.get("restartPolicy")
    if restart is not None:
        if field != "initContainers":
            out.add("api.restart-policy", "only init containers may set restartPolicy (sidecars)",
                    where + ("restartPolicy",))
        else:
            out.enum(restart, ("Always",), "container restartPolicy", where + ("restartPolicy",))
    for key, value in ctr.items():
        rule = _CONTAINER_FIELD_RULES.get(key)
        if rule is not None and value is not None:
            rule(out, value, where + (key,))
    if "env" in ctr or "envFrom" in ctr:
        _env(out, ctr, where)
    if ctr.get("volumeMounts") is not None:
        _mounts(out, ctr["volumeMounts"], where + ("volumeMounts",), volumes)


def _probe(out: Collector, probe: object, path: tuple) -> None:
    if isinstance(probe, dict):
        _handler(out, probe, path, str(path[-1]), ("exec", "httpGet", "tcpSocket", "grpc"))


def _lifecycle(out: Collector, lifecycle: object, path: tuple) -> None:
    for hook, handler in as_dict(lifecycle).items():
        if hook in ("postStart", "preStop") and isinstance(handler, dict):
            _handler(out, handler, path + (hook,), hook, ("exec", "httpGet", "tcpSocket", "sleep"))


def _ports(out: Collector, ports: object, path: tuple) -> None:
    seen_names: set[str] = set()
    for i, port in enumerate(as_list(ports)):
        port = as_dict(port)
        where = path + (i,)
        cp = port.get("containerPort")
        if isinstance(cp, int) and not isinstance(cp, bool):
            out.name("api.port", names.port_number(cp), cp, "containerPort", where + ("containerPort",))  # type: ignore[arg-type]
        hp = port.get("hostPort")
        if isinstance(hp, int) and not isinstance(hp, bool) and hp != 0:
            out.name("api.port", names.port_number(hp), hp, "hostPort", where + ("hostPort",))  # type: ignore[arg-type]
        out.enum(port.get("protocol"), PROTOCOLS, "protocol", where + ("protocol",))
        name = port.get("name")
        if isinstance(name, str) and name:
            out.name("api.port-name", names.port_name(name), name, "port name", where + ("name",))
            if name in seen_names:
                out.add("api.duplicate", f"duplicate port name {name!r}", where + ("name",))
            seen_names.add(name)


def _handler(out: Collector, handler: dict, path: tuple, what: str, kinds: tuple[str, ...]) -> None:
    used = [k for k in kinds if handler.get(k) is not None]
    if len(used) != 1:
        out.add("api.probe", f"{what} must set exactly one of {', '.join(kinds)}"
                + (f" (got {', '.join(used)})" if used else ""), path)
    for kind in ("httpGet", "tcpSocket"):
        port = as_dict(handler.get(kind)).get("port")
        at = path + (kind, "port")
        if isinstance(port, bool):
            continue
        if isinstance(port, int):
            out.name("api.port", names.port_number(port), port, "port", at)  # type: ignore[arg-type]
        elif isinstance(port, str):
            if port.isdigit():
                out.name("api.port", names.port_number(int(port)), port, "port", at)
            else:
                out.name("api.port-name", names.port_name(port), port, "port name", at)


def _env(out: Collector, ctr: dict, where: tuple) -> None:
    env = ctr.get("env")
    if isinstance(env, list):
        seen: dict[str, int] = {}
        for i, var in enumerate(env):
            if not isinstance(var, dict):
                continue
            name = var.get("name")
            if isinstance(name, str):
                errs = names.env_var_name(name, out.version)
                if errs:
                    out.name("api.env-name", errs, name, "environment variable name", where + ("env", i, "name"))
                if name in seen:
                    out.add("api.duplicate-env", f"environment variable {name!r} is set twice (also "
                            f"env[{seen[name]}]); the later one wins", where + ("env", i, "name"),
                            "remove one; merging tools that append lists cause this", severity="warning")
                else:
                    seen[name] = i
            source = var.get("valueFrom")
            if source is None:
                continue
            if var.get("value") not in (None, ""):
                out.add("api.env-source", f"environment variable {name!r} sets both value and valueFrom",
                        where + ("env", i))
            if isinstance(source, dict):
                kinds = [k for k, v in source.items() if v is not None]
                if len(kinds) != 1:
                    out.add("api.env-source", f"valueFrom must set exactly one source, got {len(kinds)}"
                            + (f" ({', '.join(sorted(map(str, kinds)))})" if kinds else ""),
                            where + ("env", i, "valueFrom"))
    for i, src in enumerate(as_list(ctr.get("envFrom"))):
        src = as_dict(src)
        refs = [k for k in ("configMapRef", "secretRef") if src.get(k) is not None]
        if len(refs) != 1:
            out.add("api.env-source", "envFrom entries need exactly one of configMapRef or secretRef",
                    where + ("envFrom", i))


def _is_native(resource: str) -> bool:
    # helper.IsNativeResource: no domain, or a *kubernetes.io/ domain.
    return "/" not in resource or "kubernetes.io/" in resource


def _is_hugepages(resource: str) -> bool:
    return resource.startswith("hugepages-")


def _overcommit_allowed(resource: str) -> bool:
    # helper.IsOvercommitAllowed: native resources except hugepages.
    return _is_native(resource) and not _is_hugepages(resource)


_STANDARD_CONTAINER = ("cpu", "memory", "ephemeral-storage")


def _resources(out: Collector, resources: object, path: tuple) -> None:
    """validation.go ValidateResourceRequirements (+ validateContainerResourceName,
    ValidateResourceQuantityValue, validateResourceQuantityHugePageValue)."""
    res = as_dict(resources)
    parsed: dict[str, dict[str, Decimal]] = {"requests": {}, "limits": {}}
    cpu_or_memory = hugepages = False
    for part in ("requests", "limits"):
        for key, value in as_dict(res.get(part)).items():
            at = path + (part, key)
            if isinstance(key, str):
                out.name("api.resource-name", names.qualified_name(key), key, "resource name", at)
                if "/" not in key and key not in _STANDARD_CONTAINER and not _is_hugepages(key):
                    out.add("api.resource-name", f"{part}.{key}: not a standard resource for containers", at,
                            "containers use cpu, memory, ephemeral-storage, hugepages-<size> or a "
                            "domain-qualified extended resource such as nvidia.com/gpu")
                cpu_or_memory = cpu_or_memory or key in ("cpu", "memory")
                hugepages = hugepages or _is_hugepages(key)
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                continue
            amount = quantity(value)
            if isinstance(amount, str):
                out.add("api.quantity", f"{part}.{key}: {amount}", at)
                continue
            if amount < 0:
                out.add("api.quantity", f"{part}.{key} must be greater than or equal to 0, got {value!r}", at)
            key = str(key)
            if not _is_native(key) and amount != amount.to_integral_value():
                out.add("api.extended-resource", f"extended resource {key!r} must be a whole number, got {value!r}",
                        at, "extended resources (GPUs, devices) are counted in whole units: write 1, not 0.5")
            if _is_hugepages(key):
                _hugepage_value(out, key, amount, value, at)
            parsed[part][key] = amount
    for key, request in parsed["requests"].items():
        limit = parsed["limits"].get(key)
        if limit is not None and request > limit:
            out.add("api.requests-exceed-limits",
                    f"{key} request {res['requests'][key]!r} is more than its limit {res['limits'][key]!r}",
                    path + ("requests", key), f"raise limits.{key} or lower requests.{key}")
        elif limit is not None and request != limit and not _overcommit_allowed(key):
            what = "hugepages" if _is_hugepages(key) else "extended resource"
            out.add("api.extended-resource", f"{what} {key!r}: request must equal limit",
                    path + ("requests", key), f"set requests.{key} to the limit ({res['limits'][key]!r}), or drop "
                    "the request (it defaults to the limit)")
        elif limit is None and not _overcommit_allowed(key):
            what = "hugepages" if _is_hugepages(key) else "extended resource"
            out.add("api.extended-resource", f"{what} {key!r} needs a limit", path + ("limits",),
                    f"set limits.{key} (it cannot be overcommitted)")
    if hugepages and not cpu_or_memory:
        out.add("api.hugepages", "hugepages require a cpu or memory request or limit", path,
                "add a memory limit next to the hugepages limit")



def _hugepage_value(out: Collector, key: str, amount: Decimal, value: object, at: tuple) -> None:
    """validateResourceQuantityHugePageValue: a whole number of pages of the named size."""
    size = key[len("hugepages-"):]
    page = quantity(size)
    if isinstance(page, str) or page <= 0:
        out.add("api.hugepages", f"{key!r}: {size!r} is not a page size", at, "write e.g. hugepages-2Mi or hugepages-1Gi")
        return
    if amount % page != 0:
        out.add("api.hugepages", f"{key}: {value!r} is not a whole number of {size} pages", at,
                f"use a multiple of {size}")


def _mounts(out: Collector, mounts: object, path: tuple, volumes: set[str]) -> None:
    paths: dict[str, int] = {}
    for i, mount in enumerate(as_list(mounts)):
        mount = as_dict(mount)
        at = path + (i,)
        name = mount.get("name")
        if isinstance(name, str) and name not in volumes:
            from podc.errors import did_you_mean

            guess = did_you_mean(name, volumes)
            out.add("api.volume-mount", f"volumeMount refers to volume {name!r}, which the pod does not declare",
                    at + ("name",), f'did you mean "{guess}"?' if guess else
                    ("declared volumes: " + ", ".join(sorted(volumes)) if volumes else "add it under volumes"))
        mp = mount.get("mountPath")
        if isinstance(mp, str):
            if mp in paths:
                out.add("api.duplicate", f"mountPath {mp!r} is used twice (also volumeMounts[{paths[mp]}])",
                        at + ("mountPath",))
            paths.setdefault(mp, i)
        sub = mount.get("subPath")
        if isinstance(sub, str) and sub and (sub.startswith("/") or ".." in sub.split("/")):
            out.add("api.volume-mount", f"subPath {sub!r} must be a relative path without '..'", at + ("subPath",))


_CONTAINER_FIELD_RULES: dict[str, Callable[[Collector, object, tuple], None]] = {
    "imagePullPolicy": _enum_rule(IMAGE_PULL_POLICIES, "imagePullPolicy"),
    "terminationMessagePolicy": _enum_rule(TERMINATION_MESSAGE_POLICIES, "terminationMessagePolicy"),
    "ports": _ports,
    "livenessProbe": _probe,
    "readinessProbe": _probe,
    "startupProbe": _probe,
    "lifecycle": _lifecycle,
    "resources": _resources,
    "securityContext": check_security_context,
}
