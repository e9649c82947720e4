"""Grace clocks and follow-ups of the per-Job tracker, with a hand-driven clock."""

from __future__ import annotations

from podc.runtime.diagnose import JobPhase, Timeouts
from podc.runtime.tracker import JobRecord, evaluate, job_deleted, pod_deleted
from rt_builders import cond, event, job, pod, running, terminated, waiting

T = Timeouts(start=100, pending=50, image_pull=20, config_error=10, failed_create=5)


def record(**kw):
    rec = JobRecord("podc-train-abc", "train", 0)
    rec.job = job(**kw)
    return rec


def test_image_pull_error_fails_only_after_grace_then_asks_for_delete():
    rec = record()
    rec.pods["p"] = pod("p", statuses=[waiting("ImagePullBackOff", "back-off pulling")])
    changed, follow = evaluate(rec, 1000.0, T)
    assert rec.phase is JobPhase.PENDING and follow is None and rec.next_deadline == 1020.0
    assert evaluate(rec, 1019.9, T)[1] is None and rec.phase is JobPhase.PENDING
    changed, follow = evaluate(rec, 1020.0, T)
    assert changed and rec.phase is JobPhase.FAILED and rec.reason.code == "ImagePullBackOff"
    assert follow.kind == "delete"


def test_condition_that_clears_resets_its_clock():
    rec = record()
    rec.pods["p"] = pod("p", statuses=[waiting("ErrImagePull")])
    evaluate(rec, 0.0, T)
    rec.pods["p"] = pod("p", phase="Running", statuses=[running()])
    evaluate(rec, 15.0, T)
    assert rec.phase is JobPhase.RUNNING and rec.first_seen == {}
    rec.pods["p"] = pod("p", statuses=[waiting("ErrImagePull")])
    evaluate(rec, 16.0, T)
    assert evaluate(rec, 30.0, T)[1] is None and rec.phase is JobPhase.PENDING  # 14 s < 20 s


def test_no_pods_fetches_events_once_grace_expires_then_fails_with_failed_create():
    rec = record()
    evaluate(rec, 0.0, T)
    changed, follow = evaluate(rec, 5.0, T)
    assert follow.kind == "events" and rec.followup_pending and rec.phase is JobPhase.PENDING
    rec.followup_pending = False
    rec.events = [event("FailedCreate", 'pods "x" is forbidden: exceeded quota: compute')]
    rec.events_at = 5.0
    changed, follow = evaluate(rec, 5.1, T)
    assert rec.phase is JobPhase.FAILED and rec.reason.code == "FailedCreate"
    assert "exceeded quota" in rec.reason.message and follow.kind == "delete"


def test_failed_job_with_exit_code_asks_for_logs_before_finalizing():
    rec = record(conditions=[cond("Failed", "BackoffLimitExceeded")])
    rec.pods["p"] = pod("p", phase="Failed", statuses=[terminated(2)])
    changed, follow = evaluate(rec, 0.0, T)
    assert not changed and follow.kind == "logs" and (follow.pod, follow.container) == ("p", "main")
    assert rec.phase is JobPhase.PENDING  # not reported until the log tail is attached


def test_deleted_after_success_stays_succeeded():
    rec = record(conditions=[cond("Complete")])
    evaluate(rec, 0.0, T)
    assert rec.phase is JobPhase.SUCCEEDED
    assert job_deleted(rec, rec.job, T) is False and rec.phase is JobPhase.SUCCEEDED


def test_deleted_job_whose_last_object_was_complete_is_succeeded():
    rec = record()
    evaluate(rec, 0.0, T)
    assert job_deleted(rec, job(conditions=[cond("Complete")]), T)
    assert rec.phase is JobPhase.SUCCEEDED


def test_deleted_unfinished_job_is_failed_or_cancelled():
    rec = record()
    evaluate(rec, 0.0, T)
    job_deleted(rec, rec.job, T)
    assert rec.phase is JobPhase.FAILED and rec.reason.code == "JobDeleted"
    rec2 = record()
    rec2.cancelled = True
    job_deleted(rec2, rec2.job, T)
    assert rec2.reason.code == "Cancelled"


def test_pod_deleted_while_running_is_remembered_as_cause():
    rec = record()
    p = pod("p", phase="Running", statuses=[running()])
    rec.pods["p"] = p
    pod_deleted(rec, p)
    assert rec.pods == {} and rec.last_failure.code == "PodDeleted"
    rec.job = job(conditions=[cond("Failed", "BackoffLimitExceeded")])
    evaluate(rec, 0.0, T)
    assert rec.phase is JobPhase.FAILED and rec.reason.code == "PodDeleted"
    assert rec.reason.job_condition == "BackoffLimitExceeded"


def test_deleted_job_with_succeeded_pod_is_succeeded_best_effort():
    rec = record()
    evaluate(rec, 0.0, T)
    rec.pods["p"] = pod("p", phase="Succeeded", statuses=[terminated(0, "Completed")])
    assert job_deleted(rec, rec.job, T)
    assert rec.phase is JobPhase.SUCCEEDED and rec.reason.code == "JobGone"
