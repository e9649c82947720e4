"""Kubernetes-shaped parts a podc layer writes as Kubernetes does (same field names, same nesting).

These are validated strictly enough to catch typos and wrong types at the source line; the full
OpenAPI schema check of the rendered Job happens later in ``podc check``. Deep structures that
users copy from Kubernetes docs verbatim (affinity terms, label selectors, projected sources) are
passed through as mappings.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field

from podc.model.common import Base, EnvName, FileMode, Int32, Int64, Port, NameStr, Plain, Quantity, Scalar, tag, tagged, one_of_keys

__all__ = [
    "KeySelector", "FieldSelector", "ResourceFieldSelector", "EnvVarSource", "EnvVar", "EnvFromSource",
    "ContainerPort", "Resources", "SecurityContext", "PodSecurityContext", "Toleration", "Affinity",
    "TopologySpreadConstraint", "HostAlias", "PodFailurePolicy", "KeyToPath", "VolumeMount", "LocalRef",
]


class LocalRef(Base):
    name: str


class KeySelector(Base):
    """secretKeyRef / configMapKeyRef."""

    name: str
    key: str
    optional: bool | None = None


class FieldSelector(Base):
    fieldPath: str
    apiVersion: str | None = None


class ResourceFieldSelector(Base):
    resource: str
    containerName: str | None = None
    divisor: Quantity | None = None


class ValueFromSecretKeyRef(Base):
    secretKeyRef: KeySelector


class ValueFromConfigMapKeyRef(Base):
    configMapKeyRef: KeySelector


class ValueFromFieldRef(Base):
    fieldRef: FieldSelector


class ValueFromResourceFieldRef(Base):
    resourceFieldRef: ResourceFieldSelector


VALUE_FROM_KEYS = ("secretKeyRef", "configMapKeyRef", "fieldRef", "resourceFieldRef")

#: Kubernetes EnvVarSource: exactly one reference.
EnvVarSource = Annotated[
    Union[
        tagged(ValueFromSecretKeyRef, "secretKeyRef"),
        tagged(ValueFromConfigMapKeyRef, "configMapKeyRef"),
        tagged(ValueFromFieldRef, "fieldRef"),
        tagged(ValueFromResourceFieldRef, "resourceFieldRef"),
    ],
    one_of_keys(VALUE_FROM_KEYS, what="valueFrom", error="podc_env_source"),
]


class EnvVarWithValue(Base):
    name: EnvName
    value: Scalar | None = None  # numbers and booleans become strings, as in the mapping form


class EnvVarWithValueFrom(Base):
    name: EnvName
    valueFrom: EnvVarSource


def _env_item_kind(value: Any) -> str | None:
    if isinstance(value, dict) and "value" in value and "valueFrom" in value:
        return None
    if isinstance(value, dict) and "valueFrom" in value:
        return tag("valueFrom")
    return tag("value")


#: Kubernetes EnvVar (the list form of ``env``): ``value`` or ``valueFrom``, not both.
EnvVar = Annotated[
    Union[tagged(EnvVarWithValue, "value"), tagged(EnvVarWithValueFrom, "valueFrom")],
    Discriminator(_env_item_kind, custom_error_type="podc_env_source",
                  custom_error_message="an env var sets value or valueFrom, not both"),
]


class OptionalRef(Base):
    name: str
    optional: bool | None = None


class EnvFromConfigMap(Base):
    prefix: str | None = None
    configMapRef: OptionalRef


class EnvFromSecret(Base):
    prefix: str | None = None
    secretRef: OptionalRef


EnvFromSource = Annotated[
    Union[tagged(EnvFromConfigMap, "configMapRef"), tagged(EnvFromSecret, "secretRef")],
    one_of_keys(("configMapRef", "secretRef"), what="an envFrom item", error="podc_one_of"),
]


class ContainerPort(Base):
    containerPort: Port
    name: str | None = None
    protocol: Literal["TCP", "UDP", "SCTP"] | None = None
    hostPort: Annotated[int, Field(ge=0, le=65535)] | None = None  # 0: not exposed on the host
    hostIP: str | None = None


class ResourceClaim(Base):
    name: str
    request: str | None = None


class Resources(Base):
    requests: dict[str, Quantity | None] | None = None
    limits: dict[str, Quantity | None] | None = None
    claims: list[ResourceClaim] | None = None


class Capabilities(Base):
    add: list[str] | None = None
    drop: list[str] | None = None


class SELinuxOptions(Base):
    user: str | None = None
    role: str | None = None
    type: str | None = None
    level: str | None = None


class ProfileRef(Base):
    """seccompProfile / appArmorProfile."""

    type: Literal["RuntimeDefault", "Unconfined", "Localhost"]
    localhostProfile: str | None = None


class WindowsOptions(Base):
    gmsaCredentialSpecName: str | None = None
    gmsaCredentialSpec: str | None = None
    runAsUserName: str | None = None
    hostProcess: bool | None = None


class SecurityContext(Base):
    """A container's securityContext."""

    allowPrivilegeEscalation: bool | None = None
    appArmorProfile: ProfileRef | None = None
    capabilities: Capabilities | None = None
    privileged: bool | None = None
    procMount: Literal["Default", "Unmasked"] | None = None
    readOnlyRootFilesystem: bool | None = None
    runAsGroup: Int64 | None = None
    runAsNonRoot: bool | None = None
    runAsUser: Int64 | None = None
    seLinuxOptions: SELinuxOptions | None = None
    seccompProfile: ProfileRef | None = None
    windowsOptions: WindowsOptions | None = None


