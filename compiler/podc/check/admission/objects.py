"""The objects the API server admits for one checked document.

A Job is admitted as written plus the API server's defaults; then the Job controller creates its
Pods from the template, and a cluster checks policies matching ``pods`` *there* (a rejection is a
``FailedCreate`` event, which a Dagster run shows as a hang). So each document yields:

* the object itself (a Job, CronJob, Deployment…), defaulted;
* for a CronJob, the Job its controller creates from ``spec.jobTemplate``;
* for every kind with a pod template, the Pod created from it: metadata from the template plus the
  controller's labels, generated name, namespace and ownerReferences; spec from the template.

Each comes with the JSON pointer of its source inside the document, so a violation on the Pod is
reported at the template's lines.

Defaults applied (the ones policies read in practice): Job completions/parallelism 1,
backoffLimit 6, completionMode NonIndexed, suspend false; Pod restartPolicy Always,
dnsPolicy ClusterFirst, schedulerName default-scheduler, terminationGracePeriodSeconds 30,
securityContext {}, enableServiceLinks true, serviceAccountName default; container
imagePullPolicy (Always for :latest or no tag, else IfNotPresent), terminationMessagePath/Policy,
port protocol TCP, and resource requests defaulted from limits.
"""

from __future__ import annotations

import uuid
from podc._record import record
from podc.check.documents import POD_TEMPLATE_PATHS, Document, resolve

__all__ = ["Admitted", "admitted_objects", "JOB_CONTROLLER_USER", "CLIENT_USER", "request_object"]

JOB_CONTROLLER_USER = {"username": "system:serviceaccount:kube-system:job-controller",
                       "uid": "", "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system",
                                             "system:authenticated"]}
CLIENT_USER = {"username": "podc:offline-check", "uid": "", "groups": ["system:authenticated"]}


@record
class Admitted:
    kind: str
    object: dict
    prefix: str          # JSON pointer, in the document, of what this object was made from ("" = itself)
    generated_name: bool
    user: dict
    note: str | None     # how the object came about, for the violation's hint


def _uid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "podc:" + "/".join(parts)))


def _own(parent: dict, key: str) -> dict:
    """``parent[key]`` as a fresh shallow copy (a new dict when absent): defaults are written on
    copies of exactly the containers they touch, never on the checked document."""
    value = parent.get(key)
    copied = dict(value) if isinstance(value, dict) else {}
    parent[key] = copied
    return copied


def admitted_objects(doc: Document, default_namespace: str) -> list[Admitted]:
    manifest = dict(doc.manifest)
    meta = _own(manifest, "metadata")
    meta.setdefault("namespace", default_namespace)
    kind = doc.kind
    out = [Admitted(kind, manifest, "", False, CLIENT_USER, None)]
    if kind == "Job":
        _default_job(manifest)
        out.append(_pod_from(manifest, "/spec/template", "Job", JOB_CONTROLLER_USER,
                             "evaluated on the Pod the Job controller creates from spec.template"))
    elif kind == "CronJob":
        job_template = resolve(manifest, "/spec/jobTemplate")
        if isinstance(job_template, dict):
            job = _job_from_cronjob(manifest, job_template)
            out.append(Admitted("Job", job, "/spec/jobTemplate", True, _controller("cronjob-controller"),
                                "evaluated on the Job the CronJob controller creates from spec.jobTemplate"))
            out.append(_pod_from(job, "/spec/jobTemplate/spec/template", "Job", JOB_CONTROLLER_USER,
                                 "evaluated on the Pod created for the CronJob's Job", template_path="/spec/template"))
    elif kind != "Pod" and kind in POD_TEMPLATE_PATHS:
        path = POD_TEMPLATE_PATHS[kind]
        out.append(_pod_from(manifest, path, kind, _controller(f"{kind.lower()}-controller"),
                             f"evaluated on a Pod created from {path[1:].replace('/', '.')}"))
    for item in out:
        if item.kind == "Pod":
            _default_pod(item.object)
    return out


def _controller(name: str) -> dict:
    return {"username": f"system:serviceaccount:kube-system:{name}", "uid": "",
            "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"]}


def _job_from_cronjob(cron: dict, template: dict) -> dict:
    name = f"{cron['metadata'].get('name', 'cronjob')}-29000000"  # the controller suffixes the scheduled minute
    tmeta = template.get("metadata") if isinstance(template.get("metadata"), dict) else {}
    job = {"apiVersion": "batch/v1", "kind": "Job",
           "metadata": {**tmeta, "name": name, "namespace": cron["metadata"]["namespace"],
                        "ownerReferences": [_owner("batch/v1", "CronJob", cron)]},
           "spec": dict(template["spec"]) if isinstance(template.get("spec"), dict) else {}}
    _default_job(job)
    return job


