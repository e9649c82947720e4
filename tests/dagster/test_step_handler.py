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
