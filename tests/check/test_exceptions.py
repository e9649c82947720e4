"""Exceptions: applied, target-scoped, layer-scoped, expired (-> warning at the exception),
unknown ids (-> located error with did-you-mean)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from podc.check.engine import CheckOptions, check_documents
from podc.check.exceptions import read_exceptions
from podc.errors import Diagnostics, PodcError
from podc.source import load_single

from _checkutil import clean_job, container, document, line_of

TODAY = dt.date(2026, 11, 24)


def exceptions_from(tmp_path: Path, text: str):
    path = tmp_path / "exceptions.yaml"
    path.write_text(text)
    diags = Diagnostics()
    excs = read_exceptions(load_single(path).items["exceptions"], diags)
    return path, excs, diags


def privileged_job(name="etl"):
    job = clean_job(name)
    container(job)["securityContext"]["privileged"] = True
    return job


def check(docs, excs):
    return check_documents(docs, CheckOptions(exceptions=excs, today=TODAY))


def rules(result):
    return sorted((d.target or d.name, v.policy, v.rule) for d in result.documents for v in d.violations)


def test_exception_suppresses_only_its_rule(tmp_path):
    _, excs, diags = exceptions_from(tmp_path, """\
exceptions:
  - policy: pod-security
    rule: privileged
    reason: GPU driver installer (SEC-1)
""")
    assert not diags
    result = check([document(privileged_job())], excs)
    assert rules(result) == []
    assert result.suppressed == 1 and excs[0].used == 1
    # another rule on the same document is not covered
    job = privileged_job()
    container(job)["image"] = "busybox:latest"
    assert rules(check([document(job)], excs)) == [("etl", "best-practices", "image-tag")]


def test_exception_scoped_to_targets(tmp_path):
    _, excs, _ = exceptions_from(tmp_path, """\
exceptions:
  - {policy: pod-security, rule: privileged, targets: ["gpu-*"], reason: needs the device plugin}
""")
    docs = [document(privileged_job(), target="gpu-train"), document(privileged_job(), target="cpu-etl")]
    assert rules(check(docs, excs)) == [("cpu-etl", "pod-security", "privileged")]


def test_expired_exception_stops_applying_and_warns_at_its_line(tmp_path):
    path, excs, _ = exceptions_from(tmp_path, """\
exceptions:
  - policy: pod-security
    rule: privileged
    reason: temporary, until the driver is fixed
    expires: 2026-11-23
""")
    result = check([document(privileged_job())], excs)
    assert rules(result) == [("etl", "pod-security", "privileged")]
    (notice,) = [n for n in result.notices if n.code == "exception.expired"]
    assert notice.severity == "warning"
    assert notice.pos.file == str(path) and notice.pos.line == line_of(path, "- policy: pod-security")
    assert "2026-11-23" in notice.message and "until the driver is fixed" in notice.hint
    # on its expiry day it still applies
    assert rules(check_documents([document(privileged_job())],
                                 CheckOptions(exceptions=excs, today=dt.date(2026, 11, 23)))) == []


@pytest.mark.parametrize("entry, code, hint", [
    ("{policy: pod-securty, rule: privileged, reason: r}", "exception.unknown-policy", "did you mean 'pod-security'?"),
    ("{policy: pod-security, rule: privilegd, reason: r}", "exception.unknown-rule", "did you mean 'privileged'?"),
    ("{policy: best-practices, rule: memory-limt, reason: r}", "exception.unknown-rule", "did you mean 'memory-limit'?"),
])
def test_unknown_ids_are_located_errors(tmp_path, entry, code, hint):
    path, excs, _ = exceptions_from(tmp_path, f"exceptions:\n  - {entry}\n")
    with pytest.raises(PodcError) as info:
        check([document(clean_job())], excs)
    (d,) = info.value.diagnostics
    assert (d.code, d.hint) == (code, hint)
    assert d.pos.file == str(path) and d.pos.line == 2


@pytest.mark.parametrize("entry, code", [
    ("{policy: pod-security, rule: privileged}", "exception.missing"),
    ("{policy: pod-security, rule: privileged, reason: r, expires: next week}", "exception.expires"),
    ("{policy: pod-security, rule: privileged, reason: r, until: 2027-01-01}", "exception.unknown-key"),
])
def test_malformed_exceptions_are_located(tmp_path, entry, code):
    path, excs, diags = exceptions_from(tmp_path, f"exceptions:\n  - {entry}\n")
    assert excs == []
    assert any(d.code == code and d.pos.line == 2 and d.pos.file == str(path) for d in diags), list(diags)
