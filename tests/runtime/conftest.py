"""Fixtures for runtime tests on the local API emulator (podc.testing)."""

from __future__ import annotations

import itertools
from typing import Any, Iterator

import pytest

from rt_builders import FAST_TIMEOUTS

_run_ids = itertools.count(1)

@pytest.fixture
def cluster() -> Iterator[Any]:
    testing = pytest.importorskip("podc.testing")
    nodes = [testing.SimNode("n1", labels={"kubernetes.io/hostname": "n1"},
                             allocatable={"cpu": "64", "memory": "256Gi", "pods": "500"})]
    with testing.LocalCluster(mode="scripted", nodes=nodes, service_accounts={"default"}) as c:
        yield c


@pytest.fixture
def make_runtime(cluster: Any) -> Iterator[Any]:
    from podc.runtime import ExponentialBackoff, Runtime, Timeouts, connect

    made: list[Any] = []

    def make(run_id: str | None = None, *, timeouts: dict[str, float] | None = None,
             retry: Any = None, **kw: Any) -> Any:
        retry = retry or ExponentialBackoff(base=0.01, cap=0.05, max_attempts=8, max_retry_after=2.0)
        transport = connect(api_client=cluster.api_client(), retry=retry, timeout=(2.0, 5.0))
        rt = Runtime(transport, run_id=run_id or f"run-{next(_run_ids)}", namespace="default",
                     timeouts=Timeouts(**{**FAST_TIMEOUTS, **(timeouts or {})}), tick=0.02, **kw)
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.close()
