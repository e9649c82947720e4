"""Keeping credentials out of every message the runtime produces.

Error bodies are not trusted: a debug proxy or a misconfigured gateway may answer with the
request's own headers (``Authorization: Bearer …``) in its error page, and a credential plugin
may print its token on failure. Every message built from what a server or a plugin said goes
through a :class:`Redactor`, which masks the exact secrets podc knows (the kubeconfig's tokens,
passwords, client keys, plugin env values, the headers it sent) and anything shaped like an
authorization header or bearer token.
"""

from __future__ import annotations

import base64
import re
import threading
from typing import Any, Iterable

__all__ = ["Redactor", "MASK", "kubeconfig_secrets"]

MASK = "***"
_MIN_SECRET = 6  # shorter strings would mask ordinary words
_SCHEME = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=:-]{6,}")
_HEADER = re.compile(r"(?i)\b(authorization|proxy-authorization|x-auth-token|x-api-key|cookie|"
                     r"set-cookie|x-remote-user-token)(\"?\s*[:=]\s*\"?)([^\r\n\"',}<]+)")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S)


class Redactor:
    """Masks known secrets and credential-shaped text. Thread-safe; secrets can be added later
    (a credential plugin may hand out a new token at any request)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._ordered: list[str] = []
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        new = {v for secret in secrets for v in _variants(secret)} - self._secrets
        if not new:  # the usual case: the same token on every request
            return
        with self._lock:
            self._secrets |= new
            self._ordered = sorted(self._secrets, key=len, reverse=True)

    def __call__(self, text: Any) -> str:
        text = str(text)
        for secret in self._ordered:
            if secret in text:
                text = text.replace(secret, MASK)
        text = _PEM.sub(MASK, text)
        text = _HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
        text = _SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
        return _JWT.sub(MASK, text)


def _variants(secret: str | None) -> list[str]:
    """The secret itself and the forms it travels in (``Bearer x``, base64 of PEM data)."""
    if not isinstance(secret, str):
        return []
    secret = secret.strip()
    out = []
    if secret.lower().startswith(("bearer ", "basic ")):
        out.append(secret)
        secret = secret.split(None, 1)[1].strip()
    if len(secret) >= _MIN_SECRET:
        out.append(secret)
        # PEM key data: also each base64 body line (an error may quote one line of it)
        if "-----BEGIN" in secret:
            out.extend(line.strip() for line in secret.splitlines()
                       if len(line.strip()) >= 16 and not line.startswith("-----"))
        else:
            try:
                decoded = base64.b64decode(secret, validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                decoded = ""
            if "-----BEGIN" in decoded:
                out.extend(_variants(decoded))
    return out


_USER_SECRET_KEYS = ("token", "password", "client-key-data")
_PROVIDER_SECRET_KEYS = ("access-token", "refresh-token", "id-token", "client-secret")


def kubeconfig_secrets(user: Any) -> list[str]:
    """Secret strings of a kubeconfig ``user`` entry: tokens, passwords, client key data, auth
    provider tokens and the values of credential plugin env variables."""
    if not isinstance(user, dict):
        return []
    out = [v for k in _USER_SECRET_KEYS if isinstance(v := user.get(k), str)]
    provider = (user.get("auth-provider") or {}).get("config") or {}
    if isinstance(provider, dict):
        out += [v for k in _PROVIDER_SECRET_KEYS if isinstance(v := provider.get(k), str)]
    for env in (user.get("exec") or {}).get("env") or []:
        if isinstance(env, dict) and isinstance(env.get("value"), str):
            out.append(env["value"])
    return out
