"""URL parsing: which resource, namespace, name, subresource and verb a request is about."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from podc._record import record
from podc.testing.api_errors import bad_request
from podc.testing.resources import RESOURCE_TYPES, SUBRESOURCES


@record
class Route:
    kind: str  # "resource" | "version" | "api" | "apis" | "group" | "resources" | "health" | "unknown"
    group: str = ""
    resource: str | None = None
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    verb: str = "get"


def parse_query(raw: str) -> dict[str, str]:
    return dict(parse_qsl(raw, keep_blank_values=True))


def number_param(query: dict[str, str], name: str) -> int | None:
    """An integer query parameter; a 400 BadRequest (not a crash) when it is not one."""
    value = query.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)  # type: ignore[arg-type]
    except ValueError:
        raise bad_request(f'invalid value for {name}: "{value}" is not an integer') from None


def is_true(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1")


def route(method: str, raw_path: str) -> tuple[Route, dict[str, str]]:
    split = urlsplit(raw_path)
    query = parse_query(split.query)
    parts = [p for p in split.path.split("/") if p]
    # The deprecated /api/v1/watch/... and /apis/batch/v1/watch/... spellings.
    prefix = 2 if parts[:1] == ["api"] else 3
    if len(parts) > prefix and parts[prefix] == "watch" and parts[0] in ("api", "apis"):
        parts = parts[:prefix] + parts[prefix + 1:]
        query["watch"] = "true"
    r = _route_parts(parts)
    if r.kind == "resource":
        r.verb = _verb(method, r, query)
    return r, query


def _route_parts(parts: list[str]) -> Route:
    if parts == ["version"]:
        return Route("version")
    if parts and parts[0] in ("healthz", "livez", "readyz"):
        return Route("health")
    if parts == ["api"]:
        return Route("api")
    if parts == ["apis"]:
        return Route("apis")
    if parts == ["api", "v1"]:
        return Route("resources", group="")
    if len(parts) == 2 and parts[0] == "apis":
        return Route("group", group=parts[1])
    if len(parts) == 3 and parts[0] == "apis" and parts[2] == "v1":
        return Route("resources", group=parts[1])
    if parts[:2] == ["api", "v1"]:
        group, rest = "", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis" and parts[2] == "v1":
        group, rest = parts[1], parts[3:]
    else:
        return Route("unknown")
    r = Route("resource", group=group)
    if rest and rest[0] == "namespaces" and len(rest) >= 3 and not (group == "" and len(rest) == 3 and rest[2] in ("status", "finalize")):
        r.namespace, rest = rest[1], rest[2:]
    if not rest:
        return Route("unknown")
    r.resource = rest[0]
    r.name = rest[1] if len(rest) > 1 else None
    r.subresource = rest[2] if len(rest) > 2 else None
    rt = RESOURCE_TYPES.get(r.resource)
    if rt is None or rt.group != group or len(rest) > 3:
        return Route("unknown")
    if r.subresource and r.subresource not in SUBRESOURCES.get(r.resource, ()):
        return Route("unknown")
    if not rt.namespaced and r.namespace:
        return Route("unknown")
    return r


def _verb(method: str, r: Route, query: dict[str, str]) -> str:
    if method == "GET":
        if r.name:
            return "get"
        return "watch" if is_true(query.get("watch")) else "list"
    if method == "POST":
        return "create"
    if method == "PUT":
        return "update"
    if method == "PATCH":
        return "patch"
    if method == "DELETE":
        return "delete" if r.name else "deletecollection"
    return method.lower()
