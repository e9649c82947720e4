"""Dagster metadata describing a compiled Job: which layer set what, the policy result, the
manifest with every env value redacted. Shared by the run launcher and the Pipes client (the
executor's launch event carries the same keys)."""

from __future__ import annotations

from typing import Any, Iterable

from podc.dagster.events import explain_markdown, explain_rows, redacted_manifest

__all__ = ["job_metadata", "policy_text"]

_LONG_ARG = 256  # serialized run arguments (instance ref, origin): not worth showing


def policy_text(compiled: Any, extra_warnings: Iterable[str] = ()) -> str:
    return "\n".join([compiled.check_summary, *compiled.warnings, *extra_warnings])


def _shown_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    out = redacted_manifest(manifest)
    pod = ((out.get("spec") or {}).get("template") or {}).get("spec") or {}
    for container in pod.get("containers") or []:
        for key in ("command", "args"):
            if container.get(key):
                container[key] = [a if len(str(a)) <= _LONG_ARG else f"<{len(str(a))} characters>"
                                  for a in container[key]]
    return out


def job_metadata(compiled: Any, name: str, namespace: str, *, attempt: int | None = None,
                 warnings: Iterable[str] = (), timings: dict[str, float] | None = None) -> dict:
    """Metadata for an engine event or a Pipes result about ``compiled`` submitted as
    ``namespace/name``."""
    from dagster import MetadataValue

    rows = explain_rows(compiled.job)
    meta: dict[str, Any] = {
        "Kubernetes Job name": MetadataValue.text(name),
        "Kubernetes namespace": MetadataValue.text(namespace),
        "podc layers": MetadataValue.json({"layers": list(compiled.layer_names)}),
        "podc explain": MetadataValue.md(explain_markdown(rows, compiled.layer_names)),
        "podc provenance": MetadataValue.json(
            {r.field: {"layer": r.layer, "source": r.source} for r in rows}),
        "podc manifest": MetadataValue.json(_shown_manifest(compiled.manifest)),
        "podc policy check": MetadataValue.text(policy_text(compiled, warnings)),
    }
    if attempt is not None:
        meta["attempt"] = MetadataValue.int(attempt)
    for key, seconds in (timings or {}).items():
        meta[f"{key} seconds"] = MetadataValue.float(round(seconds, 6))
    return meta
