"""Image overrides, as kustomize's ``images:``: replace an image's name, tag or digest by name.

An override matches a container image whose name (the reference without its tag and digest)
equals ``name``. ``new_name`` replaces the name; ``new_tag`` and ``digest`` replace the
original tag *and* digest (both given: ``name:tag@digest``), exactly as kustomize's image
transformer does. Later overrides of the same name win (the command line's ``--image`` comes
after ``podc.yaml``'s ``images:``).
"""

from __future__ import annotations

from typing import Any

from podc._record import record

__all__ = ["ImageOverride", "split_image", "override_image", "parse_image_option"]


@record(frozen=True)
class ImageOverride:
    name: str
    new_name: str | None = None
    new_tag: str | None = None
    digest: str | None = None
    pos: Any = None  # where it is written (a podc.errors.Pos)
    layer: str = "images"  # what provenance shows: `images` (podc.yaml) or `--image`


def split_image(value: str) -> tuple[str, str | None, str | None]:
    """(name, tag, digest) of an image reference, without validating it."""
    rest, digest = value, None
    if "@" in rest:
        rest, _, digest = rest.partition("@")
    tag = None
    slash, colon = rest.rfind("/"), rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1:]
    return rest, tag, digest


def override_image(value: str, overrides: "list[ImageOverride] | tuple[ImageOverride, ...]") -> tuple[str, ImageOverride | None]:
    """The image after the last override whose name matches, and that override (or None)."""
    name, tag, digest = split_image(value)
    hit = None
    for o in overrides:
        if o.name == name:
            hit = o
    if hit is None:
        return value, None
    if hit.new_name:
        name = hit.new_name
    if hit.new_tag and hit.digest:
        tag, digest = hit.new_tag, hit.digest
    elif hit.new_tag:
        tag, digest = hit.new_tag, None
    elif hit.digest:
        tag, digest = None, hit.digest
    out = name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    return out, hit


def parse_image_option(text: str, pos: Any = None) -> ImageOverride:
    """``--image NAME=REF`` (REF: ``newName``, ``newName:tag``, ``newName@digest``, ``:tag``,
    ``@digest``) or ``--image NAME:TAG`` / ``NAME@DIGEST`` (same name, new tag or digest).
    ``ValueError`` with what was expected for anything else."""
    from podc.kube.images import parse_image_reference

    name, eq, ref = text.partition("=")
    name, ref = name.strip(), ref.strip()
    if not eq:
        name, tag, digest = split_image(text.strip())
        if not tag and not digest:
            raise ValueError(f"expected NAME=REF, NAME:TAG or NAME@DIGEST, got {text!r}")
        parse_image_reference(text.strip())
        return ImageOverride(name, None, tag, digest, pos, "--image")
    if not name or not ref:
        raise ValueError(f"expected NAME=REF (e.g. busybox=registry.example.com/busybox:1.36), got {text!r}")
    new_name, tag, digest = split_image(ref)
    parse_image_reference((new_name or name) + (f":{tag}" if tag else "") + (f"@{digest}" if digest else ""))
    return ImageOverride(name, new_name or None, tag, digest, pos, "--image")
