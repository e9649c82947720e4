"""The custom value rules of the podc/v1 models, free of pydantic.

The models enforce them with AfterValidators (precise, located messages); the fast gate
(:mod:`podc.model.fast`) applies the SAME predicates, found through the ``x-podc-check`` names
the models write into ``schemas/podc-v1.json``. A new rule must be added to :data:`CHECKS` and
marked with :class:`podc.model.common.FastCheck` on the model side, or the fast gate reports
"unsure" for every document using it (``UnknownCheck``) and the models decide.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from podc.kube import names as kube_names
from podc.kube.quantity import parse_quantity

__all__ = ["DATE", "K8S_VERSION", "PSS_LEVEL", "CHECKS", "is_date", "is_quantity", "is_used_secret_entry"]

DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
K8S_VERSION = re.compile(r"1\.[0-9]{1,3}\Z")
PSS_LEVEL = re.compile(r"none\Z|(privileged|baseline|restricted)(:(latest|v1\.[0-9]{1,3}))?\Z")


def is_quantity(value: Any) -> bool:
    try:
        parse_quantity(value)
    except ValueError:
        return False
    return True


def is_date(value: str) -> bool:
    if not DATE.match(value):
        return False
    try:
        import datetime  # here: ~2 ms to import, and only exception files have dates

        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_used_secret_entry(entry: dict) -> bool:
    """``SecretEntry``'s model validator: the entry mounts the Secret or exposes keys as env vars,
    and ``items``/``defaultMode`` come with a ``mountPath``."""
    if entry.get("mountPath") is None:
        if not entry.get("env") and entry.get("envFrom") is None:
            return False
        if entry.get("items") is not None or entry.get("defaultMode") is not None:
            return False
    return True


#: ``x-podc-check`` name -> predicate (True = the value passes the model's AfterValidator).
CHECKS: dict[str, Callable[[Any], bool]] = {
    "quantity": is_quantity,
    "dns1123-label": lambda v: not kube_names.dns1123_label(v),
    "dns1123-subdomain": lambda v: not kube_names.dns1123_subdomain(v),
    "env-var-name": lambda v: not kube_names.env_var_name(v),
    "date": is_date,
    "non-empty": lambda v: bool(v.strip()),
    "k8s-version": lambda v: K8S_VERSION.match(v) is not None,
    "pss-level": lambda v: PSS_LEVEL.match(v) is not None,
    "secret-entry": is_used_secret_entry,
}
