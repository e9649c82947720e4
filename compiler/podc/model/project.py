"""The project file (``podc.yaml``, ``kind: Project``): layers, profiles, targets and policies."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, Discriminator, Field
from pydantic_core import PydanticCustomError

from podc.model.common import Base, FastCheck, NameStr, tag, tagged
from podc.model.constants import is_path_like
from podc.model.layer import LayerSpec, PolicyException
from podc.model.rules import K8S_VERSION, PSS_LEVEL

__all__ = ["ProjectSpec", "Target", "Policies", "BestPractices", "ImageOverrideSpec", "is_path_like"]


def _k8s_version(value: str) -> str:
    if not K8S_VERSION.match(value):
        raise PydanticCustomError("podc_version", 'expected a Kubernetes minor version like "1.33", got {got}',
                                  {"got": repr(value)})
    return value


def _pss(value: str) -> str:
    if not PSS_LEVEL.match(value):
        raise PydanticCustomError(
            "podc_version",
            'expected a Pod Security Standard level like "restricted" or "restricted:v1.33" '
            '(levels: privileged, baseline, restricted; "none" turns the check off), got {got}', {"got": repr(value)})
    return value


class BestPractices(Base):
    """The best-practices pack: rules to switch off, required labels, per-rule parameters and severities."""

    disable: list[str] | None = None
    requiredLabels: list[str] | None = None
    params: dict[str, dict[str, Any]] | None = None
    severity: dict[str, Literal["error", "warning", "info"]] | None = None


def _bool_or_map(value: Any) -> str:
    return tag("map") if isinstance(value, dict) else tag("bool")


class ExceptionExpiry(Base):
    """What every exception's ``expires`` must satisfy: set at all, and at most ``maxDays`` ahead."""

    required: bool | None = None
    maxDays: Annotated[int, Field(ge=1)] | None = None


class Policies(Base):
    """Settings for ``podc check``. Add new keys here (unknown keys are errors, with a suggestion)."""

    pss: Annotated[str, AfterValidator(_pss), FastCheck("pss-level")] | None = None
    bestPractices: Annotated[Union[tagged(bool, "bool"), tagged(BestPractices, "map")],
                             Discriminator(_bool_or_map)] | None = None
    custom: list[str] | None = None
    admission: list[str] | None = None  # ValidatingAdmissionPolicy files or folders, relative to podc.yaml
    exceptions: list[PolicyException] | None = None
    # Where exceptions may be declared (podc.check.exceptions): files the platform team owns, and
    # whether (and for which policies or policy/rule ids) layer files may declare their own.
    exceptionFiles: list[str] | None = None
    layerExceptions: Annotated[Union[tagged(bool, "bool"), tagged(list[str], "list")],
                               Discriminator(_bool_or_list)] | None = None
    exceptionExpiry: ExceptionExpiry | None = None
    failOn: Literal["error", "warning", "info"] | None = None


def _bool_or_list(value: Any) -> str:
    return tag("list") if isinstance(value, list) else tag("bool")


class ImageOverrideSpec(Base):
    """One entry of ``images:`` (as kustomize's): containers whose image name is ``name`` get
    ``newName``, ``newTag`` and/or ``digest`` (a tag or digest replaces both the old ones)."""

    name: Annotated[str, Field(min_length=1)]
    newName: Annotated[str, Field(min_length=1)] | None = None
    newTag: Annotated[str, Field(min_length=1)] | None = None
    digest: Annotated[str, Field(min_length=1)] | None = None


class Target(Base):
    """One Job to compile: its layers (names from ``layers:`` or paths), own file and inline layers."""

    layers: list[str] | None = None
    file: str | None = None
    overrides: LayerSpec | None = None
    profiles: dict[str, LayerSpec | None] | None = None


class ProjectSpec(Base):
    apiVersion: Literal["podc/v1"] | None = None
    kind: Literal["Project"] | None = None
    kubernetesVersion: Annotated[str, AfterValidator(_k8s_version), FastCheck("k8s-version")] | None = None
    output: str = "build"
    namespace: NameStr | None = None
    layers: dict[str, str] | None = None
    profiles: dict[str, list[str]] | None = None
    defaultProfile: str | None = None
    targets: dict[str, Target | None] | None = None  # `name:` alone = the profile layers only
    policies: Policies | None = None
    # Folders outside the project that layer, `file:` and `extends` paths may reach (name: path
    # relative to podc.yaml); every other path must stay inside the project folder.
    allowedRoots: dict[str, str] | None = None
    images: list[ImageOverrideSpec] | None = None
