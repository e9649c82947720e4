"""/version, /api, /apis and the per-group resource lists clients use for discovery."""

from __future__ import annotations

from typing import Any

from podc.testing.resources import RESOURCE_TYPES, SUBRESOURCES

K8S_VERSION = {"major": "1", "minor": "33", "gitVersion": "v1.33.0-podc-emulator", "gitCommit": "0" * 40,
               "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.24.0",
               "compiler": "gc", "platform": "linux/amd64", "emulationMajor": "1", "emulationMinor": "33"}


def api_versions(server_address: str) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _group(name: str) -> dict[str, Any]:
    gv = {"groupVersion": f"{name}/v1", "version": "v1"}
    return {"name": name, "versions": [gv], "preferredVersion": gv}


def api_group_list() -> dict[str, Any]:
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group("batch")]}


def api_group(name: str) -> dict[str, Any] | None:
    if name != "batch":
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name)}


def resource_list(group: str) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []
    for rt in RESOURCE_TYPES.values():
        if rt.group != group:
            continue
        resources.append({"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced,
                          "kind": rt.kind, "verbs": list(rt.verbs), "shortNames": list(rt.short_names)})
        for sub in SUBRESOURCES.get(rt.plural, ()):
            verbs = ["get"] if sub == "log" else ["get", "patch", "update"]
            resources.append({"name": f"{rt.plural}/{sub}", "singularName": "", "namespaced": rt.namespaced,
                              "kind": "Pod" if sub == "log" else rt.kind, "verbs": verbs})
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": f"{group}/v1" if group else "v1", "resources": resources}
