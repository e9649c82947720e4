"""SARIF 2.1.0 for GitHub code scanning: rules in ``tool.driver.rules``; each result located at
the source line (URI relative to the repository root, ``%SRCROOT%``). A violation an exception
accepted is a result too, with a ``suppressions`` entry (status accepted, the exception's reason
as justification, its location), so code scanning shows it as dismissed, never forgets it."""

from __future__ import annotations

import json as _json

from podc.check.report.paths import relative_path

__all__ = ["render", "to_data"]

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def _artifact(file: str | None, root: str) -> dict:
    import os
    from pathlib import Path

    rel = relative_path(file, root) if file else None
    if rel is None:
        return {"uri": "podc.yaml", "uriBaseId": "%SRCROOT%"}
    if os.path.isabs(rel):  # outside the repository (podc's own defaults): an absolute file URI
        return {"uri": Path(rel).as_uri()}
    return {"uri": rel, "uriBaseId": "%SRCROOT%"}


def _location(pos, root: str, pointer: str | None = None) -> dict:
    physical: dict = {"artifactLocation": _artifact(pos.file, root)}
    if pos.line:
        physical["region"] = {"startLine": pos.line, "startColumn": max(pos.col, 1)}
    loc: dict = {"physicalLocation": physical}
    if pointer:
        loc["logicalLocations"] = [{"fullyQualifiedName": pointer, "kind": "member"}]
    return loc


def to_data(result, root: str) -> dict:
    from podc import __version__

    rule_index: dict[str, int] = {}
    rules: list[dict] = []
    for (policy, rule), meta in sorted(result.rules.items()):
        rid = f"{policy}/{rule}"
        rule_index[rid] = len(rules)
        entry: dict = {"id": rid, "name": rule,
                       "shortDescription": {"text": meta.get("title") or rid},
                       "defaultConfiguration": {"level": _LEVEL.get(meta.get("severity", "error"), "error")},
                       "properties": {"policy": policy}}
        if meta.get("rationale"):
            entry["fullDescription"] = {"text": meta["rationale"]}
        if meta.get("hint"):
            entry["help"] = {"text": meta["hint"]}
        rules.append(entry)
    results: list[dict] = []
    for doc in result.documents:
        for v in doc.violations:
            results.append(_result(doc, v, rule_index, root))
        for s in doc.suppressed:
            res = _result(doc, s.violation, rule_index, root)
            e = s.exception
            justification = e.reason + (f" (expires {e.expires.isoformat()})" if e.expires is not None else "")
            res["suppressions"] = [{"kind": "external", "status": "accepted", "justification": justification,
                                    "location": _location(e.pos, root)}]
            results.append(res)
    notifications = [{"level": _LEVEL.get(n.severity, "note"), "message": {"text": n.message},
                      "descriptor": {"id": n.code}, "locations": [_location(n.pos, root)]}
                     for n in result.notices]
    run: dict = {
        "tool": {"driver": {"name": "podc", "version": __version__, "informationUri": "https://github.com/podc/podc",
                            "rules": rules}},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": _file_uri(root)}},
        "results": results,
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _result(doc, v, rule_index: dict[str, int], root: str) -> dict:
    rid = f"{v.policy}/{v.rule}"
    subject = f"target {doc.target}" if doc.target is not None else f"{doc.kind}/{doc.name}"
    res: dict = {"ruleId": rid, "level": _LEVEL.get(v.severity, "error"),
                 "message": {"text": f"{v.message} ({subject})"},
                 "locations": [_location(v.pos, root, v.path or "/")]}
    if rid in rule_index:
        res["ruleIndex"] = rule_index[rid]
    if v.related:
        res["relatedLocations"] = [
            {"id": i, **_location(p, root), "message": {"text": m}} for i, (p, m) in enumerate(v.related)]
    return res


def _file_uri(root: str) -> str:
    from pathlib import Path

    return Path(root).resolve().as_uri() + "/"


def render(result, root: str) -> str:
    return _json.dumps(to_data(result, root), indent=2, ensure_ascii=False) + "\n"
