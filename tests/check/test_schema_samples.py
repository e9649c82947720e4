"""Valid sample objects of every kind podc checks (shared by the schema tests; no tests here)."""

from __future__ import annotations

import copy

_POD_SPEC = {
    "restartPolicy": "Never",
    "serviceAccountName": "runner",
    "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}},
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["batch"]}]}]}}},
    "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                   "whenUnsatisfiable": "ScheduleAnyway",
                                   "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "train"}}}],
    "initContainers": [{"name": "fetch", "image": "busybox:1.36", "command": ["sh", "-c", "true"]}],
    "containers": [{
        "name": "main",
        "image": "ghcr.io/org/train:1.2.3",
        "imagePullPolicy": "IfNotPresent",
        "command": ["python", "-m", "train"],
        "args": ["--epochs", "3"],
        "env": [
            {"name": "FOO", "value": "1"},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "tok", "key": "t"}}},
        ],
        "envFrom": [{"configMapRef": {"name": "settings"}}],
        "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": 2, "memory": "2Gi"}},
        "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "tmp", "mountPath": "/tmp"}],
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
        "ports": [{"containerPort": 8080, "name": "metrics", "protocol": "TCP"}],
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "metrics"}, "periodSeconds": 10},
    }],
    "volumes": [
        {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}},
    ],
}
_LABELS = {"app.kubernetes.io/name": "train", "team": "ml"}
_META = {"name": "train-model-1", "namespace": "ml", "labels": _LABELS,
         "annotations": {"podc.dev/source": "layers/base.yaml"}}


def _template(restart: str) -> dict:
    spec = copy.deepcopy(_POD_SPEC)
    spec["restartPolicy"] = restart
    return {"metadata": {"labels": dict(_LABELS)}, "spec": spec}


def job() -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": copy.deepcopy(_META),
            "spec": {"backoffLimit": 0, "ttlSecondsAfterFinished": 86400, "activeDeadlineSeconds": 3600,
                     "template": _template("Never")}}


def pod() -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": copy.deepcopy(_META), "spec": copy.deepcopy(_POD_SPEC)}


def cronjob() -> dict:
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": copy.deepcopy(_META),
            "spec": {"schedule": "*/15 * * * *", "concurrencyPolicy": "Forbid", "successfulJobsHistoryLimit": 3,
                     "jobTemplate": {"metadata": {"labels": dict(_LABELS)},
                                     "spec": {"backoffLimit": 2, "template": _template("OnFailure")}}}}


def controller(kind: str) -> dict:
    spec = {"selector": {"matchLabels": dict(_LABELS)}, "template": _template("Always")}
    if kind != "DaemonSet":
        spec["replicas"] = 2
    if kind == "StatefulSet":
        spec["serviceName"] = "train"
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": copy.deepcopy(_META), "spec": spec}


def pod_template() -> dict:
    return {"apiVersion": "v1", "kind": "PodTemplate", "metadata": copy.deepcopy(_META), "template": _template("Never")}


def replication_controller() -> dict:
    return {"apiVersion": "v1", "kind": "ReplicationController", "metadata": copy.deepcopy(_META),
            "spec": {"replicas": 1, "selector": dict(_LABELS), "template": _template("Always")}}


def all_samples() -> list[dict]:
    return [job(), pod(), cronjob()] + [controller(k) for k in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")] + [
        pod_template(), replication_controller()]
