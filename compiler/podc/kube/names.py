"""Kubernetes name and key rules the API server enforces but the OpenAPI schema does not.

Each validator returns a list of error strings (empty = valid) worded like
``k8s.io/apimachinery/pkg/util/validation`` so users recognise them from ``kubectl`` output.
The ``sanitize_*`` helpers turn any string into a valid value deterministically (used for names
derived from user data such as Dagster step keys).
"""

from __future__ import annotations

import re

from podc.kube.images import image_reference, parse_image_reference, ImageReference

__all__ = [
    "DNS1123_LABEL_MAX",
    "DNS1123_SUBDOMAIN_MAX",
    "QUALIFIED_NAME_MAX",
    "LABEL_VALUE_MAX",
    "ANNOTATIONS_MAX_BYTES",
    "RELAXED_ENV_VAR_SINCE",
    "dns1123_label",
    "dns1123_subdomain",
    "qualified_name",
    "label_key",
    "annotation_key",
    "label_value",
    "annotations_size",
    "env_var_name",
    "port_number",
    "port_name",
    "container_name",
    "image_reference",
    "parse_image_reference",
    "ImageReference",
    "sanitize_label_value",
    "sanitize_dns1123_label",
    "short_hash",
]

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
QUALIFIED_NAME_MAX = 63
LABEL_VALUE_MAX = 63
ANNOTATIONS_MAX_BYTES = 256 * 1024
PORT_NAME_MAX = 15
# RelaxedEnvironmentVariableValidation: beta and on by default in 1.32, GA (locked on) in 1.34.
RELAXED_ENV_VAR_SINCE = (1, 32)

_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_FMT = _LABEL_FMT + r"(\." + _LABEL_FMT + ")*"
_QNAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_ENV_FMT = "[-._a-zA-Z][-._a-zA-Z0-9]*"

_LABEL_RE = re.compile(_LABEL_FMT + r"\Z")
_SUBDOMAIN_RE = re.compile(_SUBDOMAIN_FMT + r"\Z")
_QNAME_RE = re.compile(_QNAME_FMT + r"\Z")
_ENV_RE = re.compile(_ENV_FMT + r"\Z")
_PORT_NAME_CHARS = re.compile(r"[-a-z0-9]+\Z")

_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character"
)
_QNAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character"
)
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character"
)
_ENV_MSG = (
    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', "
    "or '.', and must not start with a digit"
)


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    shown = " or ".join(f"'{e}'" for e in examples)
    return f"{msg} (e.g. {shown}, regex used for validation is '{fmt}')"


def _max_len(n: int) -> str:
    return f"must be no more than {n} characters"


def dns1123_label(value: str) -> list[str]:
    """A DNS-1123 label (container, volume, port-less names; Job names): ``[a-z0-9-]``, ≤63."""
    errs: list[str] = []
    if len(value) > DNS1123_LABEL_MAX:
        errs.append(_max_len(DNS1123_LABEL_MAX))
    if not _LABEL_RE.match(value):
        if _SUBDOMAIN_RE.match(value):
            errs.append("must not contain dots")
        else:
            errs.append(_regex_error(_LABEL_MSG, _LABEL_FMT, "my-name", "123-abc"))
    return errs


def dns1123_subdomain(value: str) -> list[str]:
    """A DNS-1123 subdomain (most object names, label-key prefixes): dot-separated labels, ≤253."""
    errs: list[str] = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        errs.append(_max_len(DNS1123_SUBDOMAIN_MAX))
    if not _SUBDOMAIN_RE.match(value):
        errs.append(_regex_error(_SUBDOMAIN_MSG, _SUBDOMAIN_FMT, "example.com"))
    return errs


