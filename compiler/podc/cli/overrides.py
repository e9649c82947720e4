"""``--set FIELD=VALUE`` and ``--image NAME=REF``: command-line overrides for compile, explain, diff.

``--set`` builds one in-memory layer per option, applied after every layer of every target, in
the friendly layer form (``resources.limits.memory=2Gi``, ``env.LOG_LEVEL=debug``,
``labels.app\\.kubernetes\\.io/name=x``: a ``\\.`` is a dot inside a key). The value is read like a
YAML scalar (``3`` is a number, ``true`` a boolean, ``null`` deletes, ``"3"`` a string); a value
starting with ``[`` or ``{`` is JSON. Provenance shows it as layer ``--set``. ``--image``
overrides images after the project's ``images:``.
"""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

__all__ = ["add_override_options", "set_layers", "apply_images", "parse_set_value", "SET_LAYER"]

SET_LAYER = "--set"
_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_WORDS = {"true": True, "false": False, "null": None, "~": None}


def add_override_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", action="append", default=[], dest="sets", metavar="FIELD=VALUE",
                   help="an inline last layer, e.g. --set resources.limits.memory=2Gi --set env.LOG_LEVEL=debug "
                        "(repeatable; shown in provenance as --set)")
    p.add_argument("--image", action="append", default=[], dest="images", metavar="NAME=REF",
                   help="override an image by name, after podc.yaml's images:, e.g. --image "
                        "busybox=registry.example.com/busybox:1.36 or --image busybox:1.37 (repeatable)")


def parse_set_value(text: str) -> Any:
    if text[:1] in ("[", "{", '"'):
        try:
            return json.loads(text)
        except ValueError:
            return text
    if text.lower() in _WORDS:
        return _WORDS[text.lower()]
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text) and any(c.isdigit() for c in text):
        return float(text)
    return text


def _split_field(field: str) -> list[str]:
    keys, current, i = [], "", 0
    while i < len(field):
        c = field[i]
        if c == "\\" and field[i + 1:i + 2] == ".":
            current += "."
            i += 2
            continue
        if c == ".":
            keys.append(current)
            current = ""
        else:
            current += c
        i += 1
    keys.append(current)
    return keys


def set_layers(options: list[str]) -> list:
    """One in-memory layer (a MapNode, layer ``--set``) per option; ``PodcError`` listing every
    malformed option."""
    from podc.errors import Diagnostics, Pos
    from podc.tree import Origin, from_plain

    diags = Diagnostics()
    layers = []
    for text in options:
        where = Pos(f"--set {text}")
        field, eq, raw = text.partition("=")
        keys = _split_field(field.strip())
        if not eq or not all(k.strip() for k in keys) or "[" in field:
            diags.add("usage.set", f"expected FIELD=VALUE with a dotted field path, got {text!r}", where,
                      hint="for example --set resources.limits.memory=2Gi or --set env.LOG_LEVEL=debug; list "
                           "items cannot be addressed (use a layer file)")
            continue
        value: Any = parse_set_value(raw)
        for key in reversed(keys):
            value = {key.strip(): value}
        node = from_plain(value, Origin(SET_LAYER, where), diags)
        layers.append(node)
    diags.raise_if_errors()
    return layers


def apply_images(project, options: list[str]) -> None:
    """Append ``--image`` overrides to the project's (the command line wins)."""
    if not options:
        return
    from podc.errors import Diagnostics, Pos
    from podc.kube.image_overrides import parse_image_option

    diags = Diagnostics()
    extra = []
    for text in options:
        where = Pos(f"--image {text}")
        try:
            extra.append(parse_image_option(text, where))
        except ValueError as e:
            diags.add("usage.image", str(e), where,
                      hint="for example --image busybox=registry.example.com/mirror/busybox:1.36, "
                           "--image busybox:1.37 or --image busybox@sha256:<64 hex digits>")
    diags.raise_if_errors()
    project.images = [*project.images, *extra]
