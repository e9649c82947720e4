"""Who may talk to the emulator: the local cluster listens on loopback, but any local process, or a
web page's cross-origin request (DNS rebinding, a ``text/plain`` "simple" POST), can reach a
loopback port. So every request must

* carry the cluster's token (the one in the kubeconfig it writes, mode 0600) -- only the
  health endpoints and ``/version`` answer without it, as on a real API server. The token comes
  as ``Authorization: Bearer <token>`` or as the path prefix ``/podc-auth/<token>`` the
  kubeconfig's server URL carries: kubectl (client-go) never sends a bearer token over plain
  HTTP, so the prefix is how kubectl authenticates to the loopback, TLS-less emulator;
* name a loopback host in its ``Host`` header (a rebinding page sends its own domain);
* send a body only as JSON or YAML (the API server's own media types; a browser cannot send these
  cross-origin without a preflight the emulator never grants).
"""

from __future__ import annotations

import hmac
from typing import Any

from podc.testing.api_errors import ApiError

__all__ = ["admit", "parse_body", "strip_path_token", "server_path", "BODY_TYPES"]

_PATH_PREFIX = "/podc-auth/"


def server_path(token: str) -> str:
    """The path the kubeconfig's server URL ends with (authenticates clients that send no header)."""
    return _PATH_PREFIX + token


def strip_path_token(path: str, token: str) -> tuple[str, bool]:
    """(the request path without a valid token prefix, whether it carried one)."""
    if path.startswith(_PATH_PREFIX):
        given, slash, rest = path[len(_PATH_PREFIX):].partition("/")
        if hmac.compare_digest(given.encode(), token.encode()):
            return "/" + rest, True
    return path, False

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
BODY_TYPES = frozenset({
    "application/json", "application/yaml",
    "application/merge-patch+json", "application/strategic-merge-patch+json", "application/json-patch+json",
    "application/apply-patch+yaml",
    # kubectl's typed clients (create configmap/secret/namespace) send protobuf; like the JSON and
    # YAML types it is not a type a web page can send cross-origin without a preflight
    "application/vnd.kubernetes.protobuf",
})
_YAML_TYPES = frozenset({"application/yaml", "application/apply-patch+yaml"})


def _media_type(headers: Any) -> str:
    return (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()


def _hostname(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def admit(method: str, public: bool, headers: Any, token: str, has_body: bool, path_token: bool = False) -> None:
    """Raise the API server's answer for a request that may not proceed."""
    host = headers.get("Host")
    if not host or _hostname(host) not in _LOOPBACK:
        raise ApiError(403, "Forbidden", f"the podc emulator answers only requests for a loopback host, not "
                       f"Host: {host!r}")
    if not public and not path_token:
        auth = headers.get("Authorization") or ""
        scheme, _, given = auth.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise ApiError(401, "Unauthorized", "Unauthorized")
    if has_body and _media_type(headers) not in BODY_TYPES:
        shown = _media_type(headers) or "none"
        raise ApiError(415, "UnsupportedMediaType",
                       f"the body of the request was in an unknown format ({shown}) - accepted media types "
                       f"include: application/json, application/yaml")


def parse_body(raw: bytes, headers: Any) -> Any:
    """The request body as data (JSON, or YAML for the YAML media types)."""
    from podc.testing.api_errors import bad_request

    if _media_type(headers) in _YAML_TYPES:
        from ruamel.yaml import YAML, YAMLError

        try:
            return YAML(typ="safe", pure=True).load(raw.decode("utf-8"))
        except (YAMLError, UnicodeDecodeError) as e:
            raise bad_request(f"the request body is not valid YAML: {e}") from None
    import json

    try:
        return json.loads(raw)
    except ValueError as e:
        raise bad_request(f"the request body is not valid JSON: {e}") from None
