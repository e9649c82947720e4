"""The resource types the emulator serves, with their URL spelling and kind."""

from __future__ import annotations

from podc._record import record



@record(frozen=True)
class ResourceType:
    plural: str
    kind: str
    group: str  # "" for the core group
    version: str
    namespaced: bool
    verbs: tuple[str, ...] = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
    short_names: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """How the API server names the resource in messages: ``pods``, ``jobs.batch``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def singular(self) -> str:
        return self.kind.lower()


RESOURCE_TYPES: dict[str, ResourceType] = {
    rt.plural: rt
    for rt in (
        ResourceType("pods", "Pod", "", "v1", True, short_names=("po",)),
        ResourceType("events", "Event", "", "v1", True, short_names=("ev",)),
        ResourceType("secrets", "Secret", "", "v1", True),
        ResourceType("configmaps", "ConfigMap", "", "v1", True, short_names=("cm",)),
        ResourceType("serviceaccounts", "ServiceAccount", "", "v1", True, short_names=("sa",)),
        ResourceType("namespaces", "Namespace", "", "v1", False, short_names=("ns",)),
        ResourceType("nodes", "Node", "", "v1", False, short_names=("no",)),
        ResourceType("resourcequotas", "ResourceQuota", "", "v1", True, short_names=("quota",)),
        ResourceType("jobs", "Job", "batch", "v1", True),
    )
}

# Subresources each type serves (besides the main resource).
SUBRESOURCES: dict[str, tuple[str, ...]] = {
    "pods": ("status", "log"),
    "jobs": ("status",),
    "namespaces": ("status",),
    "nodes": ("status",),
    "resourcequotas": ("status",),
}


def resource_type(plural: str) -> ResourceType | None:
    return RESOURCE_TYPES.get(plural)


def group_version_of(group: str) -> str:
    return f"{group}/v1" if group else "v1"
