"""Human-readable report, grouped by the source file each violation points at."""

from __future__ import annotations

from collections import defaultdict

from podc.check.report.paths import relative_path

__all__ = ["render"]

_COLOURS = {"error": "31", "warning": "33", "info": "36"}


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def _subject(doc) -> str:
    if doc.target is not None:
        return f"target {doc.target}"
    return f"{doc.kind}/{doc.name or '?'}" + (f" (document {doc.index + 1})" if doc.index else "")


def render(result, color: bool = False, base: str | None = None, show_suppressed: bool = False) -> str:
    by_file: dict[str, list] = defaultdict(list)
    for doc in result.documents:
        for v in doc.violations:
            by_file[relative_path(v.pos.file, base) or relative_path(doc.file, base) or "-"].append((v, doc))
    lines: list[str] = []
    for file in sorted(by_file):
        lines.append(_paint(file, "1", color))
        for v, doc in sorted(by_file[file], key=lambda x: (x[0].pos.line, x[0].pos.col, x[0].policy, x[0].rule,
                                                           x[0].message)):
            where = f"{v.pos.line}:{v.pos.col}" if v.pos.line else "-"
            sev = _paint(f"{v.severity:<7}", "1;" + _COLOURS.get(v.severity, "0"), color)
            lines.append(f"  {where:>7}  {sev}  {v.policy}/{v.rule}  {v.message}  [{_subject(doc)} {v.path or '/'}]")
            for pos, msg in v.related:
                lines.append(f"           {relative_path(pos.file, base)}:{pos.line}:{pos.col}: {msg}")
            if v.hint:
                lines.append(f"           hint: {v.hint}")
        lines.append("")
    if show_suppressed and result.suppressed_violations():
        lines.append(_paint("suppressed by exceptions", "1", color))
        for doc, s in sorted(result.suppressed_violations(), key=lambda x: x[1].violation.sort_key()):
            v, e = s.violation, s.exception
            lines.append(f"  {relative_path(v.pos.file, base)}:{v.pos.line}:{v.pos.col}  {v.severity}  "
                         f"{v.policy}/{v.rule}  {v.message}  [{_subject(doc)} {v.path or '/'}]")
            expiry = f", expires {e.expires.isoformat()}" if e.expires is not None else ""
            lines.append(f"           exception at {relative_path(e.pos.file, base)}:{e.pos.line}:{e.pos.col}{expiry}: "
                         f"{e.reason}")
        lines.append("")
    for n in result.notices:
        where = f"{relative_path(n.pos.file, base)}:{n.pos.line}:{n.pos.col}" if n.pos.file else "-"
        lines.append(f"{where}: {_paint(n.severity, _COLOURS.get(n.severity, '0'), color)}: {n.message}")
        if n.hint and n.severity != "info":
            lines.append(f"    hint: {n.hint}")
    if result.notices:
        lines.append("")
    counts = result.counts()
    parts = [f"{counts[s]} {s}{'s' if counts[s] != 1 else ''}" for s in ("error", "warning", "info") if counts[s]]
    docs = len(result.documents)
    summary = (", ".join(parts) or "no violations") + f" in {docs} document{'s' if docs != 1 else ''}"
    if result.suppressed:
        summary += (f" ({result.suppressed} suppressed by exceptions"
                    + ("" if show_suppressed else "; --show-suppressed lists them") + ")")
    verdict = "FAILED" if result.failed else "passed"
    lines.append(f"{summary}: {_paint(verdict, '1;31' if result.failed else '1;32', color)}"
                 f" (--fail-on {result.fail_on})")
    return "\n".join(lines) + "\n"