def qualified_name(value: str) -> list[str]:
    """A label or annotation key: ``[prefix/]name``; prefix a DNS subdomain, name ≤63."""
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + e for e in dns1123_subdomain(prefix))
    else:
        return [
            "a qualified name "
            + _regex_error(_QNAME_MSG, _QNAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > QUALIFIED_NAME_MAX:
        errs.append("name part " + _max_len(QUALIFIED_NAME_MAX))
    if not _QNAME_RE.match(name):
        errs.append("name part " + _regex_error(_QNAME_MSG, _QNAME_FMT, "MyName", "my.name", "123-abc"))
    return errs


label_key = qualified_name


def annotation_key(value: str) -> list[str]:
    """Annotation keys follow the qualified-name rule; the API server lower-cases nothing."""
    return qualified_name(value)


def label_value(value: str) -> list[str]:
    """A label value: empty, or ≤63 of ``[A-Za-z0-9._-]`` starting and ending alphanumeric."""
    errs: list[str] = []
    if len(value) > LABEL_VALUE_MAX:
        errs.append(_max_len(LABEL_VALUE_MAX))
    if value and not _QNAME_RE.match(value):
        errs.append(_regex_error(_LABEL_VALUE_MSG, f"({_QNAME_FMT})?", "MyValue", "my_value", "12345"))
    return errs


def annotations_size(annotations: dict[str, str] | int) -> list[str]:
    """All annotation keys plus values together must fit in 256 KiB.

    Takes the annotation map or a precomputed byte total.
    """
    if isinstance(annotations, int):
        total = annotations
    else:
        total = sum(len(k.encode()) + len(str(v).encode()) for k, v in annotations.items())
    if total > ANNOTATIONS_MAX_BYTES:
        return [f"may not have more than {ANNOTATIONS_MAX_BYTES} bytes in total (got {total})"]
    return []


def _version_tuple(version: str | tuple[int, int] | None) -> tuple[int, int] | None:
    if version is None or isinstance(version, tuple):
        return version
    major, _, minor = version.lstrip("v").partition(".")
    return int(major), int(minor.split(".")[0] or 0)


def env_var_name(value: str, version: str | tuple[int, int] | None = None) -> list[str]:
    """An environment variable name as the given Kubernetes version accepts it.

    From 1.32 (RelaxedEnvironmentVariableValidation on by default; GA in 1.34) any printable
    ASCII except ``=`` is allowed; before that a C-identifier-like name. ``version=None`` means
    the newest rules.
    """
    v = _version_tuple(version)
    if v is None or v >= RELAXED_ENV_VAR_SINCE:
        errs: list[str] = []
        if not value:
            errs.append("environment variable name must be non-empty")
        if any(not (" " <= ch <= "~") or ch == "=" for ch in value):
            errs.append(
                "a valid environment variable name must consist only of printable ASCII "
                "characters other than '='"
            )
        return errs
    errs = []
    if not _ENV_RE.match(value):
        errs.append(_regex_error(_ENV_MSG, _ENV_FMT, "my.env-name", "MY_ENV.NAME", "MyEnvName1"))
    if value == ".":
        errs.append("must not be '.'")
    elif value == "..":
        errs.append("must not be '..'")
    elif value.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def port_number(value: object) -> list[str]:
    """A TCP/UDP port: an integer 1..65535."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        return ["must be between 1 and 65535, inclusive"]
    return []


def port_name(value: str) -> list[str]:
    """An IANA service name (container port names): ≤15, ``[a-z0-9-]``, one letter at least."""
    errs: list[str] = []
    if len(value) > PORT_NAME_MAX:
        errs.append(_max_len(PORT_NAME_MAX))
    if not _PORT_NAME_CHARS.match(value):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", value):
        errs.append("must contain at least one letter (a-z)")
    if "--" in value:
        errs.append("must not contain consecutive hyphens")
    if value and (value[0] == "-" or value[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def container_name(value: str) -> list[str]:
    """Container names are DNS-1123 labels."""
    return dns1123_label(value)


def short_hash(value: str, length: int = 8) -> str:
    """A short, stable, lowercase hex digest of ``value`` (sha256 prefix)."""
    from podc._digest import sha256

    return sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def _with_hash(original: str, readable: str, max_len: int, strip: str) -> str:
    digest = short_hash(original, min(8, max_len))
    room = max_len - len(digest) - 1
    head = readable[: max(room, 0)].rstrip(strip)
    return f"{head}-{digest}" if head else digest


def sanitize_label_value(value: str) -> str:
    """``value`` itself when it is a valid label value; else a valid one derived from it.

    Invalid characters become ``-``, the ends are trimmed to alphanumerics, and a short hash of
    the original is appended (``"my step/1"`` -> ``"my-step-1-<hash8>"``), so two different
    inputs do not collapse to the same label. Always ≤63 characters and deterministic.
    """
    if not label_value(value):
        return value
    readable = re.sub(r"[^A-Za-z0-9._-]", "-", value).strip("-_.")
    return _with_hash(value, readable, LABEL_VALUE_MAX, "-_.")


def sanitize_dns1123_label(value: str, max_len: int = DNS1123_LABEL_MAX) -> str:
    """``value`` itself when it is a DNS-1123 label of at most ``max_len``; else a valid one.

    Lower-cases, maps other characters to ``-``, trims the ends and appends a short hash of the
    original (``"Train_Model"`` -> ``"train-model-<hash8>"``). Use ``max_len=52`` for CronJob
    names (the controller appends an 11-character suffix to make Job names).
    """
    if max_len < 1:
        raise ValueError("max_len must be at least 1")
    if len(value) <= max_len and not dns1123_label(value):
        return value
    readable = re.sub(r"[^a-z0-9-]", "-", value.lower()).strip("-")
    return _with_hash(value, readable, min(max_len, DNS1123_LABEL_MAX), "-")
