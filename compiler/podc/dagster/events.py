"""What the step's launch event shows: which layer set what (``podc explain`` in brief).

Pure functions over a compiled Job (``manifest`` + ``provenance`` of JSON pointer →
``ValueOrigin(layer, pos, overridden)``). Env var *values* never appear (they may be secrets):
the summary names the variable and the layer that set it, and the manifest copy attached to the
event has every env value replaced by ``<redacted>``.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Iterable, Mapping

from podc._record import record

__all__ = ["ExplainRow", "explain_rows", "explain_markdown", "redacted_manifest", "layer_of",
           "main_container", "env_reference_warnings"]

_POD = "/spec/template/spec"
_MAIN = f"{_POD}/containers/0"


@record(frozen=True)
class ExplainRow:
    field: str  # friendly path, e.g. resources.limits.memory
    value: str
    layer: str
    source: str  # file:line:col of the value
    overrides: tuple[str, ...] = ()  # layers whose values it replaced, oldest first


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _origin(provenance: Mapping[str, Any], pointer: str) -> Any:
    p = pointer
    while True:
        hit = provenance.get(p)
        if hit is not None or not p:
            return hit
        p = p[: p.rfind("/")]


def layer_of(compiled: Any, pointer: str) -> str | None:
    """The layer that set the value at ``pointer`` (or its nearest ancestor)."""
    hit = _origin(compiled.provenance, pointer)
    return hit.layer if hit is not None else None


def _row(compiled: Any, field: str, pointer: str, value: Any, item: str | None = None) -> ExplainRow:
    """``item``: the pointer of the list item holding the value — an item replaced whole
    (a dagster-k8s redefinition) records what it replaced there, not on its leaves."""
    hit = _origin(compiled.provenance, pointer)
    if hit is None:
        return ExplainRow(field, _text(value), "?", "")
    history = getattr(hit, "overridden", ()) or ()
    if not history and item is not None:
        holder = compiled.provenance.get(item)
        history = getattr(holder, "overridden", ()) or ()
    overrides = tuple(layer for layer, _pos in history)
    return ExplainRow(field, _text(value), hit.layer, str(hit.pos), overrides)


def _text(value: Any) -> str:
    if isinstance(value, (list, dict)):
        import json

        text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    else:
        text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _main_container_index(manifest: Mapping[str, Any]) -> int:
    containers = (((manifest.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
        "containers") or []
    for i, c in enumerate(containers):
        if c.get("name") == "main":
            return i
    return 0


def main_container(manifest: Mapping[str, Any]) -> Mapping[str, Any]:
    containers = (((manifest.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
        "containers") or [{}]
    return containers[_main_container_index(manifest)] if containers else {}


_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.\-]*)\)")


def env_reference_warnings(manifest: Mapping[str, Any]) -> list[str]:
    """``$(VAR)`` in an env value resolves only to a variable defined *earlier* in the list;
    Kubernetes leaves any other reference as literal text. Warn for references to variables
    defined later (an order problem: e.g. a dict-valued tag whose keys Dagster sorted)."""
    env = main_container(manifest).get("env") or []
    position = {e.get("name"): i for i, e in enumerate(env)}
    out = []
    for i, entry in enumerate(env):
        value = entry.get("value")
        if not isinstance(value, str) or "$(" not in value:
            continue
        for match in _REF.finditer(value):
            name = match.group(1)
            if name and position.get(name, -1) > i:
                out.append(f"env {entry.get('name')} refers to $({name}), which is defined after it: "
                           f"Kubernetes leaves the text $({name}) as it is. Define {name} first "
                           "(a podc/config tag given as a dict reaches podc with its keys sorted: "
                           "write env as a list [{name: …, value: …}] or the tag as YAML text)")
    return out


def explain_rows(compiled: Any) -> list[ExplainRow]:
    """The fields users ask about, with the layer that set each: image, command, resources,
    tolerations, node selector, affinity, service account, deadlines, env var names, labels."""
    m = compiled.manifest
    spec = m.get("spec") or {}
    pod = (spec.get("template") or {}).get("spec") or {}
    ci = _main_container_index(m)
    containers = pod.get("containers") or [{}]
    main = containers[ci] if ci < len(containers) else {}
    cpath = f"{_POD}/containers/{ci}"
    rows: list[ExplainRow] = []
    for key in ("image", "imagePullPolicy", "command", "args"):
        if key in main:
            rows.append(_row(compiled, key, f"{cpath}/{key}", main[key]))
    for kind in ("limits", "requests"):
        for res, qty in sorted(((main.get("resources") or {}).get(kind) or {}).items()):
            rows.append(_row(compiled, f"resources.{kind}.{res}",
                             f"{cpath}/resources/{kind}/{_escape(res)}", qty))
    for i, tol in enumerate(pod.get("tolerations") or []):
        rows.append(_row(compiled, f"tolerations[{i}]", f"{_POD}/tolerations/{i}", tol))
    for key, value in sorted((pod.get("nodeSelector") or {}).items()):
        rows.append(_row(compiled, f"nodeSelector.{key}", f"{_POD}/nodeSelector/{_escape(key)}", value))
    for key in ("affinity", "serviceAccountName", "priorityClassName"):
        if key in pod:
            rows.append(_row(compiled, key, f"{_POD}/{key}", pod[key]))
    for key in ("activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished"):
        if key in spec:
            rows.append(_row(compiled, key, f"/spec/{key}", spec[key]))
    for i, env in enumerate(main.get("env") or []):
        shown = "<from " + next(iter(env["valueFrom"])) + ">" if env.get("valueFrom") else "<redacted>"
        member = "valueFrom" if env.get("valueFrom") else "value"
        rows.append(_row(compiled, f"env.{env.get('name')}", f"{cpath}/env/{i}/{member}", shown,
                         f"{cpath}/env/{i}"))
    for i, vol in enumerate(pod.get("volumes") or []):
        rows.append(_row(compiled, f"volumes.{vol.get('name')}", f"{_POD}/volumes/{i}",
                         next((k for k in vol if k != "name"), "")))
    for key, value in sorted(((m.get("metadata") or {}).get("labels") or {}).items()):
        rows.append(_row(compiled, f"labels.{key}", f"/metadata/labels/{_escape(key)}", value))
    return rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def explain_markdown(rows: Iterable[ExplainRow], layers: Iterable[str]) -> str:
    """A markdown table for the Dagster UI, preceded by the layer order."""
    lines = ["Layers (later wins): " + " → ".join(f"`{name}`" for name in layers), "",
             "| field | value | set by | source | overrides |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {_cell(r.field)} | `{_cell(r.value)}` | {_cell(r.layer)} | {_cell(r.source)} | "
                     f"{_cell(', '.join(r.overrides))} |")
    return "\n".join(lines)


def redacted_manifest(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a Job manifest with every env var value replaced (names and valueFrom refs kept)
    and secret-looking parts of commands and arguments masked (:mod:`podc.kube.secrets`)."""
    from podc.kube.secrets import redact_text

    out = copy.deepcopy(dict(manifest))
    pod = ((out.get("spec") or {}).get("template") or {}).get("spec") or {}
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for container in pod.get(key) or []:
            for env in container.get("env") or []:
                if "value" in env:
                    env["value"] = "<redacted>"
            for argv in ("command", "args"):
                if isinstance(container.get(argv), list):
                    container[argv] = [redact_text(a) if isinstance(a, str) else a for a in container[argv]]
    return out
