"""What the API server does to an object on create: defaulting, validation, admission.

Only the parts that change behaviour visible to a Job runner are modelled: Job selector and
pod-template labels, Job/Pod field defaults, restartPolicy validation, the ServiceAccount
admission check, Secret ``stringData`` folding and the initial Pod status.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from podc.kube.names import dns1123_subdomain
from podc.testing._util import dig, new_uid
from podc.testing.api_errors import ApiError, forbidden, invalid
from podc.testing.resources import RESOURCE_TYPES

JOB_LABELS = ("batch.kubernetes.io/controller-uid", "controller-uid", "batch.kubernetes.io/job-name", "job-name")

_DEFAULT_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
]


def validate_name(resource: str, obj: dict[str, Any]) -> None:
    rt = RESOURCE_TYPES[resource]
    name = dig(obj, "metadata", "name", default="")
    if not name and dig(obj, "metadata", "generateName"):
        name = obj["metadata"]["generateName"] + "x"
    if not name:
        raise invalid(rt, "", [("metadata.name", "Required value: name or generateName is required")])
    errs = dns1123_subdomain(name)
    if errs and resource != "events":
        raise invalid(rt, name, [("metadata.name", f'Invalid value: "{name}": {errs[0]}')])


def _image_pull_policy(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return "IfNotPresent"
    tag = last.split(":", 1)[1] if ":" in last else "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def default_pod_spec(spec: dict[str, Any]) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    for key in ("initContainers", "containers"):
        for c in spec.get(key) or []:
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
            if c.get("image"):
                c.setdefault("imagePullPolicy", _image_pull_policy(c["image"]))
            c.setdefault("resources", {})


def qos_class(spec: dict[str, Any]) -> str:
    containers = (spec.get("containers") or []) + (spec.get("initContainers") or [])
    reqs = [dig(c, "resources", "requests", default={}) for c in containers]
    lims = [dig(c, "resources", "limits", default={}) for c in containers]
    if not any(reqs) and not any(lims):
        return "BestEffort"
    for lim, req in zip(lims, reqs):
        for res in ("cpu", "memory"):
            if res not in lim or (res in req and str(req[res]) != str(lim[res])):
                return "Burstable"
    return "Guaranteed"


def prepare_pod(obj: dict[str, Any], sa_exists: Callable[[str, str], bool]) -> None:
    spec = obj.setdefault("spec", {})
    rt = RESOURCE_TYPES["pods"]
    meta = obj["metadata"]
    shown = meta.get("name") or meta.get("generateName", "")
    if not spec.get("containers"):
        raise invalid(rt, shown, [("spec.containers", "Required value")])
    for c in spec["containers"]:
        if not c.get("image"):
            raise invalid(rt, shown, [(f"spec.containers[{spec['containers'].index(c)}].image", "Required value")])
    default_pod_spec(spec)
    sa = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = spec["serviceAccount"] = sa
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    tolerations = spec.setdefault("tolerations", [])
    for tol in _DEFAULT_TOLERATIONS:
        if not any(t.get("key") == tol["key"] and t.get("effect") == tol["effect"] for t in tolerations):
            tolerations.append(dict(tol))
    ns = meta.get("namespace", "default")
    if not sa_exists(ns, sa):
        raise forbidden(rt, shown, f'error looking up service account {ns}/{sa}: serviceaccount "{sa}" not found')
    obj["status"] = {"phase": "Pending", "qosClass": qos_class(spec)}


def prepare_job(obj: dict[str, Any]) -> None:
    rt = RESOURCE_TYPES["jobs"]
    meta = obj["metadata"]
    name = meta.get("name", "")
    spec = obj.setdefault("spec", {})
    template = spec.setdefault("template", {})
    pod_spec = template.setdefault("spec", {})
    if not pod_spec.get("containers"):
        raise invalid(rt, name, [("spec.template.spec.containers", "Required value")])
    default_pod_spec(pod_spec)
    policy = pod_spec["restartPolicy"]
    if policy not in ("OnFailure", "Never"):
        raise invalid(rt, name, [("spec.template.spec.restartPolicy",
                                  f'Unsupported value: "{policy}": supported values: "OnFailure", "Never"')])
    if spec.get("podFailurePolicy") and policy != "Never":
        raise invalid(rt, name, [("spec.template.spec.restartPolicy",
                                  f'Invalid value: "{policy}": only "Never" is supported when podFailurePolicy is specified')])
    for field in ("parallelism", "completions", "backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"):
        value = spec.get(field)
        if value is not None and (not isinstance(value, int) or value < 0 or (field == "activeDeadlineSeconds" and value == 0)):
            raise invalid(rt, name, [(f"spec.{field}", f"Invalid value: {value}: must be greater than or equal to 0")])
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "Failed" if spec.get("podFailurePolicy") else "TerminatingOrFailed")
    uid = meta.setdefault("uid", new_uid())
    if not spec.get("manualSelector"):
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
        labels = template.setdefault("metadata", {}).setdefault("labels", {})
        labels.update({"batch.kubernetes.io/controller-uid": uid, "controller-uid": uid,
                       "batch.kubernetes.io/job-name": name, "job-name": name})
        job_labels = meta.setdefault("labels", {})
        for key in ("batch.kubernetes.io/controller-uid", "controller-uid", "batch.kubernetes.io/job-name", "job-name"):
            job_labels.setdefault(key, labels[key])
    obj["status"] = {}


def prepare_secret(obj: dict[str, Any]) -> None:
    string_data = obj.pop("stringData", None) or {}
    data = obj.setdefault("data", {}) if (string_data or obj.get("data") is not None) else None
    if data is not None:
        for k, v in string_data.items():
            data[k] = base64.b64encode(str(v).encode()).decode()
    obj.setdefault("type", "Opaque")


def prepare_create(resource: str, obj: dict[str, Any], sa_exists: Callable[[str, str], bool]) -> None:
    validate_name(resource, obj)
    if resource == "pods":
        prepare_pod(obj, sa_exists)
    elif resource == "jobs":
        prepare_job(obj)
    elif resource == "secrets":
        prepare_secret(obj)
    elif resource == "namespaces":
        obj["status"] = {"phase": "Active"}
        obj.setdefault("spec", {"finalizers": ["kubernetes"]})
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
    elif resource == "events":
        obj.setdefault("count", 1)
        obj.setdefault("type", "Normal")


def default_update(resource: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Apply create-time defaults to an update body, so comparing it with the stored object is fair."""
    if resource == "jobs":
        template = new.setdefault("spec", {}).setdefault("template", {})
        default_pod_spec(template.setdefault("spec", {}))
        old_labels = dig(old, "spec", "template", "metadata", "labels", default={})
        labels = template.setdefault("metadata", {}).setdefault("labels", {})
        for key in JOB_LABELS:
            if key in old_labels:
                labels.setdefault(key, old_labels[key])
        for key in ("selector", "parallelism", "completions", "backoffLimit", "completionMode", "suspend",
                    "podReplacementPolicy"):
            if key in old.get("spec", {}):
                new["spec"].setdefault(key, old["spec"][key])
    elif resource == "pods":
        spec = new.setdefault("spec", {})
        default_pod_spec(spec)
        for key in ("serviceAccountName", "serviceAccount", "nodeName", "tolerations", "priority",
                    "enableServiceLinks", "preemptionPolicy"):
            if key in old.get("spec", {}):
                spec.setdefault(key, old["spec"][key])


def check_update(resource: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Immutable-field checks the real API server makes on update."""
    if resource == "jobs":
        if dig(old, "spec", "template") != dig(new, "spec", "template") and not dig(new, "spec", "suspend"):
            raise invalid(RESOURCE_TYPES["jobs"], old["metadata"]["name"],
                          [("spec.template", "Invalid value: field is immutable")])
    if resource == "pods":
        if dig(old, "spec", "containers") != dig(new, "spec", "containers"):
            # Only image changes are allowed in the real API; keep it simple: containers are frozen.
            old_c = [dict(c, image=None) for c in old["spec"]["containers"]]
            new_c = [dict(c, image=None) for c in dig(new, "spec", "containers", default=[])]
            if old_c != new_c:
                raise ApiError(422, "Invalid", f'Pod "{old["metadata"]["name"]}" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) or `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)')
