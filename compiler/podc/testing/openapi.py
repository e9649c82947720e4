"""``/openapi/v3``: the OpenAPI documents kubectl reads before ``apply``/``create``.

kubectl (≥ 1.27) asks the OpenAPI v3 document of the object's group/version whether the PATCH
operation of that kind takes the ``fieldValidation`` query parameter; if it does, kubectl sends
``fieldValidation=Strict`` and lets the server validate, otherwise it fails with "failed to
download openapi" unless ``--validate=false``. The documents here declare those operations for
every kind the emulator serves, and carry the schemas podc pins (``schemas/kubernetes/``) for the
kinds it has, converted from JSON Schema to OpenAPI 3.0 (``type: [T, "null"]`` → ``T``).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

from podc.resources import data_path
from podc.testing.resources import RESOURCE_TYPES

__all__ = ["index", "group_version_document"]


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


@lru_cache(maxsize=None)
def _documents(kubernetes_minor: str) -> dict[str, dict[str, Any]]:
    schemas = _pinned_schemas(kubernetes_minor)
    docs: dict[str, dict[str, Any]] = {}
    for rt in RESOURCE_TYPES.values():
        gv = _gv_path(rt.group, rt.version)
        doc = docs.setdefault(gv, {"openapi": "3.0.0", "info": {"title": "Kubernetes (podc emulator)",
                                                                 "version": f"v1.{kubernetes_minor}"},
                                   "paths": {}, "components": {"schemas": {}}})
        gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
        ns = "namespaces/{namespace}/" if rt.namespaced else ""
        params = [{"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
                  {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": True}}]
        ok = {"200": {"description": "OK"}}
        doc["paths"][f"/{gv}/{ns}{rt.plural}/{{name}}"] = {
            "patch": {"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "patch", "parameters": params,
                      "responses": ok, "operationId": f"patch{rt.kind}"},
            "put": {"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "put", "parameters": params,
                    "responses": ok, "operationId": f"replace{rt.kind}"}}
        doc["paths"][f"/{gv}/{ns}{rt.plural}"] = {
            "post": {"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "post", "parameters": params,
                     "responses": ok, "operationId": f"create{rt.kind}"}}
        name = schemas["kinds"].get(f"{rt.api_version}/{rt.kind}")
        if name:
            doc["components"]["schemas"].update(_closure(name, schemas["defs"], gvk))
    return docs


def _pinned_schemas(minor: str) -> dict[str, Any]:
    folder = data_path("schemas") / "kubernetes"
    try:
        data = json.loads((folder / f"v1.{minor}.json").read_text(encoding="utf-8"))
    except OSError:
        return {"kinds": {}, "defs": {}}
    return {"kinds": data.get("x-podc-kinds", {}), "defs": data.get("$defs", {})}


def _closure(name: str, defs: dict[str, Any], gvk: dict[str, str]) -> dict[str, Any]:
    """``name`` and every definition it references, in OpenAPI 3.0 form."""
    out: dict[str, Any] = {}
    todo = [name]
    while todo:
        current = todo.pop()
        if current in out or current not in defs:
            continue
        out[current] = _convert(defs[current], todo)
    out[name] = {**out[name], "x-kubernetes-group-version-kind": [gvk]}
    return out


def _convert(node: Any, refs: list[str]) -> Any:
    if isinstance(node, list):
        return [_convert(v, refs) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
            refs.append(value[len("#/$defs/"):])
            out["$ref"] = "#/components/schemas/" + value[len("#/$defs/"):]
        elif key == "type" and isinstance(value, list):
            kinds = [t for t in value if t != "null"]
            if len(kinds) == 1:
                out["type"] = kinds[0]
            if "null" in value:
                out["nullable"] = True
        elif key == "additionalProperties" and value is False:
            continue  # OpenAPI readers take `false` as "a map of nothing"
        else:
            out[key] = _convert(value, refs)
    return out


def _hash(doc: dict[str, Any]) -> str:
    return hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:64].upper()


def index(kubernetes_minor: str) -> dict[str, Any]:
    docs = _documents(kubernetes_minor)
    return {"paths": {gv: {"serverRelativeURL": f"/openapi/v3/{gv}?hash={_hash(doc)}"}
                      for gv, doc in sorted(docs.items())}}


def group_version_document(kubernetes_minor: str, gv: str) -> dict[str, Any] | None:
    return _documents(kubernetes_minor).get(gv.strip("/"))
