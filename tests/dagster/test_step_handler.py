"""Step handler health checks against a fake runtime: diagnosis text, the race where the step
process already reported its outcome, a completed Job that never reported, a vanished Job."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("dagster")

from podc.dagster.config import ExecutorSettings  # noqa: E402
from podc.dagster.step_handler import PodcStepHandler, describe_reason  # noqa: E402
from podc.runtime.diagnose import JobPhase, Reason  # noqa: E402
from podc.runtime.naming import job_name  # noqa: E402
from podc.runtime.tracker import JobState  # noqa: E402

RUN = "run-1"


class FakeRuntime:
    def __init__(self) -> None:
        self.states: dict[str, JobState] = {}
        self.attached = 0

    def name_for(self, step_key: str, attempt: int = 0) -> str:
        return job_name(RUN, step_key, attempt)

    def state(self, name: str) -> JobState:
        return self.states[name]

    def attach(self):
        self.attached += 1
        return dict(self.states)

    def set(self, step_key: str, attempt: int, phase: JobPhase, reason: Reason | None = None):
        name = self.name_for(step_key, attempt)
        self.states[name] = JobState(name, step_key, attempt, phase, reason)


class FakeRetryState:
    def __init__(self, attempts: dict[str, int]) -> None:
        self.attempts = attempts

    def get_attempt_count(self, key: str) -> int:
        return self.attempts.get(key, 0)


def _ctx(step_key: str, attempt: int = 0, outcomes: list[str] = ()):
    records = [SimpleNamespace(event_log_entry=SimpleNamespace(step_key=k)) for k in outcomes]
    known = SimpleNamespace(get_retry_state=lambda: FakeRetryState({step_key: attempt}))
    return SimpleNamespace(
        execute_step_args=SimpleNamespace(step_keys_to_execute=[step_key], known_state=known, run_id=RUN),
        instance=SimpleNamespace(get_records_for_run=lambda run_id, of_type: SimpleNamespace(records=records)),
    )


@pytest.fixture
def rt():
    return FakeRuntime()


@pytest.fixture
def handler(rt):
    return PodcStepHandler(ExecutorSettings(success_grace=0.2), runtime_factory=lambda run, ns: rt)


OOM = Reason("OOMKilled", "OOMKilled: container `main` exceeded its 512Mi memory limit",
             pod="p", container="main", exit_code=137, job_condition="BackoffLimitExceeded")


def test_failed_job_reports_the_diagnosis(handler, rt):
    rt.set("train", 0, JobPhase.FAILED, OOM)
    result = handler.check_step_health(_ctx("train"))
    assert not result.is_healthy
    assert result.unhealthy_reason.startswith(f"Kubernetes Job {job_name(RUN, 'train')}: OOMKilled: "
                                              "container `main` exceeded its 512Mi memory limit")
    assert "BackoffLimitExceeded" in result.unhealthy_reason


def test_failed_job_whose_step_already_reported_is_left_to_dagster(handler, rt):
    rt.set("train", 0, JobPhase.FAILED, Reason("ExitCode", "container `main` exited with code 1"))
    assert handler.check_step_health(_ctx("train", outcomes=["train"])).is_healthy
    # another step's outcome does not count
    assert not handler.check_step_health(_ctx("train", outcomes=["other"])).is_healthy


def test_retry_attempt_counts_only_its_own_outcome(handler, rt):
    rt.set("flaky", 1, JobPhase.FAILED, Reason("ExitCode", "container `main` exited with code 1"))
    # attempt 0 reported STEP_UP_FOR_RETRY; attempt 1 has reported nothing yet
    result = handler.check_step_health(_ctx("flaky", attempt=1, outcomes=["flaky"]))
    assert not result.is_healthy and "ExitCode: container `main` exited with code 1" in result.unhealthy_reason
    assert handler.check_step_health(_ctx("flaky", attempt=1, outcomes=["flaky", "flaky"])).is_healthy


def test_running_and_pending_jobs_are_healthy(handler, rt):
    rt.set("a", 0, JobPhase.RUNNING)
    rt.set("b", 0, JobPhase.PENDING)
    assert handler.check_step_health(_ctx("a")).is_healthy
    assert handler.check_step_health(_ctx("b")).is_healthy


def test_completed_job_without_a_reported_outcome_fails_after_the_grace(handler, rt):
    import time

    rt.set("quiet", 0, JobPhase.SUCCEEDED)
    assert handler.check_step_health(_ctx("quiet")).is_healthy
    time.sleep(0.25)
    result = handler.check_step_health(_ctx("quiet"))
    assert not result.is_healthy and "reported no outcome" in result.unhealthy_reason
    assert handler.check_step_health(_ctx("quiet", outcomes=["quiet"])).is_healthy


def test_missing_job_reattaches_then_reports(handler, rt):
    result = handler.check_step_health(_ctx("gone"))
    assert rt.attached == 1
    assert not result.is_healthy and "does not exist" in result.unhealthy_reason


def test_one_runtime_per_run_and_namespace(rt):
    made = []
    h = PodcStepHandler(ExecutorSettings(), runtime_factory=lambda run, ns: made.append((run, ns)) or rt)
    assert h.runtime("r1", "a") is h.runtime("r1", "a")
    h.runtime("r1", "b")
    h.runtime("r2", "a")
    assert made == [("r1", "a"), ("r1", "b"), ("r2", "a")]


@pytest.mark.parametrize("reason, expected", [
    (None, "the Job failed (no reason reported)"),
    (Reason("ExitCode", "container `main` exited with code 3", exit_code=3),
     "ExitCode: container `main` exited with code 3"),
    (Reason("ImagePullBackOff", "ImagePullBackOff: image `x:1` for container `main` cannot be pulled"),
     "ImagePullBackOff: image `x:1` for container `main` cannot be pulled"),
    (Reason("ExitCode", "container `main` exited with code 1", log_tail=("boom",)),
     "ExitCode: container `main` exited with code 1\n  last log lines:\n    boom"),
])
def test_describe_reason(reason, expected):
    assert describe_reason(reason) == expected


# --- an unusable cluster: one reason, remembered, never an exception out of the handler --------

from podc.dagster.cluster import ClusterUnavailable, describe_cluster_error  # noqa: E402


def test_a_permanent_cluster_problem_is_remembered_for_the_run():
    calls = []

    def factory(run, ns):
        calls.append(run)
        raise ClusterUnavailable("no usable cluster configuration: kubeconfig file not found: /k", True)

    h = PodcStepHandler(ExecutorSettings(cluster_timeout=30), runtime_factory=factory)
    for _ in range(3):
        with pytest.raises(ClusterUnavailable, match="kubeconfig file not found"):
            h.runtime("r1", "ns")
    assert calls == ["r1"]
    h.close_run("r1")  # forgets it: a later run of the same id (re-execution) tries again
    with pytest.raises(ClusterUnavailable):
        h.runtime("r1", "ns")
    assert calls == ["r1", "r1"]


def test_a_transient_cluster_problem_is_retried_after_cluster_timeout():
    import time

    calls = []

    def factory(run, ns):
        calls.append(run)
        raise RuntimeError("connection reset")

    h = PodcStepHandler(ExecutorSettings(cluster_timeout=0.2), runtime_factory=factory)
    for _ in range(2):
        with pytest.raises(ClusterUnavailable, match="RuntimeError: connection reset"):
            h.runtime("r1", None)
    assert len(calls) == 1
    time.sleep(0.25)
    with pytest.raises(ClusterUnavailable):
        h.runtime("r1", None)
    assert len(calls) == 2


def test_health_check_reports_an_unusable_cluster_instead_of_raising():
    def factory(run, ns):
        raise RuntimeError("boom")

    h = PodcStepHandler(ExecutorSettings(), runtime_factory=factory)
    result = h.check_step_health(_ctx("train"))
    assert not result.is_healthy
    assert result.unhealthy_reason == "podc cannot check step train: cannot use the Kubernetes cluster: RuntimeError: boom"
    h._failed_launches.add((RUN, "train", 0))  # its STEP_FAILURE is already written
    assert h.check_step_health(_ctx("train")).is_healthy


def test_terminate_with_an_unusable_cluster_reports_and_returns(monkeypatch):
    from podc.dagster import step_handler as sh

    seen = []
    monkeypatch.setattr(sh.DagsterEvent, "engine_event",
                        staticmethod(lambda ctx, message, data: seen.append(message) or message))

    def factory(run, ns):
        raise ClusterUnavailable("TLS to the Kubernetes API server at https://k failed: CERTIFICATE_VERIFY_FAILED", True)

    h = PodcStepHandler(ExecutorSettings(), runtime_factory=factory)
    ctx = _ctx("train")
    ctx.get_step_context = lambda key: SimpleNamespace(step_key=key)
    assert list(h.terminate_step(ctx)) == [
        f"podc could not cancel run {RUN}: TLS to the Kubernetes API server at https://k failed: "
        "CERTIFICATE_VERIFY_FAILED"]


def test_close_run_closes_every_runtime_of_the_run_even_when_one_fails():
    closed = []

    class Closing:
        def __init__(self, name, fail=False):
            self.name, self.fail = name, fail

        def close(self):
            closed.append(self.name)
            if self.fail:
                raise RuntimeError("already closed")

    made = {("r1", "a"): Closing("a", fail=True), ("r1", "b"): Closing("b"), ("r2", "a"): Closing("other")}
    h = PodcStepHandler(ExecutorSettings(), runtime_factory=lambda run, ns: made[(run, ns)])
    for key in made:
        h.runtime(*key)
    assert h.close_run("r1", join_timeout=0.1) == []
    assert sorted(closed) == ["a", "b"]
    assert list(h._runtimes) == [("r2", "a")]


@pytest.mark.parametrize("error, reason, permanent", [
    ("config", "no usable cluster configuration: kubeconfig file not found: /x", True),
    (401, "rejected the credentials (401 Unauthorized)", True),
    (403, "refused access (403 Forbidden): jobs is forbidden", True),
    ("refused", "cannot reach the Kubernetes API server at https://k: [Errno 111] Connection refused", False),
    ("tls", "TLS to the Kubernetes API server at https://k failed: [SSL: CERTIFICATE_VERIFY_FAILED]", True),
    (503, "the Kubernetes API server at https://k answered 503", False),
])
def test_cluster_errors_are_described_in_one_sentence(error, reason, permanent):
    from podc.runtime.cluster import ClusterConfigError
    from podc.runtime.retry import ApiError

    exc = {"config": ClusterConfigError("kubeconfig file not found: /x"),
           401: ApiError(401, "Unauthorized", reason="Unauthorized"),
           403: ApiError(403, "jobs is forbidden", reason="Forbidden"),
           "refused": ApiError(0, "[Errno 111] Connection refused", kind="connection"),
           "tls": ApiError(0, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", kind="connection"),
           503: ApiError(503, "unavailable", reason="ServiceUnavailable")}[error]
    text, perm = describe_cluster_error(exc, "https://k")
    assert reason in text and perm is permanent


def test_owner_reference_points_the_job_at_the_run_worker_pod(monkeypatch):
    from podc.dagster.step_context import owner_reference

    monkeypatch.setenv("HOSTNAME", "run-worker-abc")
    transport = SimpleNamespace(request=lambda method, path: {"metadata": {"name": "run-worker-abc", "uid": "u-1"}}
                                if path == "/api/v1/namespaces/ns/pods/run-worker-abc" else None)
    runtime = SimpleNamespace(transport=transport, namespace="ns")
    warnings = []
    log = SimpleNamespace(warning=warnings.append)
    job = owner_reference(runtime, "ns", {"metadata": {"name": "j", "ownerReferences": [{"kind": "X"}]}}, log)
    assert job["metadata"]["ownerReferences"] == [
        {"apiVersion": "v1", "kind": "Pod", "name": "run-worker-abc", "uid": "u-1"}, {"kind": "X"}]
    monkeypatch.delenv("HOSTNAME")
    assert owner_reference(runtime, "ns", {"metadata": {}}, log) == {"metadata": {}}
    assert "HOSTNAME is not set" in warnings[0]
