"""pytest plugin: a fresh ``local_cluster`` per test.

Enable with ``pytest_plugins = ["podc.testing.pytest_plugin"]`` in a conftest.py. Configure a
test's cluster with the marker ``@pytest.mark.local_cluster(mode="process", nodes=[...], ...)``
(any :class:`~podc.testing.LocalCluster` keyword argument).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podc.testing.cluster import LocalCluster


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "local_cluster(**kwargs): LocalCluster arguments for the local_cluster fixture")


@pytest.fixture
def local_cluster(request: pytest.FixtureRequest) -> Iterator[LocalCluster]:
    marker = request.node.get_closest_marker("local_cluster")
    kwargs = dict(marker.kwargs) if marker else {}
    with LocalCluster(**kwargs) as cluster:
        yield cluster
