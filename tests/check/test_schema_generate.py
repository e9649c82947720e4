"""schemas/kubernetes/generate.py: compaction, reachability, determinism (on a fake source)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from podc.resources import data_path

GENERATE = data_path("schemas") / "kubernetes" / "generate.py"
if not GENERATE.exists():  # installed wheel: the script lives only in the source tree
    pytest.skip("generate.py not shipped", allow_module_level=True)
spec = importlib.util.spec_from_file_location("podc_schema_generate", GENERATE)
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)  # type: ignore[union-attr]


def fake_source(tmp_path: Path, extra_keyword: dict | None = None) -> Path:
    folder = tmp_path / "kubernetes_validate" / "kubernetes-json-schema" / "v1.33.0-local-strict"
    folder.mkdir(parents=True)
    defs = {
        "io.k8s.api.core.v1.PodSpec": {
            "description": "long text", "type": ["object", "null"], "additionalProperties": False,
            "required": ["containers"],
            "properties": {"containers": {"type": ["array", "null"], "items": {"$ref": "#/$defs/io.k8s.api.core.v1.Container"},
                                          "x-kubernetes-patch-merge-key": "name", "x-kubernetes-list-map-keys": ["name"],
                                          "x-kubernetes-list-type": "map"},
                           "description": {"type": ["string", "null"], "description": "a field named description"}},
        },
        "io.k8s.api.core.v1.Container": dict({"type": ["object", "null"], "additionalProperties": False,
                                              "properties": {"name": {"type": "string"}}}, **(extra_keyword or {})),
        "io.k8s.api.core.v1.Unused": {"type": "object"},
    }
    (folder / "_definitions.json").write_text(json.dumps({"$defs": defs}))
    for _api, _kind, stem, _name in gen.KINDS:
        root = {"type": "object", "additionalProperties": False, "$schema": "x", "$id": "y",
                "x-kubernetes-group-version-kind": [{}],
                "properties": {"spec": {"$ref": "/api/_definitions.json#/$defs/io.k8s.api.core.v1.PodSpec",
                                        "description": "d"}}}
        (folder / f"{stem}.json").write_text(json.dumps(root))
    return tmp_path / "kubernetes_validate"


def test_compacts_and_keeps_only_reachable(tmp_path):
    out = gen.build_version(fake_source(tmp_path), "1.33")
    defs = out["$defs"]
    assert "io.k8s.api.core.v1.Unused" not in defs
    spec = defs["io.k8s.api.core.v1.PodSpec"]
    assert "description" not in spec
    assert "description" in spec["properties"]  # a property that is named "description" stays
    assert spec["properties"]["containers"] == {"type": ["array", "null"], "x-kubernetes-list-map-keys": ["name"],
                                                "x-kubernetes-list-type": "map",
                                                "items": {"$ref": "#/$defs/io.k8s.api.core.v1.Container"}}
    job = defs[out["x-podc-kinds"]["batch/v1/Job"]]
    assert job == {"type": "object", "additionalProperties": False,
                   "properties": {"spec": {"$ref": "#/$defs/io.k8s.api.core.v1.PodSpec"}}}


def test_unknown_keyword_fails_generation(tmp_path):
    with pytest.raises(SystemExit, match="unsupported schema keyword 'pattern'"):
        gen.build_version(fake_source(tmp_path, {"pattern": "^a$"}), "1.33")


def test_output_is_deterministic(tmp_path):
    source = fake_source(tmp_path)
    first = gen.dump(gen.build_version(source, "1.33"))
    second = gen.dump(gen.build_version(source, "1.33"))
    assert first == second
    assert b"\n" not in first[:-1] and first.endswith(b"\n")


def test_main_writes_index(tmp_path, monkeypatch):
    source = fake_source(tmp_path)
    monkeypatch.setattr(gen, "VERSIONS", ["1.33"])
    out = tmp_path / "out"
    assert gen.main(["--source", str(source), "--out", str(out)]) == 0
    index = json.loads((out / "index.json").read_text())
    assert list(index["versions"]) == ["1.33"] and (out / "v1.33.json").exists()
