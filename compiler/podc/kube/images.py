"""Container image references: ``[registry[:port]/]repository[:tag][@digest]``.

Follows the grammar of ``github.com/distribution/reference`` (what the kubelet and container
runtimes parse) including Docker's normalisation: a first path component is a registry only
when it contains ``.`` or ``:``, is ``localhost`` or has upper-case letters; otherwise the image
lives on ``docker.io`` (single names under ``library/``).
"""

from __future__ import annotations

import re

from podc._record import record

__all__ = ["ImageReference", "parse_image_reference", "image_reference", "DEFAULT_REGISTRY"]

DEFAULT_REGISTRY = "docker.io"
NAME_MAX = 255

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?\Z"
)
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\Z")
_TAG = re.compile(r"[\w][\w.-]{0,127}\Z")
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}\Z")


@record(frozen=True, slots=True)
class ImageReference:
    """A parsed image reference. ``registry`` is None when the image name did not name one."""

    registry: str | None
    repository: str
    tag: str | None
    digest: str | None

    @property
    def effective_registry(self) -> str:
        return self.registry or DEFAULT_REGISTRY

    @property
    def is_pinned(self) -> bool:
        """Pinned by digest: the runtime pulls exactly these bytes."""
        return self.digest is not None

    @property
    def uses_latest(self) -> bool:
        """No digest and the tag is ``latest`` or missing (which means ``latest``)."""
        return self.digest is None and self.tag in (None, "latest")

    def __str__(self) -> str:
        out = f"{self.registry}/{self.repository}" if self.registry else self.repository
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


def parse_image_reference(value: str) -> ImageReference:
    """Parse an image reference; ``ValueError`` saying what is wrong when it is not one."""
    if not isinstance(value, str) or not value:
        raise ValueError("image must be a non-empty string like 'registry.example.com/team/app:1.2.3'")
    if value != value.strip():
        raise ValueError("image must not have leading or trailing whitespace")
    rest, digest = value, None
    if "@" in rest:
        rest, _, digest = rest.partition("@")
        if not _DIGEST.match(digest):
            raise ValueError(
                f"invalid digest {digest!r}: expected 'algorithm:hex', e.g. 'sha256:' followed by 64 hex digits"
            )
    tag = None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1 :]
        if not _TAG.match(tag):
            raise ValueError(
                f"invalid tag {tag!r}: up to 128 of letters, digits, '_', '.', '-', not starting with '.' or '-'"
            )
    if not rest:
        raise ValueError("image has no repository name")
    if len(rest) > NAME_MAX:
        raise ValueError(f"repository name must not be longer than {NAME_MAX} characters")
    first, sep, remainder = rest.partition("/")
    registry = None
    path = rest
    if sep and (any(c in first for c in ".:") or first == "localhost" or first.lower() != first):
        registry, path = first, remainder
        if not _DOMAIN.match(registry):
            raise ValueError(f"invalid registry host {registry!r}")
    for component in path.split("/"):
        if not _PATH_COMPONENT.match(component):
            if component.lower() != component and _PATH_COMPONENT.match(component.lower()):
                raise ValueError(f"repository name must be lowercase (got {path!r})")
            raise ValueError(
                f"invalid repository path component {component!r}: lowercase letters and digits "
                "separated by '.', '_', '__' or '-'"
            )
    return ImageReference(registry, path, tag, digest)


def image_reference(value: str) -> list[str]:
    """Errors for an image reference (empty when valid), in the style of the name validators."""
    try:
        parse_image_reference(value)
    except ValueError as exc:
        return [str(exc)]
    return []
