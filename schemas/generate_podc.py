"""Generate ``schemas/podc-v1.json``: the JSON Schema of podc/v1 layer and project files.

The schema is derived from the pydantic models in ``podc.model`` (the single source of truth),
with a short description added to every top-level field. Output is deterministic (sorted keys,
indent 2), so the checked-in file only changes when the models do; ``tests/model`` fails when it
is stale.

    python schemas/generate_podc.py          # rewrite schemas/podc-v1.json
    python schemas/generate_podc.py --check  # exit 1 if the file is out of date
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

SCHEMA_ID = "urn:podc:schema:podc-v1"
OUTPUT = Path(__file__).resolve().parent / "podc-v1.json"

LAYER_FIELDS = {
    "apiVersion": "Format version; `podc/v1` when set.",
    "kind": "`Layer` when set.",
    "extends": "Layer file(s) (paths relative to this file) applied before this one.",
    "name": "The Job's name (metadata.name).",
    "namespace": "The Job's namespace (metadata.namespace).",
    "container": "Name of the main container (default `main`).",
    "image": "Main container image, e.g. `registry.example.com/train:1.4@sha256:…`.",
    "imagePullPolicy": "Always, IfNotPresent or Never.",
    "command": "Main container entrypoint (replaces the image's ENTRYPOINT).",
    "args": "Main container arguments; numbers are converted to strings.",
    "workingDir": "Main container working directory.",
    "ports": "Main container ports (Kubernetes ContainerPort list).",
    "env": "Environment variables: a mapping NAME: value | {value|valueFrom|secretKeyRef|configMapKeyRef|"
           "fieldRef|resourceFieldRef: …} (NAME: null deletes), or the Kubernetes env list.",
    "envFrom": "Kubernetes envFrom list (configMapRef / secretRef, optional prefix).",
    "resources": "requests / limits of the main container; values are Kubernetes quantities.",
    "securityContext": "Main container securityContext.",
    "secrets": "Secrets by name: mount as files (mountPath) and/or expose keys as env vars (env, envFrom).",
    "volumes": "Volumes by name: exactly one source (emptyDir, configMap, secret, persistentVolumeClaim, …) "
               "and where to mount it (mountPath, or mounts for several places / containers).",
    "labels": "Labels for the Job AND its pod template.",
    "annotations": "Annotations for the Job AND its pod template.",
    "jobLabels": "Labels for the Job only.",
    "jobAnnotations": "Annotations for the Job only.",
    "podLabels": "Labels for the pod template only.",
    "podAnnotations": "Annotations for the pod template only.",
    "nodeSelector": "Pod nodeSelector.",
    "affinity": "Pod affinity (nodeAffinity, podAffinity, podAntiAffinity).",
    "tolerations": "Pod tolerations; later layers add to them.",
    "topologySpreadConstraints": "Pod topologySpreadConstraints.",
    "podSecurityContext": "The pod's securityContext.",
    "serviceAccountName": "Pod service account.",
    "automountServiceAccountToken": "Mount the service account token into the pod.",
    "imagePullSecrets": "Pull secrets: names, or {name: …}.",
    "priorityClassName": "Pod priority class.",
    "schedulerName": "Pod scheduler.",
    "restartPolicy": "Never or OnFailure (Jobs allow only these).",
    "hostAliases": "Extra /etc/hosts entries.",
    "dnsPolicy": "Pod DNS policy.",
    "terminationGracePeriodSeconds": "Seconds the pod gets to stop.",
    "initContainers": "Init containers by name (run to completion, in order, before the main container).",
    "sidecars": "Native sidecars by name (init containers with restartPolicy: Always; Kubernetes >= 1.29).",
    "backoffLimit": "Job: retries before the Job fails.",
    "activeDeadlineSeconds": "Job: wall-clock limit for the whole Job.",
    "ttlSecondsAfterFinished": "Job: delete the finished Job after this many seconds.",
    "podFailurePolicy": "Job: rules for pod failures (FailJob, FailIndex, Ignore, Count).",
    "parallelism": "Job: pods running at once.",
    "completions": "Job: successful pods needed.",
    "completionMode": "Job: NonIndexed or Indexed.",
    "suspend": "Job: create suspended.",
    "backoffLimitPerIndex": "Job (Indexed): retries per index.",
    "maxFailedIndexes": "Job (Indexed): failed indexes tolerated.",
    "podReplacementPolicy": "Job: TerminatingOrFailed or Failed.",
    "raw": "Escape hatch: Kubernetes-shaped fragments (job, jobSpec, podSpec, container) applied as "
           "strategic merge patches after the friendly fields.",
    "exceptions": "Accepted policy violations: {policy, rule, reason, targets?, expires?}.",
}

PROJECT_FIELDS = {
    "apiVersion": "Format version; `podc/v1` when set.",
    "kind": "`Project`.",
    "kubernetesVersion": 'Target Kubernetes minor version, e.g. "1.33" (quoted).',
    "output": "Directory for compiled manifests (default `build`).",
    "namespace": "Default namespace for every target.",
    "layers": "Named layer files (name: relative path), in precedence order.",
    "profiles": "Named lists of layers (names or paths), e.g. dev / prod.",
    "defaultProfile": "Profile used when none is given on the command line.",
    "targets": "The Jobs to compile: {layers, file?, overrides?, profiles?}.",
    "policies": "podc check settings: pss, bestPractices, custom, admission, exceptions, exceptionFiles, layerExceptions, "
                "exceptionExpiry, failOn.",
    "allowedRoots": "Folders outside the project (name: path relative to podc.yaml) that layer, file: and "
                    "extends paths may reach; by default every path stays inside the project folder.",
    "images": "Image overrides (as kustomize's images:): [{name, newName?, newTag?, digest?}].",
}


def build_schema() -> dict[str, Any]:
    from pydantic.json_schema import models_json_schema

    from podc.model import LayerSpec, ProjectSpec

    _, top = models_json_schema([(LayerSpec, "validation"), (ProjectSpec, "validation")],
                                ref_template="#/$defs/{model}")
    defs = top["$defs"]
    _describe(defs["LayerSpec"], LAYER_FIELDS)
    _describe(defs["ProjectSpec"], PROJECT_FIELDS)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "podc/v1 layer or project file",
        "description": "A podc layer (kind: Layer, the default) or a project file (kind: Project).",
        "if": {"properties": {"kind": {"const": "Project"}}, "required": ["kind"]},
        "then": {"$ref": "#/$defs/ProjectSpec"},
        "else": {"$ref": "#/$defs/LayerSpec"},
        "$defs": defs,
    }


def _describe(model_schema: dict[str, Any], descriptions: dict[str, str]) -> None:
    for name, prop in model_schema.get("properties", {}).items():
        if name in descriptions:
            prop["description"] = descriptions[name]
        if "default" in prop and prop["default"] is None:
            del prop["default"]  # "default: null" only says the field is optional


def render() -> str:
    return json.dumps(build_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is stale; run: python schemas/generate_podc.py", file=sys.stderr)
            return 1
        return 0
    fd, tmp = tempfile.mkstemp(dir=OUTPUT.parent, prefix=".podc-v1.", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600: a shipped schema must be readable by all
    os.replace(tmp, OUTPUT)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
