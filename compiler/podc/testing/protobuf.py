"""Reading the Kubernetes protobuf encoding for the few kinds kubectl always sends that way.

``kubectl create configmap|secret|namespace`` use client-go typed clients that send
``application/vnd.kubernetes.protobuf`` bodies whatever the server advertises (client-go does
not fall back to JSON on 415). The emulator decodes those kinds' messages (field numbers from
``k8s.io/api/core/v1/generated.proto``) into the JSON form and answers in JSON, which the client
accepts. Other kinds in protobuf remain 415 (their clients send JSON).
"""

from __future__ import annotations

import base64
from typing import Any

__all__ = ["decode", "DecodeError", "SUPPORTED"]

MAGIC = b"k8s\x00"


class DecodeError(ValueError):
    pass


_MAP_STR, _MAP_BYTES, _REP_STR = "map_str", "map_bytes", "rep_str"
_OBJECT_META = {1: ("name", "str"), 2: ("generateName", "str"), 3: ("namespace", "str"),
                6: ("resourceVersion", "str"), 11: ("labels", _MAP_STR), 12: ("annotations", _MAP_STR),
                14: ("finalizers", _REP_STR)}
_SCHEMAS: dict[str, dict[int, tuple[str, Any]]] = {
    "ConfigMap": {1: ("metadata", _OBJECT_META), 2: ("data", _MAP_STR), 3: ("binaryData", _MAP_BYTES),
                  4: ("immutable", "bool")},
    "Secret": {1: ("metadata", _OBJECT_META), 2: ("data", _MAP_BYTES), 3: ("type", "str"),
               4: ("stringData", _MAP_STR), 5: ("immutable", "bool")},
    "Namespace": {1: ("metadata", _OBJECT_META), 2: ("spec", {1: ("finalizers", _REP_STR)})},
}
SUPPORTED = frozenset(_SCHEMAS)


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if i >= len(data) or shift > 63:
            raise DecodeError("truncated varint")
        b = data[i]
        value |= (b & 0x7F) << shift
        i += 1
        if not b & 0x80:
            return value, i
        shift += 7


def _fields(data: bytes):
    """(field number, wire type, value) of a message; length-delimited values as bytes."""
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 2:
            size, i = _varint(data, i)
            if i + size > len(data):
                raise DecodeError("truncated field")
            value, i = data[i:i + size], i + size
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            value, i = data[i:i + width], i + width
        else:
            raise DecodeError(f"unsupported wire type {wire}")
        yield number, wire, value


def _message(data: bytes, schema: dict[int, tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for number, _wire, value in _fields(data):
        if number not in schema:
            continue  # fields the emulator does not keep (timestamps, uid, managed fields…)
        name, kind = schema[number]
        if isinstance(kind, dict):
            out[name] = _message(value, kind)
        elif kind == "str":
            out[name] = value.decode("utf-8")
        elif kind == "bool":
            out[name] = bool(value)
        elif kind == _REP_STR:
            out.setdefault(name, []).append(value.decode("utf-8"))
        else:  # a map entry: message {1: key, 2: value}
            entry = {n: v for n, _w, v in _fields(value)}
            key = entry.get(1, b"").decode("utf-8")
            raw = entry.get(2, b"")
            out.setdefault(name, {})[key] = (base64.b64encode(raw).decode() if kind == _MAP_BYTES
                                             else raw.decode("utf-8"))
    return out


def decode(body: bytes) -> dict[str, Any]:
    """The JSON form of a protobuf-encoded ConfigMap, Secret or Namespace; ``DecodeError`` for
    anything else or a malformed body."""
    if not body.startswith(MAGIC):
        raise DecodeError("not a Kubernetes protobuf message (no k8s\\0 prefix)")
    envelope = {n: v for n, _w, v in _fields(body[len(MAGIC):])}
    type_meta = {n: v for n, _w, v in _fields(envelope.get(1, b""))}
    api_version = type_meta.get(1, b"").decode("utf-8")
    kind = type_meta.get(2, b"").decode("utf-8")
    if kind not in _SCHEMAS or api_version != "v1":
        raise DecodeError(f"the podc emulator reads protobuf only for {', '.join(sorted(SUPPORTED))} "
                          f"(got {api_version}/{kind}); send JSON")
    return {"apiVersion": api_version, "kind": kind, **_message(envelope.get(2, b""), _SCHEMAS[kind])}
