"""Every upstream Pod Security Standards fixture, evaluated by podc's built-in pack.

Contract (upstream ``TestFixtures``): each Pod under ``<level>/v1.<n>/pass/`` is allowed at that
level and version; each Pod under ``fail/`` is denied, here additionally by the check its file
name names (``runasnonroot0.yaml`` -> ``runAsNonRoot``), or, where upstream replaces that check by
a stricter one at this level and version (OverrideCheckIDs), by the replacing check.

One test per (level, version) directory keeps pytest overhead low; a failure lists every
offending fixture file by path.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from podc.check.pss import check_ids, evaluate_pod, replaced_checks

FIXTURES = Path(__file__).parent / "fixtures" / "pod-security"
# Files that are not named after a check: the compliant base pods the generator starts from.
BASE_NAMES = {"base", "base_linux", "base_windows"}

_yaml = YAML(typ="safe", pure=False)


def _version_dirs() -> list[tuple[str, str]]:
    out = []
    for level in ("baseline", "restricted"):
        for version in os.listdir(FIXTURES / level):
            out.append((level, version))
    return sorted(out, key=lambda lv: (lv[0], int(lv[1].split(".")[1])))


@functools.cache
def _ids_by_lower_name() -> dict[str, str]:
    return {cid.lower(): cid for cid in check_ids()}


def _check_id_of(file_name: str) -> str | None:
    """The check a fixture is named after (matched case-insensitively), None for base pods."""
    stem = file_name.removesuffix(".yaml")
    if stem in BASE_NAMES:
        return None
    prefix = stem.rstrip("0123456789")
    return _ids_by_lower_name().get(prefix.lower(), f"<unknown check {prefix!r}>")


def _resolve_pointer(doc: dict, finding_path: str) -> bool:
    """Does the finding's JSON pointer name something that exists in the fixture Pod?"""
    node: object = doc if finding_path.startswith("/metadata") else doc.get("spec")
    parts = finding_path.split("/")[1:]
    for raw in parts:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


VERSION_DIRS = _version_dirs()


def test_every_fixture_directory_is_collected() -> None:
    levels = {level for level, _ in VERSION_DIRS}
    assert levels == {"baseline", "restricted"}
    versions = {v for _, v in VERSION_DIRS}
    assert versions == {f"v1.{n}" for n in range(38)}, "expected v1.0 .. v1.37 for both levels"
    total = sum(1 for _ in FIXTURES.rglob("*.yaml"))
    assert total >= 4536


@pytest.mark.parametrize(("level", "version"), VERSION_DIRS, ids=[f"{lv}-{v}" for lv, v in VERSION_DIRS])
def test_fixtures(level: str, version: str) -> None:
    replaced = replaced_checks(level, version)
    problems: list[str] = []
    count = 0
    for verdict in ("pass", "fail"):
        folder = FIXTURES / level / version / verdict
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            count += 1
            rel = path.relative_to(FIXTURES)
            with path.open("rb") as fh:
                pod = _yaml.load(fh)
            assert pod.get("kind") == "Pod", f"{rel}: not a Pod"
            findings = evaluate_pod(pod.get("metadata") or {}, pod.get("spec") or {}, level, version)
            for f in findings:
                if not _resolve_pointer(pod, f.path):
                    problems.append(f"{rel}: finding path {f.path} does not exist in the pod")
            if verdict == "pass":
                if findings:
                    problems.append(f"{rel}: expected allowed, got {[f.message for f in findings]}")
                continue
            expected = _check_id_of(path.name)
            enforcing = replaced.get(expected, expected)
            if not any(f.check_id == enforcing for f in findings):
                got = [f"{f.check_id}: {f.message}" for f in findings]
                problems.append(f"{rel}: expected denial by {enforcing}, got {got}")
    assert count > 0
    assert not problems, "\n".join(problems)


def test_fail_fixtures_name_known_checks() -> None:
    known = set(check_ids())
    names = {p.name for p in FIXTURES.rglob("fail/*.yaml")}
    ids = {_check_id_of(n) for n in names}
    assert ids <= known, sorted(ids - known)
    # every check of the pack is exercised by at least one failing fixture
    assert ids == known, sorted(known - ids)


def test_replaced_checks_still_deny_at_baseline() -> None:
    """The replaced checks are not dead: at baseline they deny their own fixtures themselves."""
    pod = _yaml.load((FIXTURES / "baseline/v1.37/fail/capabilities_baseline0.yaml").read_text())
    ids = {f.check_id for f in evaluate_pod(pod["metadata"], pod["spec"], "baseline", "v1.37")}
    assert ids == {"capabilities_baseline"}
    assert replaced_checks("restricted", "v1.37") == {
        "hostPathVolumes": "restrictedVolumes",
        "seccompProfile_baseline": "seccompProfile_restricted",
        "capabilities_baseline": "capabilities_restricted",
    }
    assert replaced_checks("restricted", "v1.18") == {"hostPathVolumes": "restrictedVolumes"}
    assert replaced_checks("baseline", "latest") == {}
