"""The podc/v1 layer: the friendly fields a layer file may hold, and the raw escape hatch."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Discriminator
from pydantic_core import PydanticCustomError

from podc.model.common import Base, Count32, FastCheck, NameStr, Seconds64, Plain, StrMap, SubdomainStr, tagged
from podc.model.container import ContainerFields, InitContainer, Sidecar
from podc.model.kube import (
    Affinity,
    HostAlias,
    LocalRef,
    PodFailurePolicy,
    PodSecurityContext,
    Toleration,
    TopologySpreadConstraint,
)
from podc.model.rules import DATE
from podc.model.volumes import FriendlyVolume, SecretEntry

__all__ = ["LayerSpec", "Raw", "PolicyException", "LAYER_API_VERSION", "JOB_CONTROLS", "POD_FIELDS",
           "CONTAINER_FIELDS"]

LAYER_API_VERSION = "podc/v1"


def _date(value: str) -> str:
    import datetime

    if not DATE.match(value):
        raise PydanticCustomError("podc_date", "expected a date written YYYY-MM-DD, got {got}", {"got": repr(value)})
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("podc_date", "{got} is not a calendar date", {"got": repr(value)}) from None
    return value


def _non_empty(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("podc_empty", "must not be empty: say why the exception is acceptable")
    return value


class PolicyException(Base):
    """An accepted policy violation, with the reason (``podc check`` honours it until ``expires``)."""

    policy: str
    rule: str
    targets: list[str] | None = None
    reason: Annotated[str, AfterValidator(_non_empty), FastCheck("non-empty")]
    expires: Annotated[str, AfterValidator(_date), FastCheck("date")] | None = None


class Raw(Base):
    """Kubernetes-shaped fragments applied after the friendly fields, as strategic-merge patches."""

    job: Plain | None = None
    jobSpec: Plain | None = None
    podSpec: Plain | None = None
    container: Plain | None = None


def _pull_secret_kind(value: Any) -> str:
    return "<name>" if isinstance(value, str) else "<ref>"


PullSecret = Annotated[
    tagged(str, "name") | tagged(LocalRef, "ref"),
    Discriminator(_pull_secret_kind),
]


class LayerSpec(ContainerFields):
    """A podc/v1 layer. Container fields (image, env, …) describe the main container."""

    apiVersion: Literal["podc/v1"] | None = None
    kind: Literal["Layer"] | None = None
    extends: str | list[str] | None = None

    name: SubdomainStr | None = None
    namespace: NameStr | None = None
    container: NameStr | None = None

    secrets: dict[SubdomainStr, SecretEntry | None] | None = None
    volumes: dict[NameStr, FriendlyVolume | None] | None = None

    labels: StrMap | None = None
    annotations: StrMap | None = None
    jobLabels: StrMap | None = None
    jobAnnotations: StrMap | None = None
    podLabels: StrMap | None = None
    podAnnotations: StrMap | None = None

    nodeSelector: StrMap | None = None
    affinity: Affinity | None = None
    tolerations: list[Toleration] | None = None
    topologySpreadConstraints: list[TopologySpreadConstraint] | None = None
    podSecurityContext: PodSecurityContext | None = None
    serviceAccountName: str | None = None
    automountServiceAccountToken: bool | None = None
    imagePullSecrets: list[PullSecret] | None = None
    priorityClassName: str | None = None
    schedulerName: str | None = None
    restartPolicy: Literal["Never", "OnFailure"] | None = None
    hostAliases: list[HostAlias] | None = None
    dnsPolicy: Literal["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"] | None = None
    terminationGracePeriodSeconds: Seconds64 | None = None

    initContainers: dict[NameStr, InitContainer | None] | None = None
    sidecars: dict[NameStr, Sidecar | None] | None = None

    backoffLimit: Count32 | None = None
    activeDeadlineSeconds: Seconds64 | None = None
    ttlSecondsAfterFinished: Count32 | None = None
    podFailurePolicy: PodFailurePolicy | None = None
    parallelism: Count32 | None = None
    completions: Count32 | None = None
    completionMode: Literal["NonIndexed", "Indexed"] | None = None
    suspend: bool | None = None
    backoffLimitPerIndex: Count32 | None = None
    maxFailedIndexes: Count32 | None = None
    podReplacementPolicy: Literal["TerminatingOrFailed", "Failed"] | None = None

    raw: Raw | None = None
    exceptions: list[PolicyException] | None = None


#: Layer fields that become JobSpec fields of the same name.
JOB_CONTROLS = ("backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished", "podFailurePolicy",
                "parallelism", "completions", "completionMode", "suspend", "backoffLimitPerIndex",
                "maxFailedIndexes", "podReplacementPolicy")

#: Layer fields that become PodSpec fields of the same name (in layer order).
POD_FIELDS = ("nodeSelector", "affinity", "tolerations", "topologySpreadConstraints", "serviceAccountName",
              "automountServiceAccountToken", "priorityClassName", "schedulerName", "restartPolicy",
              "hostAliases", "dnsPolicy", "terminationGracePeriodSeconds")

#: Layer fields that become fields of the main container.
CONTAINER_FIELDS = tuple(ContainerFields.model_fields)
