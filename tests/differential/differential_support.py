"""Running the same base + patches through `kubectl kustomize` and through podc (`raw:` fragments).

Many cases share ONE kustomization: each case is its own Job (distinct names), each patch file
targets its Job by name, so hundreds of cases cost one kustomize run. podc compiles one project
with one target per case the same way (one podc run).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

KUBECTL = shutil.which("kubectl")
# CI sets PODC_REQUIRE_KUBECTL=1: there a missing kubectl fails the run instead of skipping it.
if KUBECTL is None and os.environ.get("PODC_REQUIRE_KUBECTL") == "1":
    raise RuntimeError("PODC_REQUIRE_KUBECTL=1 but kubectl is not on PATH: the differential tests must run")

needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl (with kustomize) is not installed; the "
                                   "differential tests compare podc with `kubectl kustomize` and cannot run")


def _load_all(text: str) -> list[Any]:
    from ruamel.yaml import YAML

    # kustomize writes canonical YAML (strings quoted where a reader could type them); the one
    # form a YAML 1.1-style reader still types is a spaced timestamp go-yaml keeps as text.
    yaml = YAML(typ="safe", pure=True)
    yaml.constructor.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: node.value)
    return [d for d in yaml.load_all(text) if d is not None]


def kustomize(workdir: Path, bases: dict[str, str], patches: list[str]) -> dict[str, dict]:
    """Build a kustomization of ``bases`` (file name -> Job YAML) and ``patches`` (YAML texts, each
    naming its Job); returns the output Jobs by name."""
    workdir.mkdir(parents=True, exist_ok=True)
    resources = []
    for name, text in bases.items():
        (workdir / name).write_text(text)
        resources.append(name)
    patch_names = []
    for i, text in enumerate(patches):
        name = f"patch{i:04d}.yaml"
        (workdir / name).write_text(text)
        patch_names.append(name)
    kust = "resources:\n" + "".join(f"- {r}\n" for r in resources)
    if patch_names:
        kust += "patches:\n" + "".join(f"- path: {p}\n" for p in patch_names)
    (workdir / "kustomization.yaml").write_text(kust)
    run = subprocess.run([KUBECTL, "kustomize", str(workdir)], capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        raise AssertionError(f"kubectl kustomize failed: {run.stderr[-3000:]}")
    return {d["metadata"]["name"]: d for d in _load_all(run.stdout)}


def same_value(a: Any, b: Any) -> bool:
    """Equal as JSON values: numbers by value (kustomize writes 1000 for 1e3), everything else by
    type and value (True is not 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b
