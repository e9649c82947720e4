"""Run termination when the cluster refuses the deletes (e.g. RBAC without delete on Jobs): the
executor reports it as an engine event naming the kubectl command, instead of crashing."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("dagster")

from podc.dagster.config import ExecutorSettings  # noqa: E402
from podc.dagster import step_handler as sh  # noqa: E402
from podc.runtime import ApiError  # noqa: E402


class RefusingRuntime:
    def cancel_run(self):
        raise ApiError(403, 'jobs.batch is forbidden: User "dagster" cannot deletecollection resource "jobs"',
                       reason="Forbidden", method="DELETE", path="/apis/batch/v1/namespaces/d/jobs")


def test_terminate_step_reports_a_refused_cancel(monkeypatch):
    seen = []
    monkeypatch.setattr(sh.DagsterEvent, "engine_event",
                        staticmethod(lambda ctx, message, data: seen.append((message, data)) or message))
    handler = sh.PodcStepHandler(ExecutorSettings(), runtime_factory=lambda run, ns: RefusingRuntime())
    handler._namespaces[("run-9", "op[a]")] = "d"
    ctx = SimpleNamespace(execute_step_args=SimpleNamespace(step_keys_to_execute=["op[a]"], run_id="run-9"),
                          get_step_context=lambda key: SimpleNamespace(step_key=key))
    events = list(handler.terminate_step(ctx))
    assert len(events) == 1 and "could not cancel run run-9" in events[0]
    assert "cannot deletecollection" in events[0] and "kubectl delete jobs -l podc.dev/run-id=run-9" in events[0]
    assert list(handler.terminate_step(ctx)) == []  # the run is cancelled once, not per step
