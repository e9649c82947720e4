"""Provenance is exact: every leaf of every compiled example points at the text that holds it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import podc
from compiler_helpers import EXAMPLES
from podc.tree import json_pointer

PROJECTS = sorted(p.parent for p in EXAMPLES.glob("*/podc.yaml"))


def leaves(data, path=()):
    if isinstance(data, dict) and data:
        for k, v in data.items():
            yield from leaves(v, path + (k,))
    elif isinstance(data, list) and data:
        for i, v in enumerate(data):
            yield from leaves(v, path + (i,))
    else:
        yield path, data


def spellings(value) -> list[str]:
    if isinstance(value, bool):
        return ["true", "false"][not value:][:1] if value else ["false"]
    if isinstance(value, str):
        return [value, json.dumps(value), f"'{value}'"]
    if value == {}:
        return ["{}", ""]
    return [json.dumps(value)]


def text_at(file: str, line: int, col: int) -> str:
    lines = Path(file).read_text(encoding="utf-8").splitlines()
    return lines[line - 1][col - 1:]


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
@pytest.mark.parametrize("profile", [None, "dev"])
def test_every_leaf_points_at_its_text(project: Path, profile):
    if profile and profile not in podc.load_project(project).profiles:
        pytest.skip("no such profile")
    result = podc.compile_project(project, profile=profile)
    checked = 0
    for job in result.jobs:
        for path, value in leaves(job.manifest):
            pointer = json_pointer(path)
            origin = job.provenance.get(pointer)
            assert origin is not None, f"{job.target}: no provenance for {pointer}"
            assert origin.pos.file and Path(origin.pos.file).is_file(), (pointer, origin)
            assert origin.pos.line > 0 and origin.pos.col > 0, (pointer, origin)
            text = text_at(origin.pos.file, origin.pos.line, origin.pos.col)
            ok = any(text.startswith(s) for s in spellings(value))
            if not ok and isinstance(value, str) and ":" in text:
                # a name generated from a map key (env NAME:, secret volume names): the key's text
                key = text.split(":", 1)[0].strip().strip("\"'")
                ok = bool(key) and key in value
            if not ok and value == "Always" and path[-1] == "restartPolicy":
                ok = text.split(":", 1)[0].strip() in json.dumps(job.manifest)  # sidecar: the sidecar's key
            assert ok, f"{job.target} {pointer} = {value!r} but {origin.pos} holds {text!r}"
            checked += 1
    assert checked > 100


def test_overridden_values_are_recorded(tmp_path):
    from compiler_helpers import PLATFORM

    result = podc.compile_project(PLATFORM, targets=["train-resnet"])
    job = result.jobs[0]
    env = job.manifest["spec"]["template"]["spec"]["containers"][0]["env"]
    i = [e["name"] for e in env].index("ENVIRONMENT")
    origin = job.provenance[f"/spec/template/spec/containers/0/env/{i}/value"]
    assert origin.layer == "prod"
    backoff = job.provenance["/spec/backoffLimit"]
    assert backoff.layer == "prod"
    # base (1) then podc:defaults (0) were overridden, oldest first
    assert [layer for layer, _ in backoff.overridden] == ["podc:defaults", "base"]
