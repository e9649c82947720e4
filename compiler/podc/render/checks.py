"""Cross-field checks on a rendered Job, located with its provenance.

These are the rules the API server enforces that a per-layer schema cannot see: names, label
syntax, quantities, requests <= limits, mounts naming declared volumes, unique names. Every
problem is reported (none raised) at the file:line:col of the value that set it.
"""

from __future__ import annotations

from typing import Any, Callable

from podc.errors import Diagnostics, Pos
from podc.render.compiled import CompiledJob


__all__ = ["check_job"]

_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def check_job(job: CompiledJob, diags: Diagnostics, *, kubernetes_version: str | None = None) -> None:
    _Checker(job, diags).run()


class _Checker:
    def __init__(self, job: CompiledJob, diags: Diagnostics):
        self.job, self.diags = job, diags
        self.m = job.manifest
        # podc copies the Job's labels into the pod template: the same bad label would be reported
        # twice at the same layer line; the first report (the Job's) is kept.
        self.reported: set[tuple[str, str, Pos]] = set()

    def pos(self, pointer: str) -> Pos:
        return self.job.pos(pointer)

    def key_pos(self, pointer: str) -> Pos:
        return self.job.key_pos.get(pointer) or self.pos(pointer)

    def err(self, code: str, message: str, pointer: str, hint: str | None = None, *, key: bool = False,
            related=()) -> None:
        pos = self.key_pos(pointer) if key else self.pos(pointer)
        if (code, message, pos) in self.reported:
            return
        self.reported.add((code, message, pos))
        self.diags.add(code, message, pos, hint=hint, path=_display(self.m, pointer), related=related)

    def names(self, check: Callable[[str], list[str]], value: Any, pointer: str, what: str, *, key: bool = False) -> None:
        if not isinstance(value, str):
            self.err("job.type", f"{what} must be a string, got {value!r}", pointer, key=key)
            return
        problems = check(value)
        if problems:
            self.err("job.invalid-name", f"invalid {what} {value!r}: {problems[0]}", pointer, key=key)

    def run(self) -> None:
        from podc.kube import names

        m = self.m
        if m.get("apiVersion") != "batch/v1" or m.get("kind") != "Job":
            self.err("job.kind", f"podc compiles batch/v1 Jobs, got {m.get('apiVersion')}/{m.get('kind')}", "/kind")
        meta = m.get("metadata") or {}
        name = meta.get("name")
        if not name:
            self.err("job.missing-name", "the Job has no name", "/metadata", "set `name:` in a layer")
        else:
            self.names(names.dns1123_label, name, "/metadata/name", "Job name")
        if meta.get("namespace") is not None:
            self.names(names.dns1123_label, meta["namespace"], "/metadata/namespace", "namespace")
        self.labels(meta, "/metadata")
        spec = m.get("spec") or {}
        template = spec.get("template") or {}
        self.labels(template.get("metadata") or {}, "/spec/template/metadata")
        pod = template.get("spec") or {}
        self.pod(pod, "/spec/template/spec")

    def labels(self, meta: dict, base: str) -> None:
        from podc.kube import names

        for k, v in (meta.get("labels") or {}).items():
            p = f"{base}/labels/{_esc(k)}"
            self.names(names.qualified_name, k, p, "label key", key=True)
            if not isinstance(v, str):
                self.err("job.type", f"label {k!r} must be a string, got {v!r}", p, "quote the value")
            else:
                self.names(names.label_value, v, p, f"value of label {k!r}")
        for k in (meta.get("annotations") or {}):
            p = f"{base}/annotations/{_esc(k)}"
            self.names(names.annotation_key, k, p, "annotation key", key=True)
        ann = meta.get("annotations") or {}
        if ann and isinstance(ann, dict) and all(isinstance(v, str) for v in ann.values()):
            problems = names.annotations_size(ann)
            if problems:
                self.err("job.annotations-size", problems[0], f"{base}/annotations")

    def pod(self, pod: dict, base: str) -> None:
        from podc.kube import names

        volumes: dict[str, str] = {}
        for i, vol in enumerate(pod.get("volumes") or []):
            p = f"{base}/volumes/{i}"
            vname = vol.get("name") if isinstance(vol, dict) else None
            if not vname:
                self.err("job.missing-name", "a volume has no name", p)
                continue
            self.names(names.dns1123_label, vname, p + "/name", "volume name")
            if vname in volumes:
                self.err("job.duplicate-name", f"two volumes named {vname!r}", p + "/name",
                         related=[(self.pos(volumes[vname]), "first defined here")])
            volumes.setdefault(vname, p + "/name")
            if isinstance(vol, dict) and len(vol) < 2:
                self.err("job.volume-source", f"volume {vname!r} has no source", p,
                         "give it one source: emptyDir, configMap, secret, persistentVolumeClaim, ...")
        if not pod.get("containers"):
            self.err("job.no-containers", "the Job has no containers", base, "set `image:` in a layer")
        seen: dict[str, str] = {}
        for list_name in _CONTAINER_LISTS:
            for i, c in enumerate(pod.get(list_name) or []):
                self.container(c, f"{base}/{list_name}/{i}", list_name, volumes, seen)

    def container(self, c: dict, p: str, list_name: str, volumes: dict[str, str], seen: dict[str, str]) -> None:
        from podc.kube import names

        cname = c.get("name")
        what = {"containers": "container", "initContainers": "init container",
                "ephemeralContainers": "ephemeral container"}[list_name]
        if not cname:
            self.err("job.missing-name", f"a {what} has no name", p)
        else:
            self.names(names.container_name, cname, p + "/name", f"{what} name")
            if cname in seen:
                self.err("job.duplicate-name", f"two containers named {cname!r}", p + "/name",
                         "container and init container names must all differ",
                         related=[(self.pos(seen[cname]), "first defined here")])
            seen.setdefault(cname, p + "/name")
        if list_name != "ephemeralContainers" and not (isinstance(c.get("image"), str) and c["image"].strip()):
            self.err("job.missing-image", f"{what} {cname!r} has no image", p + ("/image" if "image" in c else ""),
                     "set `image:` (for the main container) or the container's image")
        env_seen: set[str] = set()
        for j, e in enumerate(c.get("env") or []):
            ename = e.get("name") if isinstance(e, dict) else None
            if ename in env_seen:
                self.err("job.duplicate-name", f"environment variable {ename!r} is set twice", f"{p}/env/{j}/name")
            env_seen.add(ename)
        for j, vm in enumerate(c.get("volumeMounts") or []):
            vname = vm.get("name") if isinstance(vm, dict) else None
            if vname not in volumes:
                guess = _closest(vname, volumes)
                self.err("job.unknown-volume", f"volume mount names volume {vname!r}, which is not declared",
                         f"{p}/volumeMounts/{j}/name",
                         f"did you mean {guess!r}?" if guess else "declare it under `volumes:`")
        self.resources(c.get("resources") or {}, p + "/resources")

    def resources(self, res: dict, p: str) -> None:
        from podc.kube.quantity import parse_quantity

        parsed: dict[str, dict[str, Any]] = {}
        for kind in ("requests", "limits"):
            for rname, value in (res.get(kind) or {}).items():
                ptr = f"{p}/{kind}/{_esc(rname)}"
                try:
                    parsed.setdefault(kind, {})[rname] = parse_quantity(value)
                except (ValueError, ArithmeticError) as e:
                    self.err("job.quantity", f"{kind}.{rname}: {e}", ptr)
        for kind, amounts in parsed.items():
            for rname, amount in amounts.items():
                if _extended(rname) and amount != int(amount):
                    self.err("job.extended-resource", f"extended resource {rname!r} must be a whole number, got "
                             f"{res[kind][rname]!r}", f"{p}/{kind}/{_esc(rname)}",
                             "extended resources (GPUs, devices) are counted in whole units: write 1, not 0.5")
        for rname, req in parsed.get("requests", {}).items():
            lim = parsed.get("limits", {}).get(rname)
            if lim is not None and req != lim and (_extended(rname) or rname.startswith("hugepages-")) and req <= lim:
                self.err("job.extended-resource", f"{rname}: the request must equal the limit "
                         f"({res['requests'][rname]} vs {res['limits'][rname]})", f"{p}/requests/{_esc(rname)}",
                         "drop the request (it defaults to the limit) or make them equal; "
                         "this resource cannot be overcommitted",
                         related=[(self.pos(f"{p}/limits/{_esc(rname)}"), "the limit is set here")])
            if lim is not None and req > lim:
                ptr = f"{p}/requests/{_esc(rname)}"
                self.err("job.requests-exceed-limits",
                         f"{rname} request {res['requests'][rname]} is more than its limit {res['limits'][rname]}", ptr,
                         "raise the limit or lower the request",
                         related=[(self.pos(f"{p}/limits/{_esc(rname)}"), "the limit is set here")])


def _extended(resource: Any) -> bool:
    """An extended resource (nvidia.com/gpu): domain-qualified, outside *kubernetes.io/."""
    return isinstance(resource, str) and "/" in resource and "kubernetes.io/" not in resource


def _esc(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _closest(word: Any, choices) -> str | None:
    from podc.errors import did_you_mean

    return did_you_mean(word, choices) if isinstance(word, str) and choices else None


def _display(manifest: Any, pointer: str) -> str:
    """``/spec/template/spec/containers/0/image`` -> ``spec.template.spec.containers[name=main].image``."""
    from podc.render.provenance import display_path

    return display_path(manifest, pointer)
