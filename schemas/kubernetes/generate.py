#!/usr/bin/env python3
"""Regenerate podc's pinned, compact, strict Kubernetes schemas (a dev-time tool).

Source: the PyPI package ``kubernetes-validate`` (pinned below), which bundles strict JSON
schemas (``additionalProperties: false``) converted from each release's OpenAPI document. It is
NOT a runtime dependency of podc: this script installs it into a temporary folder with
``pip install --no-deps --target`` unless ``--source DIR`` points at an unpacked copy.

For every Kubernetes version in VERSIONS it writes ``v<major>.<minor>.json``: one JSON Schema
(draft 2020-12) whose ``$defs`` hold only the definitions reachable from the kinds podc checks,
stripped of descriptions and of ``x-kubernetes-*`` annotations other than the list type and
list-map keys. ``x-podc-kinds`` maps ``"<apiVersion>/<Kind>"`` to the root definition. Output is
minified with sorted keys, so the same source gives byte-identical files. ``index.json`` lists
the versions with each file's sha256.

Usage::

    python schemas/kubernetes/generate.py            # installs kubernetes-validate to a temp dir
    python schemas/kubernetes/generate.py --source /path/to/site-packages/kubernetes_validate
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

KUBERNETES_VALIDATE = "kubernetes-validate==1.37.0"
VERSIONS = ["1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36", "1.37"]
# (apiVersion, kind, source file stem in kubernetes-validate, definition name)
KINDS = [
    ("v1", "Pod", "pod-v1", "io.k8s.api.core.v1.Pod"),
    ("batch/v1", "Job", "job-batch-v1", "io.k8s.api.batch.v1.Job"),
    ("batch/v1", "CronJob", "cronjob-batch-v1", "io.k8s.api.batch.v1.CronJob"),
    ("apps/v1", "Deployment", "deployment-apps-v1", "io.k8s.api.apps.v1.Deployment"),
    ("apps/v1", "StatefulSet", "statefulset-apps-v1", "io.k8s.api.apps.v1.StatefulSet"),
    ("apps/v1", "DaemonSet", "daemonset-apps-v1", "io.k8s.api.apps.v1.DaemonSet"),
    ("apps/v1", "ReplicaSet", "replicaset-apps-v1", "io.k8s.api.apps.v1.ReplicaSet"),
    ("v1", "PodTemplate", "podtemplate-v1", "io.k8s.api.core.v1.PodTemplate"),
    ("v1", "ReplicationController", "replicationcontroller-v1", "io.k8s.api.core.v1.ReplicationController"),
]
REF_PREFIXES = ("/api/_definitions.json#/$defs/", "#/$defs/")
# Keywords the compiled validator understands; anything else in the source fails generation, so
# a new keyword upstream cannot be silently ignored.
KEPT = {"type", "properties", "additionalProperties", "required", "items", "enum", "oneOf", "$ref",
        "format", "x-kubernetes-list-type", "x-kubernetes-list-map-keys"}
DROPPED = {"description", "$schema", "$id", "x-kubernetes-group-version-kind", "x-kubernetes-patch-strategy",
           "x-kubernetes-patch-merge-key", "x-kubernetes-map-type", "x-kubernetes-unions",
           "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource",
           "default"}

OUT_DIR = Path(__file__).resolve().parent


def compact(schema: dict, where: str) -> dict:
    """``schema`` with documentation removed and ``$ref`` made file-local."""
    out: dict = {}
    for key, value in schema.items():
        if key in DROPPED:
            continue
        if key not in KEPT:
            raise SystemExit(f"{where}: unsupported schema keyword {key!r}; teach the validator first")
        if key == "properties":
            out[key] = {name: compact(sub, f"{where}.{name}") for name, sub in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = compact(value, f"{where}[{key}]")
        elif key == "oneOf":
            out[key] = [compact(sub, f"{where}|{i}") for i, sub in enumerate(value)]
        elif key == "$ref":
            for prefix in REF_PREFIXES:
                if value.startswith(prefix):
                    out[key] = "#/$defs/" + value[len(prefix):]
                    break
            else:
                raise SystemExit(f"{where}: unexpected $ref {value!r}")
        else:
            out[key] = value
    return out


def refs_of(schema: object) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref":
                found.add(value[len("#/$defs/"):])
            elif key == "enum":
                continue
            else:
                found |= refs_of(value)
    elif isinstance(schema, list):
        for item in schema:
            found |= refs_of(item)
    return found


def build_version(source: Path, version: str) -> dict:
    folder = source / "kubernetes-json-schema" / f"v{version}.0-local-strict"
    if not folder.is_dir():
        raise SystemExit(f"{folder} not found: kubernetes-validate has no schemas for {version}")
    all_defs = json.loads((folder / "_definitions.json").read_text())["$defs"]
    defs: dict[str, dict] = {}
    kinds: dict[str, str] = {}
    pending: list[str] = []
    for api_version, kind, stem, def_name in KINDS:
        root = compact(json.loads((folder / f"{stem}.json").read_text()), f"{version}:{stem}")
        if root.get("type") != "object" or root.get("additionalProperties") is not False:
            raise SystemExit(f"{version}:{stem}: expected a strict object schema")
        defs[def_name] = root
        kinds[f"{api_version}/{kind}"] = def_name
        pending.extend(refs_of(root))
    roots = set(defs)
    while pending:
        name = pending.pop()
        if name in defs:
            if name in roots:
                raise SystemExit(f"{version}: kind root {name} is also referenced; keep both variants")
            continue
        defs[name] = compact(all_defs[name], f"{version}:{name}")
        pending.extend(refs_of(defs[name]))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": defs,
        "x-podc-kinds": kinds,
        "x-podc-kubernetes-version": version,
        "x-podc-source": KUBERNETES_VALIDATE,
    }


def dump(data: object) -> bytes:
    return (json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n").encode()


def write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def locate_source(explicit: str | None, scratch: str) -> Path:
    if explicit:
        return Path(explicit)
    target = Path(scratch) / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
         KUBERNETES_VALIDATE],
        check=True,
    )
    return target / "kubernetes_validate"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", help="an unpacked kubernetes_validate package folder")
    parser.add_argument("--out", default=str(OUT_DIR), help="output folder (default: next to this script)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="podc-schemas-") as scratch:
        source = locate_source(args.source, scratch)
        index: dict = {"source": KUBERNETES_VALIDATE, "versions": {}}
        for version in VERSIONS:
            data = dump(build_version(source, version))
            name = f"v{version}.json"
            write_atomic(out / name, data)
            index["versions"][version] = {"file": name, "sha256": hashlib.sha256(data).hexdigest()}
            print(f"{name}: {len(data):,} bytes", file=sys.stderr)
        write_atomic(out / "index.json", dump(index))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
