"""The garbage collector: deletes dependents of vanished owners and finishes Foreground deletion."""

from __future__ import annotations

from typing import TYPE_CHECKING

from podc.testing._util import dig
from podc.testing.api_errors import ApiError

if TYPE_CHECKING:
    from podc.testing.api import Api


class GarbageCollector:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.store = api.store

    def sync(self) -> None:
        jobs = {j["metadata"]["uid"]: j for j in self.store.items("jobs")}
        dependents: dict[str, int] = {}
        for pod in self.store.items("pods"):
            for ref in dig(pod, "metadata", "ownerReferences", default=[]):
                if ref.get("kind") != "Job":
                    continue
                owner = jobs.get(ref["uid"])
                deleting = owner is not None and "foregroundDeletion" in dig(owner, "metadata", "finalizers", default=[])
                if owner is None or deleting:
                    if not pod["metadata"].get("deletionTimestamp"):
                        try:
                            self.api.delete("pods", pod["metadata"].get("namespace"), pod["metadata"]["name"])
                        except ApiError:
                            pass
                    if owner is not None:
                        dependents[ref["uid"]] = dependents.get(ref["uid"], 0) + 1
        for uid, job in jobs.items():
            finalizers = dig(job, "metadata", "finalizers", default=[])
            if "foregroundDeletion" in finalizers and not dependents.get(uid):
                def fn(o: dict) -> None:  # type: ignore[type-arg]
                    o["metadata"]["finalizers"] = [f for f in o["metadata"]["finalizers"] if f != "foregroundDeletion"]
                meta = job["metadata"]
                updated = self.store.mutate("jobs", meta.get("namespace"), meta["name"], fn)
                if updated is not None and not updated["metadata"].get("finalizers"):
                    self.api.finish_delete("jobs", meta.get("namespace"), meta["name"])
        self._namespaces()
        self._quotas()

    def _quotas(self) -> None:
        from podc.testing.quota import quota_status

        for quota in self.store.items("resourcequotas"):
            status = quota_status(self.store, quota)
            if status != quota.get("status"):
                self.api.set_status("resourcequotas", quota["metadata"].get("namespace"),
                                    quota["metadata"]["name"], status)

    def _namespaces(self) -> None:
        from podc.testing.resources import RESOURCE_TYPES

        for ns in self.store.items("namespaces"):
            if not ns["metadata"].get("deletionTimestamp"):
                continue
            name = ns["metadata"]["name"]
            remaining = 0
            for resource, rt in RESOURCE_TYPES.items():
                if not rt.namespaced:
                    continue
                for obj in self.store.items(resource, name):
                    remaining += 1
                    if obj["metadata"].get("deletionTimestamp"):
                        continue
                    try:
                        self.api.delete(resource, name, obj["metadata"]["name"], propagation="Background")
                    except ApiError:
                        pass
            if not remaining:
                self.api.finish_delete("namespaces", None, name)
