"""Friendly ``volumes`` (one source each, plus where to mount it) and ``secrets``.

A volume's source is a tagged union chosen by WHICH source key the mapping sets: a volume with
two sources (or none) cannot validate; it is the custom error ``podc_volume_source``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import ConfigDict, create_model, model_validator
from pydantic_core import PydanticCustomError

from podc.model.constants import PASS_THROUGH_SOURCES, TYPED_SOURCES_NAMES, VOLUME_SOURCES
from podc.model.common import Base, EnvName, FileMode, NameStr, Plain, Quantity, one_of_keys, tagged
from podc.model.kube import KeyToPath, LocalRef

__all__ = ["VOLUME_SOURCES", "TYPED_SOURCES", "Mount", "FriendlyVolume", "SecretEntry"]


class EmptyDirSource(Base):
    medium: Literal["", "Memory"] | None = None
    sizeLimit: Quantity | None = None


class ConfigMapSource(Base):
    name: str
    items: list[KeyToPath] | None = None
    defaultMode: FileMode | None = None
    optional: bool | None = None


class SecretSource(Base):
    secretName: str
    items: list[KeyToPath] | None = None
    defaultMode: FileMode | None = None
    optional: bool | None = None


class PersistentVolumeClaimSource(Base):
    claimName: str
    readOnly: bool | None = None


class ProjectedSource(Base):
    sources: list[Plain]
    defaultMode: FileMode | None = None


class CSISource(Base):
    driver: str
    readOnly: bool | None = None
    fsType: str | None = None
    volumeAttributes: dict[str, str] | None = None
    nodePublishSecretRef: LocalRef | None = None


class EphemeralSource(Base):
    volumeClaimTemplate: Plain


class HostPathSource(Base):
    path: str
    type: Literal["", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice",
                  "BlockDevice"] | None = None


TYPED_SOURCES: dict[str, Any] = {
    "emptyDir": EmptyDirSource | None,  # `emptyDir:` with no value means `emptyDir: {}`
    "configMap": ConfigMapSource,
    "secret": SecretSource,
    "persistentVolumeClaim": PersistentVolumeClaimSource,
    "projected": ProjectedSource,
    "csi": CSISource,
    "ephemeral": EphemeralSource,
    "hostPath": HostPathSource,
}

if tuple(TYPED_SOURCES) != TYPED_SOURCES_NAMES:  # the pydantic-free list must name the same sources
    raise AssertionError("podc.model.constants.TYPED_SOURCES_NAMES is out of date")



class Mount(Base):
    """One more place to mount a volume (``mounts:``); ``container`` defaults to the main one."""

    mountPath: str
    subPath: str | None = None
    readOnly: bool | None = None
    container: NameStr | None = None


class VolumeCommon(Base):
    mountPath: str | None = None
    readOnly: bool | None = None
    subPath: str | None = None
    mounts: list[Mount] | None = None


def _variant(source: str, annotation: Any) -> Any:
    model = create_model(f"{source[0].upper()}{source[1:]}Volume", __base__=VolumeCommon,
                         __module__=__name__, **{source: (annotation, ...)})
    return tagged(model, source)


_VARIANTS = tuple(_variant(s, TYPED_SOURCES.get(s, Plain)) for s in VOLUME_SOURCES)

#: ``volumes.<name>``: exactly one source, optionally where to mount it.
FriendlyVolume = Annotated[
    Union[_VARIANTS],  # type: ignore[valid-type]
    one_of_keys(VOLUME_SOURCES, fallback="emptyDir", what="a volume", error="podc_volume_source"),
]


class SecretEnvFrom(Base):
    prefix: str | None = None


class SecretEntry(Base):
    """``secrets.<secretName>``: mount a Secret as files and/or expose keys as env vars.

    Only the Secret's NAME and keys appear in a layer, never its values.
    """

    mountPath: str | None = None
    readOnly: bool | None = None
    items: list[KeyToPath] | None = None
    defaultMode: FileMode | None = None
    optional: bool | None = None
    env: dict[EnvName, str] | None = None
    envFrom: bool | SecretEnvFrom | None = None

    model_config = ConfigDict(json_schema_extra={"x-podc-check": "secret-entry"})

    @model_validator(mode="after")
    def _used(self) -> "SecretEntry":
        if self.mountPath is None and not self.env and self.envFrom is None:
            raise PydanticCustomError("podc_secret_unused",
                                      "a secret entry needs mountPath (files), env (keys as variables) or envFrom")
        if self.mountPath is None and (self.items is not None or self.defaultMode is not None):
            raise PydanticCustomError("podc_secret_unused", "items and defaultMode need a mountPath")
        return self
