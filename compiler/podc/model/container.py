"""Friendly container fields: ``env`` in its map or list form, init containers and sidecars."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator

from podc.model.common import Base, EnvName, Plain, Scalar, tag, tagged
from podc.model.kube import (
    VALUE_FROM_KEYS,
    ContainerPort,
    EnvFromSource,
    EnvVar,
    EnvVarSource,
    FieldSelector,
    KeySelector,
    ResourceFieldSelector,
    Resources,
    SecurityContext,
    VolumeMount,
)

__all__ = ["ENV_FORMS", "Env", "FriendlyEnvValue", "ContainerFields", "InitContainer", "Sidecar", "by_shape"]

#: The keys a friendly env entry may use (exactly one of them).
ENV_FORMS = ("value", "valueFrom") + VALUE_FROM_KEYS


class FriendlyEnvLiteral(Base):
    value: Scalar | None


class FriendlyEnvValueFrom(Base):
    valueFrom: EnvVarSource


class FriendlyEnvSecretKeyRef(Base):
    secretKeyRef: KeySelector


class FriendlyEnvConfigMapKeyRef(Base):
    configMapKeyRef: KeySelector


class FriendlyEnvFieldRef(Base):
    fieldRef: FieldSelector


class FriendlyEnvResourceFieldRef(Base):
    resourceFieldRef: ResourceFieldSelector


def _env_value_kind(value: Any) -> str | None:
    if not isinstance(value, dict):
        return tag("scalar")
    present = [k for k in value if k in ENV_FORMS]
    return tag(present[0]) if len(present) == 1 else None


#: ``NAME: value`` or ``NAME: {value|valueFrom|secretKeyRef|configMapKeyRef|fieldRef|resourceFieldRef: …}``.
FriendlyEnvValue = Annotated[
    Union[
        tagged(Scalar, "scalar"),
        tagged(FriendlyEnvLiteral, "value"),
        tagged(FriendlyEnvValueFrom, "valueFrom"),
        tagged(FriendlyEnvSecretKeyRef, "secretKeyRef"),
        tagged(FriendlyEnvConfigMapKeyRef, "configMapKeyRef"),
        tagged(FriendlyEnvFieldRef, "fieldRef"),
        tagged(FriendlyEnvResourceFieldRef, "resourceFieldRef"),
    ],
    Discriminator(_env_value_kind, custom_error_type="podc_env_form",
                  custom_error_message="an env entry is a value or a mapping with exactly one of "
                                       + ", ".join(ENV_FORMS)),
]


def by_shape(mapping: Any, sequence: Any, error: str, message: str) -> Any:
    """A union of a mapping form and a list form, chosen by the input's shape (one error, not two)."""

    def pick(value: Any) -> str | None:
        if isinstance(value, dict):
            return tag("map")
        if isinstance(value, list):
            return tag("list")
        return None

    return Annotated[Union[tagged(mapping, "map"), tagged(sequence, "list")],
                     Discriminator(pick, custom_error_type=error, custom_error_message=message)]


#: ``env`` as a mapping in source order (``NAME: null`` deletes) or as the Kubernetes list.
Env = by_shape(dict[EnvName, FriendlyEnvValue | None], list[EnvVar], "podc_env_shape",
               "expected a mapping NAME: value, or a Kubernetes env list (- name: NAME, value: …)")


class ContainerFields(Base):
    """The fields a layer may set on any container it describes."""

    image: str | None = None
    imagePullPolicy: Literal["Always", "IfNotPresent", "Never"] | None = None
    command: list[Scalar] | None = None
    args: list[Scalar] | None = None
    workingDir: str | None = None
    ports: list[ContainerPort] | None = None
    env: Env | None = None
    envFrom: list[EnvFromSource] | None = None
    resources: Resources | None = None
    securityContext: SecurityContext | None = None


class InitContainer(ContainerFields):
    """``initContainers.<name>``: runs to completion before the main container starts."""

    volumeMounts: list[VolumeMount] | None = None


class Sidecar(InitContainer):
    """``sidecars.<name>``: a native sidecar (an init container with ``restartPolicy: Always``)."""

    startupProbe: Plain | None = None
    readinessProbe: Plain | None = None
    livenessProbe: Plain | None = None
    lifecycle: Plain | None = None