class Sysctl(Base):
    name: str
    value: str


class PodSecurityContext(Base):
    appArmorProfile: ProfileRef | None = None
    fsGroup: Int64 | None = None
    fsGroupChangePolicy: Literal["OnRootMismatch", "Always"] | None = None
    runAsGroup: Int64 | None = None
    runAsNonRoot: bool | None = None
    runAsUser: Int64 | None = None
    seLinuxChangePolicy: Literal["MountOption", "Recursive"] | None = None
    seLinuxOptions: SELinuxOptions | None = None
    seccompProfile: ProfileRef | None = None
    supplementalGroups: list[Int64] | None = None
    supplementalGroupsPolicy: Literal["Merge", "Strict"] | None = None
    sysctls: list[Sysctl] | None = None
    windowsOptions: WindowsOptions | None = None


class Toleration(Base):
    key: str | None = None
    operator: Literal["Exists", "Equal"] | None = None
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute", ""] | None = None
    tolerationSeconds: Int64 | None = None


class Affinity(Base):
    nodeAffinity: Plain | None = None
    podAffinity: Plain | None = None
    podAntiAffinity: Plain | None = None


class TopologySpreadConstraint(Base):
    maxSkew: Int32
    topologyKey: str
    whenUnsatisfiable: Literal["DoNotSchedule", "ScheduleAnyway"]
    labelSelector: Plain | None = None
    minDomains: Int32 | None = None
    nodeAffinityPolicy: Literal["Honor", "Ignore"] | None = None
    nodeTaintsPolicy: Literal["Honor", "Ignore"] | None = None
    matchLabelKeys: list[str] | None = None


class HostAlias(Base):
    ip: str
    hostnames: list[str] | None = None


class OnExitCodes(Base):
    containerName: str | None = None
    operator: Literal["In", "NotIn"]
    values: list[Int32]


class OnPodCondition(Base):
    type: str
    status: Literal["True", "False", "Unknown"] | None = None


class PodFailurePolicyRule(Base):
    action: Literal["FailJob", "FailIndex", "Ignore", "Count"]
    onExitCodes: OnExitCodes | None = None
    onPodConditions: list[OnPodCondition] | None = None


class PodFailurePolicy(Base):
    rules: list[PodFailurePolicyRule]


class KeyToPath(Base):
    key: str
    path: str
    mode: FileMode | None = None


class VolumeMount(Base):
    name: NameStr
    mountPath: str
    subPath: str | None = None
    subPathExpr: str | None = None
    readOnly: bool | None = None
    mountPropagation: Literal["None", "HostToContainer", "Bidirectional"] | None = None
    recursiveReadOnly: Literal["Disabled", "IfPossible", "Enabled"] | None = None
