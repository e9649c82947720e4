"""JUnit XML: one ``<testsuite>`` per checked document, one ``<testcase>`` per rule that fired
(a ``<failure>`` when at or above --fail-on, else a note in ``<system-out>``), or one passing
``policies`` testcase when the document is clean. A rule whose violations an exception accepted
is a ``<skipped>`` testcase (``<rule> (suppressed)``) whose message is the exception's reason."""

from __future__ import annotations

from collections import defaultdict
from xml.etree import ElementTree as ET

from podc.check.report.paths import relative_path

__all__ = ["render"]

_RANK = {"error": 3, "warning": 2, "info": 1}


def render(result, base: str | None = None) -> str:
    bar = _RANK[result.fail_on]
    root = ET.Element("testsuites", name="podc check")
    total_tests = total_failures = total_skipped = 0
    for doc in result.documents:
        file = relative_path(doc.file, base)
        name = f"{file}#{doc.index}" + (f" target {doc.target}" if doc.target is not None else f" {doc.kind}/{doc.name}")
        suite = ET.SubElement(root, "testsuite", name=name)
        by_rule: dict[str, list] = defaultdict(list)
        for v in doc.violations:
            by_rule[f"{v.policy}/{v.rule}"].append(v)
        failures = 0
        skipped: dict[str, list] = defaultdict(list)
        for s in doc.suppressed:
            skipped[f"{s.violation.policy}/{s.violation.rule}"].append(s)
        if not by_rule and not skipped:
            ET.SubElement(suite, "testcase", name="policies", classname=name)
        for rid in sorted(by_rule):
            case = ET.SubElement(suite, "testcase", name=rid, classname=name)
            items = by_rule[rid]
            text = "\n".join(f"{relative_path(v.pos.file, base)}:{v.pos.line}:{v.pos.col}: {v.severity}: "
                             f"{v.message} (at {v.path or '/'})" for v in items)
            worst = max(items, key=lambda v: _RANK.get(v.severity, 0))
            if _RANK.get(worst.severity, 0) >= bar:
                failures += 1
                fail = ET.SubElement(case, "failure", message=worst.message, type=worst.severity)
                fail.text = text
            else:
                ET.SubElement(case, "system-out").text = text
        for rid in sorted(skipped):
            case = ET.SubElement(suite, "testcase", name=f"{rid} (suppressed)", classname=name)
            items = skipped[rid]
            reasons = sorted({f"{s.exception.reason} (exception at {relative_path(s.exception.pos.file, base)}:"
                              f"{s.exception.pos.line})" for s in items})
            ET.SubElement(case, "skipped", message="suppressed by an exception: " + "; ".join(reasons)).text = \
                "\n".join(f"{relative_path(s.violation.pos.file, base)}:{s.violation.pos.line}:{s.violation.pos.col}: "
                          f"{s.violation.severity}: {s.violation.message}" for s in items)
        tests = max(len(by_rule) + len(skipped), 1)
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", str(len(skipped)))
        total_tests += tests
        total_failures += failures
        total_skipped += len(skipped)
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    root.set("skipped", str(total_skipped))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
