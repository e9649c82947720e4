"""Deterministic Job names and the labels that tie a Job (and its Pods) to a run and a step.

Pure functions, no Kubernetes import. The same (run id, step key, attempt) always yields the same
Job name, which is what makes submission idempotent: a retried create answers 409 and the runtime
adopts the Job it already made instead of creating a duplicate.
"""

from __future__ import annotations

import copy
import hashlib
import re
from typing import Any

from podc.kube.names import sanitize_label_value

__all__ = [
    "LABEL_RUN_ID",
    "LABEL_STEP_KEY",
    "LABEL_ATTEMPT",
    "LABEL_MANAGED_BY",
    "ANNOTATION_RUN_ID",
    "ANNOTATION_STEP_KEY",
    "job_name",
    "label_value",
    "run_selector",
    "prepare_job",
    "ownership_mismatch",
]

LABEL_RUN_ID = "podc.dev/run-id"
LABEL_STEP_KEY = "podc.dev/step-key"
LABEL_ATTEMPT = "podc.dev/attempt"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
# Label values are limited to 63 safe characters; the full values live in annotations.
ANNOTATION_RUN_ID = "podc.dev/run-id"
ANNOTATION_STEP_KEY = "podc.dev/step-key"

_MAX_NAME = 63
_HASH_LEN = 10
_PREFIX = "podc-"
# Fields the API server owns; a compiled manifest that carries them cannot be created as is.
_SERVER_METADATA = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields",
                    "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds", "generateName")


def _digest(*parts: str) -> str:
    h = hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()
    return h[:_HASH_LEN]


def job_name(run_id: str, step_key: str, attempt: int = 0) -> str:
    """``podc-<sanitised step key>-<hash>``: valid DNS-1123, at most 63 characters.

    The hash covers the exact run id, step key and attempt, so two steps whose keys sanitise to
    the same text still get different names.
    """
    digest = _digest(run_id, step_key, str(attempt))
    room = _MAX_NAME - len(_PREFIX) - 1 - _HASH_LEN
    readable = re.sub(r"[^a-z0-9]+", "-", step_key.lower()).strip("-")[:room].rstrip("-")
    return f"{_PREFIX}{readable}-{digest}" if readable else f"{_PREFIX}{digest}"


# ``value`` if it is a valid label value, else a readable, distinct, valid stand-in (hash of the
# original appended): the same rule everywhere podc writes labels.
label_value = sanitize_label_value


def run_selector(run_id: str) -> str:
    """The label selector matching every Job and Pod of a run."""
    return f"{LABEL_RUN_ID}={label_value(run_id)}"


def _identity_labels(run_id: str, step_key: str, attempt: int) -> dict[str, str]:
    return {
        LABEL_RUN_ID: label_value(run_id),
        LABEL_STEP_KEY: label_value(step_key),
        LABEL_ATTEMPT: str(attempt),
        LABEL_MANAGED_BY: "podc",
    }


def prepare_job(manifest: dict[str, Any], *, run_id: str, step_key: str, attempt: int = 0,
                namespace: str | None = None) -> dict[str, Any]:
    """A copy of a compiled Job manifest, named and labelled for ``run_id``/``step_key``.

    The run labels go on the Job *and* on its pod template, so one label-selected watch on Pods
    serves the whole run. Server-owned metadata and ``status`` are dropped. The input is not
    modified.
    """
    job = copy.deepcopy(manifest)
    job.setdefault("apiVersion", "batch/v1")
    job.setdefault("kind", "Job")
    job.pop("status", None)
    meta = job.setdefault("metadata", {})
    for key in _SERVER_METADATA:
        meta.pop(key, None)
    meta["name"] = job_name(run_id, step_key, attempt)
    if namespace is not None:
        meta["namespace"] = namespace
    labels = _identity_labels(run_id, step_key, attempt)
    annotations = {ANNOTATION_RUN_ID: run_id, ANNOTATION_STEP_KEY: step_key}
    meta["labels"] = {**(meta.get("labels") or {}), **labels}
    meta["annotations"] = {**(meta.get("annotations") or {}), **annotations}
    template = job.setdefault("spec", {}).setdefault("template", {})
    tmeta = template.setdefault("metadata", {})
    tmeta["labels"] = {**(tmeta.get("labels") or {}), **labels}
    tmeta["annotations"] = {**(tmeta.get("annotations") or {}), **annotations}
    return job


def ownership_mismatch(existing: dict[str, Any], wanted: dict[str, Any]) -> str | None:
    """Why an existing Job with the wanted name is *not* ours, or None when it is.

    Used on a 409 AlreadyExists: a Job whose run/step/attempt labels (and full-value annotations,
    when present) match is adopted; anything else is a name clash reported to the user.
    """
    have = (existing.get("metadata") or {})
    want = wanted["metadata"]
    problems = []
    for key in (LABEL_RUN_ID, LABEL_STEP_KEY, LABEL_ATTEMPT):
        got = (have.get("labels") or {}).get(key)
        if got != want["labels"][key]:
            problems.append(f"label {key}={got!r} (expected {want['labels'][key]!r})")
    for key in (ANNOTATION_RUN_ID, ANNOTATION_STEP_KEY):
        got = (have.get("annotations") or {}).get(key)
        if got is not None and got != want["annotations"][key]:
            problems.append(f"annotation {key}={got!r} (expected {want['annotations'][key]!r})")
    return "; ".join(problems) or None