def _owner(api_version: str, kind: str, owner: dict) -> dict:
    name = owner["metadata"].get("name", "")
    return {"apiVersion": api_version, "kind": kind, "name": name, "uid": _uid(kind, name),
            "controller": True, "blockOwnerDeletion": True}


def _default_job(job: dict) -> None:
    if not isinstance(job.get("spec", {}), dict):
        return
    spec = _own(job, "spec")
    if "completions" not in spec and "parallelism" not in spec:
        spec["completions"] = spec["parallelism"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    name = job["metadata"].get("name", "")
    uid = _uid("Job", name)
    labels = {"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name,
              "controller-uid": uid, "job-name": name}
    spec.setdefault("selector", {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
    if isinstance(spec.get("template"), dict):
        template = _own(spec, "template")
        if isinstance(template.get("metadata", {}), dict):
            tmeta = _own(template, "metadata")
            tmeta["labels"] = {**(tmeta.get("labels") or {}), **labels}


def _pod_from(owner: dict, path: str, owner_kind: str, user: dict, note: str,
              template_path: str | None = None) -> Admitted:
    template = resolve(owner, template_path or path)
    template = template if isinstance(template, dict) else {}
    tmeta = template.get("metadata") if isinstance(template.get("metadata"), dict) else {}
    owner_name = owner["metadata"].get("name", "")
    meta: dict = dict(tmeta)
    meta.pop("name", None)
    meta["generateName"] = f"{owner_name}-"
    meta["name"] = f"{owner_name}-podc0"
    meta["namespace"] = owner["metadata"].get("namespace")
    api_version = owner.get("apiVersion") if isinstance(owner.get("apiVersion"), str) else "v1"
    meta["ownerReferences"] = [_owner(api_version, owner_kind, owner)]
    if owner_kind == "Job" and (owner.get("spec") or {}).get("completionMode") == "Indexed":
        meta["annotations"] = {**(meta.get("annotations") or {}), "batch.kubernetes.io/job-completion-index": "0"}
        meta["labels"] = {**(meta.get("labels") or {}), "batch.kubernetes.io/job-completion-index": "0"}
    spec = dict(template["spec"]) if isinstance(template.get("spec"), dict) else {}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}
    return Admitted("Pod", pod, path, True, user, note)


def _default_pod(pod: dict) -> None:
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        return
    for key, value in (("restartPolicy", "Always"), ("dnsPolicy", "ClusterFirst"),
                       ("schedulerName", "default-scheduler"), ("terminationGracePeriodSeconds", 30),
                       ("securityContext", {}), ("enableServiceLinks", True), ("serviceAccountName", "default")):
        spec.setdefault(key, value)
    for key in ("initContainers", "containers", "ephemeralContainers"):
        if isinstance(spec.get(key), list):
            spec[key] = [_default_container(dict(c)) if isinstance(c, dict) else c for c in spec[key]]


def _default_container(c: dict) -> dict:
    image = c.get("image") if isinstance(c.get("image"), str) else ""
    if "imagePullPolicy" not in c:
        name = image.split("@", 1)[0]
        tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else ""
        c["imagePullPolicy"] = "Always" if "@" not in image and tag in ("", "latest") else "IfNotPresent"
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    if isinstance(c.get("ports"), list):
        c["ports"] = [{"protocol": "TCP", **p} if isinstance(p, dict) else p for p in c["ports"]]
    resources = c.get("resources")
    if isinstance(resources, dict) and isinstance(resources.get("limits"), dict) \
            and isinstance(resources.get("requests", {}), dict):
        resources = _own(c, "resources")
        resources["requests"] = {**resources["limits"], **(resources.get("requests") or {})}
    return c


def request_object(item: Admitted, group: str, version: str, resource: str, namespace: str) -> dict:
    """The CEL ``request`` variable (an admission.k8s.io/v1 AdmissionRequest without the objects)."""
    gvk = {"group": group, "version": version, "kind": item.kind}
    gvr = {"group": group, "version": version, "resource": resource}
    name = "" if item.generated_name else (item.object.get("metadata") or {}).get("name", "")
    return {"uid": "", "kind": gvk, "resource": gvr, "subResource": "", "requestKind": gvk, "requestResource": gvr,
            "requestSubResource": "", "name": name, "namespace": namespace, "operation": "CREATE",
            "userInfo": item.user, "dryRun": False,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}}
