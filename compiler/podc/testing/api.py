"""API semantics shared by the HTTP server and the controllers: CRUD with defaulting, patches,
status subresources, finalizers and delete propagation (Foreground / Background / Orphan)."""

from __future__ import annotations

import base64
import copy
import json
import threading
from collections.abc import Iterable
from typing import Any

from podc.testing._util import dig, now_iso, random_suffix
from podc.testing.api_errors import ApiError, already_exists, bad_request, conflict, forbidden, not_found
from podc.testing.defaults import check_update, default_update, prepare_create
from podc.testing.merge import apply_patch
from podc.testing.quota import check_quota
from podc.testing.resources import RESOURCE_TYPES, ResourceType
from podc.testing.selectors import selector_predicate
from podc.testing.store import Store

_STATUS_RESOURCES = {"pods", "jobs", "namespaces", "nodes", "resourcequotas"}
# Resources whose dependents the garbage collector handles (the owners we model).
_OWNER_DEPENDENTS = {"jobs": "pods"}


class Api:
    def __init__(self, store: Store, service_accounts: Iterable[str] = ("default",)) -> None:
        self.store = store
        self.service_accounts = set(service_accounts)
        self._lock = threading.RLock()

    # ---- helpers -------------------------------------------------------------------------
    @staticmethod
    def rt(resource: str) -> ResourceType:
        rt = RESOURCE_TYPES.get(resource)
        if rt is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return rt

    def sa_exists(self, namespace: str, name: str) -> bool:
        return name in self.service_accounts or self.store.peek("serviceaccounts", namespace, name) is not None

    def _ensure_namespace(self, namespace: str) -> None:
        if namespace and self.store.peek("namespaces", None, namespace) is None:
            try:
                self.create("namespaces", None, {"metadata": {"name": namespace}})
            except ApiError as e:
                if e.code != 409:
                    raise

    # ---- reads ---------------------------------------------------------------------------
    def get(self, resource: str, namespace: str | None, name: str) -> dict[str, Any]:
        rt = self.rt(resource)
        obj = self.store.get(resource, namespace if rt.namespaced else None, name)
        if obj is None:
            raise not_found(rt, name)
        return obj

    def list(
        self, resource: str, namespace: str | None, label_selector: str | None = None,
        field_selector: str | None = None, limit: int | None = None, continue_token: str | None = None,
    ) -> dict[str, Any]:
        """A ``<Kind>List``; ``limit``/``continue`` page through it (pages follow the live state,
        ordered by namespace and name, rather than a frozen snapshot)."""
        rt = self.rt(resource)
        pred = selector_predicate(label_selector, field_selector, resource)
        items, rv = self.store.list_with_rv(resource, namespace if rt.namespaced else None, pred)
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if continue_token:
            try:
                state = json.loads(base64.urlsafe_b64decode(continue_token.encode()))
                after = (state["ns"], state["name"])
                meta["resourceVersion"] = str(state["rv"])
            except (ValueError, KeyError, TypeError):
                raise bad_request("continue key is not valid: incorrect encoded start resourceVersion") from None
            items = [o for o in items if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > after]
        if limit and limit > 0 and len(items) > limit:
            last = items[limit - 1]["metadata"]
            token = {"rv": int(meta["resourceVersion"]), "ns": last.get("namespace", ""), "name": last["name"]}
            meta["continue"] = base64.urlsafe_b64encode(json.dumps(token).encode()).decode()
            meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        return {
            "kind": f"{rt.kind}List",
            "apiVersion": rt.api_version,
            "metadata": meta,
            "items": [copy.deepcopy(o) for o in items],
        }

    # ---- writes --------------------------------------------------------------------------
    def create(self, resource: str, namespace: str | None, body: dict[str, Any]) -> dict[str, Any]:
        rt = self.rt(resource)
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object")
        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {})
        if rt.namespaced:
            ns = namespace or meta.get("namespace") or "default"
            if meta.get("namespace") and meta["namespace"] != ns:
                raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        for server_owned in ("resourceVersion", "uid", "creationTimestamp", "deletionTimestamp", "generation"):
            meta.pop(server_owned, None)
        generated = not meta.get("name") and meta.get("generateName")
        # Pod admission runs before the name is generated (errors name the pod "prefix-", as in k8s);
        # Job defaulting needs the final name for its labels.
        if generated and resource != "pods":
            meta["name"] = meta["generateName"] + random_suffix()
        prepare_create(resource, obj, self.sa_exists)
        if generated and resource == "pods":
            meta["name"] = meta["generateName"] + random_suffix()
        meta["generation"] = 1
        if rt.namespaced:
            self._ensure_namespace(meta["namespace"])
            ns_obj = self.store.peek("namespaces", None, meta["namespace"])
            if ns_obj is not None and ns_obj["metadata"].get("deletionTimestamp") and resource != "events":
                raise forbidden(rt, meta.get("name") or meta.get("generateName", ""),
                                f"unable to create new content in namespace {meta['namespace']} because it is being terminated")
        with self.store.lock:  # quota check and create as one step
            check_quota(self.store, resource, obj)
            return self._store_create(resource, obj, rt, generated)

    def _store_create(self, resource: str, obj: dict[str, Any], rt: ResourceType, generated: bool) -> dict[str, Any]:
        meta = obj["metadata"]
        for _ in range(5):
            try:
                return self.store.create(resource, obj)
            except ApiError as e:
                if not (generated and e.code == 409):
                    raise
                meta["name"] = meta["generateName"] + random_suffix()
        raise already_exists(rt, meta["name"])

    def update(
        self, resource: str, namespace: str | None, name: str, body: dict[str, Any], subresource: str | None = None
    ) -> dict[str, Any]:
        rt = self.rt(resource)
        if not isinstance(body, dict):
            raise bad_request("the request body must be a JSON object")
        with self.store.lock:
            old = self.store.peek(resource, namespace if rt.namespaced else None, name)
            if old is None:
                raise not_found(rt, name)
            if dig(body, "metadata", "name", default=name) != name:
                raise bad_request(f'the name of the object ({body["metadata"]["name"]}) does not match the name on the URL ({name})')
            expect = dig(body, "metadata", "resourceVersion")
            if expect and expect != old["metadata"]["resourceVersion"]:
                raise conflict(rt, name)
            new = self._merge_update(resource, old, body, subresource)
            return self._store_update(resource, old, new)

    def _merge_update(
        self, resource: str, old: dict[str, Any], body: dict[str, Any], subresource: str | None
    ) -> dict[str, Any]:
        if subresource == "status":
            new = copy.deepcopy(old)
            if "status" in body:
                new["status"] = copy.deepcopy(body["status"])
            return new
        new = copy.deepcopy(body)
        meta = new.setdefault("metadata", {})
        for fixed in ("namespace", "uid", "creationTimestamp", "deletionTimestamp", "generation", "name"):
            if fixed in old["metadata"]:
                meta[fixed] = old["metadata"][fixed]
            else:
                meta.pop(fixed, None)
        if resource in _STATUS_RESOURCES:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        if resource == "secrets":
            from podc.testing.defaults import prepare_secret

            prepare_secret(new)
        default_update(resource, old, new)
        check_update(resource, old, new)
        if new.get("spec") != old.get("spec"):
            meta["generation"] = old["metadata"].get("generation", 1) + 1
        return new

    def _store_update(self, resource: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        meta = new["metadata"]
        if meta.get("deletionTimestamp") and old["metadata"].get("finalizers") and not meta.get("finalizers"):
            return self.store.remove(resource, meta.get("namespace"), meta["name"])
        return self.store.replace(resource, new)

    def patch(
        self, resource: str, namespace: str | None, name: str, content_type: str, patch: Any,
        subresource: str | None = None,
    ) -> dict[str, Any]:
        rt = self.rt(resource)
        with self.store.lock:
            old = self.store.peek(resource, namespace if rt.namespaced else None, name)
            if old is None:
                raise not_found(rt, name)
            patched = apply_patch(content_type, copy.deepcopy(old), patch)
            expect = dig(patched, "metadata", "resourceVersion")
            if expect and expect != old["metadata"]["resourceVersion"]:
                raise conflict(rt, name)
            new = self._merge_update(resource, old, patched, subresource)
            return self._store_update(resource, old, new)

    def set_status(self, resource: str, namespace: str | None, name: str, status: dict[str, Any]) -> dict[str, Any] | None:
        """Controller helper: replace ``status`` (None when the object is gone)."""
        def fn(obj: dict[str, Any]) -> None:
            obj["status"] = status
        return self.store.mutate(resource, namespace, name, fn)

    # ---- delete --------------------------------------------------------------------------
    def delete(
        self, resource: str, namespace: str | None, name: str, options: dict[str, Any] | None = None,
        propagation: str | None = None,
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Returns (HTTP code, body, extra headers)."""
        rt = self.rt(resource)
        options = options or {}
        headers: dict[str, str] = {}
        ns = namespace if rt.namespaced else None
        policy = propagation or options.get("propagationPolicy")
        if policy is None and options.get("orphanDependents") is not None:
            policy = "Orphan" if options["orphanDependents"] else "Background"
        if policy is None:
            # batch/v1 Jobs still default to orphaning their pods (kept for backwards compatibility).
            policy = "Orphan" if resource == "jobs" else "Background"
            if resource == "jobs":
                headers["Warning"] = ('299 - "child pods are preserved by default when jobs are deleted; set '
                                      'propagationPolicy=Background to remove them or set propagationPolicy=Orphan '
                                      'to suppress this warning"')
        if policy not in ("Orphan", "Background", "Foreground"):
            raise bad_request(f'propagationPolicy: Unsupported value: "{policy}": supported values: "Foreground", "Background", "Orphan"')
        grace = options.get("gracePeriodSeconds")
        with self.store.lock:
            old = self.store.peek(resource, ns, name)
            if old is None:
                raise not_found(rt, name)
            pre = options.get("preconditions") or {}
            if (pre.get("uid") and pre["uid"] != old["metadata"]["uid"]) or (
                pre.get("resourceVersion") and pre["resourceVersion"] != old["metadata"]["resourceVersion"]
            ):
                raise conflict(rt, name)
            if policy == "Orphan" and resource in _OWNER_DEPENDENTS:
                self._orphan_dependents(_OWNER_DEPENDENTS[resource], ns, old["metadata"]["uid"])
            if resource == "namespaces":
                # Terminating until the garbage collector emptied it (see gc.py).
                def terminating(o: dict[str, Any]) -> None:
                    o["metadata"].setdefault("deletionTimestamp", now_iso())
                    o.setdefault("status", {})["phase"] = "Terminating"
                self.store.mutate("namespaces", None, name, terminating)
                return 200, copy.deepcopy(self.store.peek("namespaces", None, name) or old), headers
            if resource == "pods" and self._needs_graceful_pod_delete(old, grace):
                return 200, self._mark_deleting(resource, old, grace), headers
            if policy == "Foreground" and resource in _OWNER_DEPENDENTS:
                return 202, self._mark_deleting(resource, old, 0, "foregroundDeletion"), headers
            if old["metadata"].get("finalizers"):
                return 202, self._mark_deleting(resource, old, 0), headers
            gone = self.store.remove(resource, ns, name)
        if resource == "pods":
            return 200, gone, headers
        details = {"name": name, "kind": rt.plural, "uid": gone["metadata"]["uid"]}
        if rt.group:
            details["group"] = rt.group
        return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}, headers

    def _needs_graceful_pod_delete(self, pod: dict[str, Any], grace: int | None) -> bool:
        if grace == 0:
            return False
        phase = dig(pod, "status", "phase")
        return bool(dig(pod, "spec", "nodeName")) and phase not in ("Succeeded", "Failed")

    def _mark_deleting(self, resource: str, obj: dict[str, Any], grace: int | None, finalizer: str | None = None) -> dict[str, Any]:
        def fn(o: dict[str, Any]) -> None:
            meta = o["metadata"]
            meta.setdefault("deletionTimestamp", now_iso())
            if grace is not None:
                meta["deletionGracePeriodSeconds"] = grace
            elif resource == "pods":
                meta["deletionGracePeriodSeconds"] = dig(o, "spec", "terminationGracePeriodSeconds", default=30)
            if finalizer and finalizer not in meta.setdefault("finalizers", []):
                meta["finalizers"].append(finalizer)
        result = self.store.mutate(resource, obj["metadata"].get("namespace"), obj["metadata"]["name"], fn)
        assert result is not None
        return copy.deepcopy(result)

    def _orphan_dependents(self, dep_resource: str, namespace: str | None, owner_uid: str) -> None:
        for dep in self.store.items(dep_resource, namespace):
            refs = dig(dep, "metadata", "ownerReferences", default=[])
            if any(r.get("uid") == owner_uid for r in refs):
                def fn(o: dict[str, Any]) -> None:
                    kept = [r for r in o["metadata"].get("ownerReferences", []) if r.get("uid") != owner_uid]
                    if kept:
                        o["metadata"]["ownerReferences"] = kept
                    else:
                        o["metadata"].pop("ownerReferences", None)
                self.store.mutate(dep_resource, dep["metadata"].get("namespace"), dep["metadata"]["name"], fn)

    def finish_delete(self, resource: str, namespace: str | None, name: str) -> None:
        """Remove an object now (kubelet after a graceful pod stop; GC after foreground deletion)."""
        try:
            self.store.remove(resource, namespace, name)
        except ApiError:
            pass

    def delete_collection(
        self, resource: str, namespace: str | None, label_selector: str | None, field_selector: str | None,
        options: dict[str, Any] | None = None, propagation: str | None = None,
    ) -> dict[str, Any]:
        listing = self.list(resource, namespace, label_selector, field_selector)
        for item in listing["items"]:
            try:
                self.delete(resource, item["metadata"].get("namespace"), item["metadata"]["name"], options, propagation)
            except ApiError as e:
                if e.code != 404:
                    raise
        return listing
