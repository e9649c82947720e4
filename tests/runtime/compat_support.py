"""A LocalCluster with compat knobs (podc.testing.compat) and runtimes on it, for test_compat_*."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from typing import Any

from rt_builders import FAST_TIMEOUTS

_ids = itertools.count(1)


@contextlib.contextmanager
def compat_env(**knobs: Any) -> Iterator[tuple[Any, Any]]:
    """``(cluster, make_runtime)`` for a cluster that behaves like another implementation."""
    from podc.runtime import ExponentialBackoff, Runtime, Timeouts, connect
    from podc.testing import LocalCluster, SimNode

    nodes = [SimNode("n1", allocatable={"cpu": "64", "memory": "256Gi", "pods": "500"})]
    made: list[Any] = []
    with LocalCluster(mode="scripted", nodes=nodes, compat=knobs) as cluster:
        def make(run_id: str | None = None, *, timeouts: dict[str, float] | None = None,
                 **kw: Any) -> Any:
            retry = ExponentialBackoff(base=0.01, cap=0.05, max_attempts=8, max_retry_after=3.0)
            transport = connect(api_client=cluster.api_client(), retry=retry, timeout=(2.0, 5.0))
            rt = Runtime(transport, run_id=run_id or f"compat-{next(_ids)}", namespace="default",
                         timeouts=Timeouts(**{**FAST_TIMEOUTS, **(timeouts or {})}), tick=0.02, **kw)
            made.append(rt)
            return rt

        try:
            yield cluster, make
        finally:
            for rt in made:
                rt.close()
        assert cluster.internal_errors == []


def assert_clean(cluster: Any, rt: Any) -> None:
    result = rt.cancel_run(confirm_timeout=5)
    assert result.clean, result
    assert cluster.store.list("jobs", "default") == [] and cluster.store.list("pods", "default") == []
