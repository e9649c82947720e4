"""Valid layers validate into typed specs; every documented field is accepted."""

from podc.model import LayerSpec

FULL_LAYER = """\
apiVersion: podc/v1
kind: Layer
extends: [../base.yaml]
name: train
namespace: ml
container: trainer
image: registry.example.com/train:1.4
imagePullPolicy: IfNotPresent
command: [python, -m, train]
args: [--epochs, 5, --lr, 0.1, --fast, true]
workingDir: /work
ports: [{containerPort: 8080, name: metrics}]
env:
  PLAIN: text
  NUMBER: 3
  LITERAL: {value: x}
  FROM: {valueFrom: {fieldRef: {fieldPath: metadata.name}}}
  SECRET: {secretKeyRef: {name: db, key: password, optional: true}}
  CONFIG: {configMapKeyRef: {name: cfg, key: mode}}
  FIELD: {fieldRef: {fieldPath: status.podIP}}
  RES: {resourceFieldRef: {resource: limits.cpu, divisor: 1m}}
  GONE: null
envFrom: [{configMapRef: {name: common}}, {prefix: X_, secretRef: {name: s}}]
resources:
  requests: {cpu: 500m, memory: 1Gi, ephemeral-storage: 2Gi}
  limits: {memory: 2Gi, nvidia.com/gpu: 1}
securityContext: {runAsUser: 1000, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}}
secrets:
  db: {mountPath: /etc/db, items: [{key: password, path: pw}], defaultMode: 0o400, env: {DB_PASSWORD: password}}
  api.token: {envFrom: {prefix: API_}, optional: true}
volumes:
  scratch: {emptyDir: {sizeLimit: 10Gi, medium: Memory}, mountPath: /scratch}
  cfg: {configMap: {name: cfg}, mountPath: /etc/cfg, readOnly: true}
  data: {persistentVolumeClaim: {claimName: data}, mounts: [{mountPath: /data}, {mountPath: /in, container: fetch}]}
  creds: {secret: {secretName: creds}, mountPath: /creds}
  proj: {projected: {sources: [{serviceAccountToken: {path: token}}]}, mountPath: /proj}
  csi: {csi: {driver: x.csi.k8s.io, volumeAttributes: {a: b}}, mountPath: /csi}
  eph: {ephemeral: {volumeClaimTemplate: {spec: {accessModes: [ReadWriteOnce]}}}, mountPath: /eph}
  host: {hostPath: {path: /var/log, type: Directory}, mountPath: /host}
  nfs: {nfs: {server: nfs.local, path: /export}, mountPath: /nfs}
  old: null
labels: {team: ml, version: 2}
annotations: {note: hi}
jobLabels: {kind: batch}
jobAnnotations: {a: b}
podLabels: {p: q}
podAnnotations: {c: d}
nodeSelector: {pool: gpu}
affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: []}}}
tolerations: [{key: gpu, operator: Exists, effect: NoSchedule}]
topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway}]
podSecurityContext: {runAsNonRoot: true, fsGroup: 1000}
serviceAccountName: trainer
automountServiceAccountToken: false
imagePullSecrets: [regcred, {name: other}]
priorityClassName: batch-low
schedulerName: default-scheduler
restartPolicy: Never
hostAliases: [{ip: 10.0.0.1, hostnames: [db.local]}]
dnsPolicy: ClusterFirst
terminationGracePeriodSeconds: 30
initContainers:
  fetch: {image: busybox, command: [sh, -c, true], env: {A: 1}, volumeMounts: [{name: data, mountPath: /d}]}
sidecars:
  proxy: {image: envoy, readinessProbe: {httpGet: {path: /ready, port: 8080}}}
backoffLimit: 3
activeDeadlineSeconds: 3600
ttlSecondsAfterFinished: 600
podFailurePolicy: {rules: [{action: FailJob, onExitCodes: {operator: In, values: [42]}}]}
parallelism: 2
completions: 4
completionMode: Indexed
suspend: false
backoffLimitPerIndex: 1
maxFailedIndexes: 2
podReplacementPolicy: Failed
raw:
  job: {metadata: {labels: {x: y}}}
  jobSpec: {manualSelector: false}
  podSpec: {hostNetwork: false}
  container: {stdin: false}
exceptions:
  - {policy: pss, rule: runAsNonRoot, reason: legacy image, targets: [train], expires: 2027-01-31}
"""


def test_every_field_validates(layer):
    spec, diags = layer(FULL_LAYER)
    assert diags == []
    assert isinstance(spec, LayerSpec)
    assert spec.container == "trainer"
    assert spec.resources.limits["nvidia.com/gpu"] == 1
    assert spec.volumes["old"] is None
    assert set(spec.volumes) >= {"scratch", "nfs", "host"}
    assert spec.raw.podSpec == {"hostNetwork": False}


def test_every_layer_field_is_exercised():
    """The fixture above must grow with the model, so new fields get a validation test."""
    import re

    used = set(re.findall(r"^([A-Za-z]+):", FULL_LAYER, re.M))
    assert used == set(LayerSpec.model_fields)


def test_empty_layer_is_valid(layer):
    spec, diags = layer("{}\n")
    assert diags == [] and spec is not None


def test_integer_quantities_and_float_quantities(layer):
    spec, diags = layer("resources: {requests: {cpu: 2, memory: 1.5}}\n")
    assert diags == [] and spec.resources.requests == {"cpu": 2, "memory": 1.5}
