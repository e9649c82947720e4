"""Names the podc/v1 formats fix, importable without pydantic (normalisation and the fast gate use
them on every compile; the models in this package are built from them)."""

from __future__ import annotations

__all__ = ["KEYED_LISTS", "TYPED_SOURCES_NAMES", "PASS_THROUGH_SOURCES", "VOLUME_SOURCES", "is_path_like"]

#: Lists whose items are matched by a key when layers merge, so an item may carry ``$patch: delete``.
KEYED_LISTS = frozenset({
    "tolerations", "envFrom", "imagePullSecrets", "ports", "hostAliases", "topologySpreadConstraints", "env",
    "volumeMounts", "mounts", "containers", "initContainers", "ephemeralContainers", "volumes",
    "schedulingGates", "resourceClaims", "volumeDevices",
})

#: Volume sources the models type field by field (``podc.model.volumes.TYPED_SOURCES``, same order).
TYPED_SOURCES_NAMES = ("emptyDir", "configMap", "secret", "persistentVolumeClaim", "projected", "csi",
                       "ephemeral", "hostPath")

#: Other Kubernetes volume sources, passed through as written (the schema check validates them).
PASS_THROUGH_SOURCES = (
    "awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "downwardAPI", "fc", "flexVolume",
    "flocker", "gcePersistentDisk", "gitRepo", "glusterfs", "image", "iscsi", "nfs", "photonPersistentDisk",
    "portworxVolume", "quobyte", "rbd", "scaleIO", "storageos", "vsphereVolume",
)

VOLUME_SOURCES = TYPED_SOURCES_NAMES + PASS_THROUGH_SOURCES


def is_path_like(entry: str) -> bool:
    """A layer reference that is a file path rather than a name from ``layers:``."""
    return "/" in entry or "\\" in entry or entry.endswith((".yaml", ".yml", ".json"))
