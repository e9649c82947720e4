"""JSON report, ``"version": 1``. The shape (documented in docs/check.md)::

    {"version": 1,
     "summary": {"documents", "violations", "error", "warning", "info", "suppressed", "failOn",
                 "failed", "kubernetesVersion", "pss"},
     "documents": [{"file", "index", "kind", "name", ["target"],
                    "violations": [{"policy", "rule", "severity", "message", "path",
                                    "source": {"file", "line", "column"}, ["hint"]}],
                    "suppressed": [{...a violation..., "exception": {"policy", "rule", "reason",
                                    ["expires"], ["targets"], ["layer"], "source"}}]}],
     "notices": [{"code", "severity", "message", "source": {...}, ["hint"]}]}

Paths are relative to the current directory when inside it.
"""

from __future__ import annotations

import json as _json

from podc.check.report.paths import relative_path

__all__ = ["render", "to_data"]


def _source(pos, base):
    return {"file": relative_path(pos.file, base), "line": pos.line, "column": pos.col}


def _violation(v, base) -> dict:
    item = {"policy": v.policy, "rule": v.rule, "severity": v.severity, "message": v.message,
            "path": v.path, "source": _source(v.pos, base)}
    if v.hint:
        item["hint"] = v.hint
    return item


def _exception(e, base) -> dict:
    item: dict = {"policy": e.policy, "rule": e.rule, "reason": e.reason}
    if e.expires is not None:
        item["expires"] = e.expires.isoformat()
    if e.targets is not None:
        item["targets"] = list(e.targets)
    if e.layer is not None:
        item["layer"] = e.layer
    item["source"] = _source(e.pos, base)
    return item


def to_data(result, base: str | None = None) -> dict:
    counts = result.counts()
    docs = []
    for d in result.documents:
        entry: dict = {"file": relative_path(d.file, base), "index": d.index, "kind": d.kind, "name": d.name}
        if d.target is not None:
            entry["target"] = d.target
        entry["violations"] = [_violation(v, base) for v in d.violations]
        entry["suppressed"] = [dict(_violation(s.violation, base), exception=_exception(s.exception, base))
                               for s in d.suppressed]
        docs.append(entry)
    notices = []
    for n in result.notices:
        item = {"code": n.code, "severity": n.severity, "message": n.message, "source": _source(n.pos, base)}
        if n.hint:
            item["hint"] = n.hint
        notices.append(item)
    return {
        "version": 1,
        "summary": {"documents": len(result.documents), "violations": sum(counts.values()), **counts,
                    "suppressed": result.suppressed, "failOn": result.fail_on, "failed": result.failed,
                    "kubernetesVersion": result.kubernetes_version, "pss": result.pss},
        "documents": docs,
        "notices": notices,
    }


def render(result, base: str | None = None) -> str:
    return _json.dumps(to_data(result, base), indent=2, ensure_ascii=False) + "\n"
