"""Helpers for the podc check tests: build manifests, write them, run the CLI in-process."""

from __future__ import annotations

import copy
import io
import json
import os
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from podc.errors import Diagnostics
from podc.source import load_text
from podc.check.documents import Document, node_locator

CLEAN_CONTAINER = {
    "name": "main",
    "image": "registry.corp/etl:1.2.3@sha256:" + "a" * 64,
    "resources": {"requests": {"cpu": "500m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    },
}


def clean_job(name: str = "etl", **spec_overrides) -> dict:
    """A Job that passes schema, PSS restricted and every best practice."""
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "batch", "labels": {"team": "data"}},
        "spec": {
            "backoffLimit": 2,
            "activeDeadlineSeconds": 3600,
            "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {"labels": {"team": "data"}},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "containers": [copy.deepcopy(CLEAN_CONTAINER)],
                },
            },
        },
    }
    job["spec"].update(spec_overrides)
    return job


def container(job: dict, i: int = 0) -> dict:
    return job["spec"]["template"]["spec"]["containers"][i]


def document(manifest: dict, target: str | None = None, filename: str = "mem.yaml") -> Document:
    """A Document from a dict, positioned as if it had been read from JSON text."""
    text = json.dumps(manifest, indent=2)
    (root,) = load_text(text, filename)
    doc = Document(file=filename, index=0, manifest=manifest, locator=node_locator(root), target=target,
                   pos=root.origin.pos)
    return doc


def write_yaml(path: Path, *docs: dict | str) -> Path:
    """Write documents as YAML (dicts dumped as JSON-flow YAML, strings verbatim)."""
    parts = [d if isinstance(d, str) else json.dumps(d, indent=2) for d in docs]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n---\n".join(parts) + "\n")
    return path


def run_cli(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    from podc.cli.check import main

    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with redirect_stdout(out), redirect_stderr(err):
            code = main(list(args))
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue()


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    """1-based line number of the n-th line containing ``needle``."""
    seen = 0
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return i
    raise AssertionError(f"{needle!r} not in {path}")
