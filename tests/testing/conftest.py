from __future__ import annotations

from typing import Any

import pytest

pytest_plugins = ["podc.testing.pytest_plugin"]

kubernetes = pytest.importorskip("kubernetes")


class Clients:
    def __init__(self, cluster: Any) -> None:
        from kubernetes import client

        self.api = cluster.api_client()
        self.batch = client.BatchV1Api(self.api)
        self.core = client.CoreV1Api(self.api)


@pytest.fixture
def k8s(local_cluster: Any) -> Clients:
    return Clients(local_cluster)


_MODELS = {"pods": "V1Pod", "jobs": "V1Job", "events": "CoreV1Event", "secrets": "V1Secret",
           "configmaps": "V1ConfigMap", "namespaces": "V1Namespace", "nodes": "V1Node",
           "serviceaccounts": "V1ServiceAccount", "resourcequotas": "V1ResourceQuota"}


@pytest.fixture(autouse=True)
def _objects_deserialize_with_the_official_models(request):
    """After each test, every stored object must load into the client's (strict, pydantic) model."""
    if "local_cluster" not in request.fixturenames:
        yield
        return
    cluster = request.getfixturevalue("local_cluster")  # set up first, so torn down after this check
    yield
    import json

    from kubernetes import client

    api = client.ApiClient()

    class _Response:  # what ApiClient.deserialize reads (its signature differs between releases)
        def __init__(self, data: str) -> None:
            self.data = data

    for resource, model in _MODELS.items():
        for obj in cluster.store.list(resource):
            try:
                api.deserialize(json.dumps(obj), model, "application/json")
            except TypeError:  # kubernetes < 37: deserialize(response, type)
                api.deserialize(_Response(json.dumps(obj)), model)
    assert cluster.internal_errors == []
