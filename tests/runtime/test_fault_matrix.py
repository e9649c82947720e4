"""Reliability fault matrix on the emulator.

Every case asserts the final state of every Job, that cleanup leaves zero Jobs and zero Pods
(no orphans) and that no step got two Jobs (no duplicates).
"""

from __future__ import annotations

import threading
import time

import pytest

from rt_builders import job_manifest
from podc.runtime import ApiError, JobConflict, JobPhase, RunCancelled

WAIT = 15.0


def store_jobs(cluster):
    return cluster.store.list("jobs", "default")


def store_pods(cluster):
    return cluster.store.list("pods", "default")


def creates(cluster):
    return cluster.request_log.count(verb="create", resource="jobs", status=201)


def assert_no_duplicates(cluster, rt):
    names = [j["metadata"]["name"] for j in store_jobs(cluster)]
    assert len(names) == len(set(names))
    steps = [(j["metadata"]["labels"]["podc.dev/step-key"], j["metadata"]["labels"]["podc.dev/attempt"])
             for j in store_jobs(cluster)]
    assert len(steps) == len(set(steps)), f"duplicate Jobs for a step: {steps}"


def cleanup(cluster, rt):
    assert_no_duplicates(cluster, rt)
    result = rt.cancel_run(confirm_timeout=5)
    assert result.clean, result
    assert store_jobs(cluster) == [] and store_pods(cluster) == []


def run_all(rt, manifests):
    names = [rt.submit(m).name for m in manifests]
    return names, rt.wait(names, timeout=WAIT)


# -- happy path, request budget ---------------------------------------------------------------
def test_success_costs_one_request_per_job_and_is_seen_within_a_second(cluster, make_runtime):
    completed: dict[str, float] = {}

    def on_store(ev):
        conds = (ev.obj.get("status") or {}).get("conditions") or []
        if ev.resource == "jobs" and any(c["type"] == "Complete" and c["status"] == "True" for c in conds):
            completed.setdefault(ev.obj["metadata"]["name"], time.time())

    cluster.store.add_listener(on_store)
    rt = make_runtime()
    rt.start()
    before = len(cluster.request_log)
    names, final = run_all(rt, [job_manifest(f"s{i}", "succeed:after=0.2") for i in range(5)])
    assert all(final[n].phase is JobPhase.SUCCEEDED for n in names)
    assert all(0 <= final[n].observed_at - completed[n] < 1.0 for n in names)
    # Per-Job traffic: everything but the run's shared list+watch (one each for Jobs and Pods).
    after = [r for r in list(cluster.request_log)[before:] if not r.is_watch and r.verb != "list"]
    assert len(after) == 5 and {r.verb for r in after} == {"create"}
    shared = [r for r in cluster.request_log if r.is_watch or r.verb == "list"]
    assert len(shared) == 4
    cleanup(cluster, rt)


# -- API errors during create ----------------------------------------------------------------
@pytest.mark.parametrize("status", [429, 500, 503])
def test_error_burst_during_create_is_retried_without_duplicates(cluster, make_runtime, status):
    rt = make_runtime()
    cluster.faults.fail(verb="create", resource="jobs", status=status, count=3,
                        retry_after=0.05 if status == 429 else None)
    names, final = run_all(rt, [job_manifest(f"c{i}", "succeed:after=0.1") for i in range(3)])
    assert all(final[n].succeeded for n in names)
    assert cluster.request_log.count(verb="create", resource="jobs", status=status) == 3
    assert creates(cluster) == 3
    cleanup(cluster, rt)


def test_retry_after_is_honoured(cluster, make_runtime):
    rt = make_runtime()
    rt.start()
    cluster.faults.fail(verb="create", resource="jobs", status=429, count=1, retry_after=1)
    t0 = time.monotonic()
    rt.submit(job_manifest("ra", "succeed"))
    assert time.monotonic() - t0 >= 0.95
    cleanup(cluster, rt)


def test_non_retryable_error_surfaces_api_message(cluster, make_runtime):
    rt = make_runtime()
    rt.start()
    cluster.faults.fail(verb="create", resource="jobs", status=403, count=1,
                        message='jobs.batch is forbidden: User "ci" cannot create resource "jobs"')
    with pytest.raises(ApiError) as info:
        rt.submit(job_manifest("nope", "succeed"))
    assert info.value.status == 403 and 'cannot create resource "jobs"' in str(info.value)
    assert cluster.request_log.count(verb="create", resource="jobs") == 1  # not retried
    cleanup(cluster, rt)


def test_conflict_with_foreign_job_is_refused(cluster, make_runtime):
    rt = make_runtime("mine")
    other = make_runtime("theirs")
    name = rt.name_for("x")
    foreign = job_manifest("x", "sleep")
    foreign["metadata"]["name"] = name
    foreign["metadata"]["labels"] = {"podc.dev/run-id": "theirs", "podc.dev/step-key": "x",
                                     "podc.dev/attempt": "0"}
    cluster.api_client()  # noqa: B018 - cluster is up
    from podc.runtime import api

    api.create_job(other.transport, "default", foreign)
    with pytest.raises(JobConflict, match="podc.dev/run-id"):
        rt.submit(job_manifest("x", "sleep"))
    assert len(store_jobs(cluster)) == 1
    api.delete_job(other.transport, "default", name, "Background")
    # the foreign Job's Pod goes with the emulator's garbage collector, not with our run
    cluster.wait_for(lambda: not store_jobs(cluster) and not store_pods(cluster), timeout=10)
    cleanup(cluster, rt)


# -- watch faults ------------------------------------------------------------------------------
def test_errors_during_list_and_watch_and_dropped_watches(cluster, make_runtime):
    rt = make_runtime()
    cluster.faults.fail(verb="list", resource="pods", status=500, count=2)
    cluster.faults.fail(verb="list", resource="jobs", status=429, count=2, retry_after=0.05)
    rt.start()
    cluster.faults.fail(verb="watch", resource="jobs", status=503, count=3)
    cluster.faults.fail(verb="watch", resource="pods", status=429, count=2, retry_after=0.05)
    cluster.faults.drop_watches()
    names, final = run_all(rt, [job_manifest(f"w{i}", "succeed:after=0.3") for i in range(3)])
    time.sleep(0.1)
    cluster.faults.drop_watches()
    assert all(final[n].succeeded for n in names)
    cleanup(cluster, rt)


def test_watch_dropped_mid_stream_resumes(cluster, make_runtime):
    rt = make_runtime()
    rt.start()
    names = [rt.submit(job_manifest(f"d{i}", "succeed:after=0.4")).name for i in range(4)]
    for _ in range(3):
        time.sleep(0.1)
        cluster.faults.drop_watches()
    final = rt.wait(names, timeout=WAIT)
    assert all(final[n].succeeded for n in names)
    assert creates(cluster) == 4
    cleanup(cluster, rt)


def test_410_gone_relists_and_carries_on(cluster, make_runtime):
    rt = make_runtime()
    rt.start()
    # Keep the watches away while the Jobs progress, then forget history: the resume is too old.
    blocks = [cluster.faults.fail(verb="watch", resource=r, status=503, count=10_000) for r in ("jobs", "pods")]
    cluster.faults.drop_watches()
    names = [rt.submit(job_manifest(f"g{i}", "succeed:after=0.1")).name for i in range(3)]
    cluster.wait_for(lambda: all(cluster.job_condition(n) for n in names), timeout=5)
    cluster.faults.compact()
    for rule in blocks:
        rule.remaining = 0
    final = rt.wait(names, timeout=WAIT)
    assert all(final[n].succeeded for n in names)
    assert rt._job_watch.relists >= 2  # the 410 made it list again
    cleanup(cluster, rt)


def test_api_server_restart(cluster, make_runtime):
    rt = make_runtime()
    rt.start()
    names = [rt.submit(job_manifest(f"r{i}", "succeed:after=0.5")).name for i in range(2)]
    cluster.restart_api()
    final = rt.wait(names, timeout=WAIT)
    assert all(final[n].succeeded for n in names)
    cleanup(cluster, rt)


# -- process restart: re-attach ----------------------------------------------------------------
def test_second_runtime_reattaches_without_resubmitting(cluster, make_runtime):
    manifests = [job_manifest(f"a{i}", "succeed:after=0.6") for i in range(3)]
    first = make_runtime("restart-run")
    for m in manifests:
        first.submit(m)
    first.close()  # the process "dies" mid-run
    second = make_runtime("restart-run")
    attached = second.attach()
    assert len(attached) == 3
    for m in manifests:  # a re-execution submits the same steps again: nothing is created
        second.submit(m)
    final = second.wait(timeout=WAIT)
    assert len(final) == 3 and all(s.succeeded for s in final.values())
    assert creates(cluster) == 3
    cleanup(cluster, second)


# -- pod failures ------------------------------------------------------------------------------
def test_eviction_retried_within_backoff_limit(cluster, make_runtime):
    rt = make_runtime()
    rule = cluster.script("evict:after=0.1", match_labels={"podc.dev/step-key": "ev"})
    state = rt.submit(job_manifest("ev", None, backoffLimit=2))
    cluster.wait_for(lambda: any(p["status"].get("phase") == "Running" for p in store_pods(cluster)), timeout=5)
    rule.match_labels["podc.dev/never"] = "x"  # only the first Pod is evicted; its replacement succeeds
    final = rt.wait([state.name], timeout=WAIT)[state.name]
    assert final.succeeded, final.describe()
    pods = store_pods(cluster)
    assert len(pods) == 2 and sorted(p["status"].get("reason", "") for p in pods) == ["", "Evicted"]
    cleanup(cluster, rt)


def test_eviction_beyond_backoff_limit_reports_evicted(cluster, make_runtime):
    rt = make_runtime()
    names, final = run_all(rt, [job_manifest("ev0", "evict")])
    state = final[names[0]]
    assert state.phase is JobPhase.FAILED and state.reason.code == "Evicted"
    cleanup(cluster, rt)


def test_node_lost(cluster, make_runtime):
    rt = make_runtime()
    names, final = run_all(rt, [job_manifest("nl", "node-lost")])
    state = final[names[0]]
    assert state.phase is JobPhase.FAILED
    assert state.reason.code in ("NodeLost", "PodDeleted"), state.describe()
    cleanup(cluster, rt)


def test_oomkilled_reports_memory_limit(cluster, make_runtime):
    rt = make_runtime()
    names, final = run_all(rt, [job_manifest("oom", "oom", memory="512Mi")])
    state = final[names[0]]
    assert state.phase is JobPhase.FAILED and state.reason.code == "OOMKilled"
    assert "OOMKilled: container `main` exceeded its 512Mi memory limit" in state.reason.message
    cleanup(cluster, rt)


def test_exit_code_with_log_tail(cluster, make_runtime):
    rt = make_runtime()
    names, final = run_all(rt, [job_manifest("ex", "exit:code=3,logs=starting\\nboom: bad input")])
    state = final[names[0]]
    assert state.reason.code == "ExitCode" and state.reason.exit_code == 3
    assert state.reason.log_tail[-1] == "boom: bad input"
    cleanup(cluster, rt)


def test_deadline_exceeded(cluster, make_runtime):
    rt = make_runtime()
    names, final = run_all(rt, [job_manifest("dl", "sleep", activeDeadlineSeconds=1)])
    state = final[names[0]]
    assert state.phase is JobPhase.FAILED and state.reason.code == "DeadlineExceeded"
    cleanup(cluster, rt)


# -- pods that never run -----------------------------------------------------------------------
def test_image_pull_error_is_terminal_after_grace_and_job_is_deleted(cluster, make_runtime):
    rt = make_runtime()
    t0 = time.monotonic()
    names, final = run_all(rt, [job_manifest("img", "image-pull-error")])
    state = final[names[0]]
    assert state.phase is JobPhase.FAILED
    assert state.reason.code in ("ErrImagePull", "ImagePullBackOff")
    assert "busybox:1.36" in state.reason.message
    assert time.monotonic() - t0 >= 0.4  # not before the grace
    deadline = time.monotonic() + 5
    while store_jobs(cluster) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store_jobs(cluster) == []  # delete_failed removed it
    cleanup(cluster, rt)


def test_missing_secret_is_create_container_config_error(cluster, make_runtime):
    rt = make_runtime()
    m = job_manifest("sec", "succeed")
    m["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-password", "key": "pw"}}}]
    names, final = run_all(rt, [m])
    state = final[names[0]]
    assert state.reason.code == "CreateContainerConfigError"
    assert "db-password" in state.reason.message
    cleanup(cluster, rt)


def test_unschedulable_after_pending_timeout_with_scheduler_message(cluster, make_runtime):
    rt = make_runtime()
    m = job_manifest("big", "succeed", pod_spec={"nodeSelector": {"gpu": "a100"}})
    names, final = run_all(rt, [m])
    state = final[names[0]]
    assert state.phase is JobPhase.FAILED and state.reason.code == "Unschedulable"
    assert "node" in state.reason.message
    cleanup(cluster, rt)


def test_pod_that_never_starts_is_reported_with_its_event(cluster, make_runtime):
    rt = make_runtime(timeouts={"start": 0.8})
    m = job_manifest("vol", "succeed", pod_spec={"volumes": [{"name": "creds", "secret": {"secretName": "creds"}}]})
    names, final = run_all(rt, [m])
    state = final[names[0]]
    assert state.phase is JobPhase.FAILED and state.reason.code == "FailedMount"
    assert "did not start within 0.8s" in state.reason.message and 'secret "creds" not found' in state.reason.message
    cleanup(cluster, rt)


def test_missing_service_account_is_failed_create(cluster, make_runtime):
    rt = make_runtime()
    m = job_manifest("sa", "succeed", pod_spec={"serviceAccountName": "robot"})
    names, final = run_all(rt, [m])
    state = final[names[0]]
    assert state.phase is JobPhase.FAILED and state.reason.code == "FailedCreate"
    assert "robot" in state.reason.message
    cleanup(cluster, rt)


# -- TTL, cancellation, concurrency ------------------------------------------------------------
def test_job_removed_by_ttl_after_success_stays_succeeded(cluster, make_runtime):
    rt = make_runtime()
    names, final = run_all(rt, [job_manifest("ttl", "succeed:after=0.1", ttlSecondsAfterFinished=0)])
    deadline = time.monotonic() + 5
    while store_jobs(cluster) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store_jobs(cluster) == []
    time.sleep(0.2)
    assert rt.state(names[0]).phase is JobPhase.SUCCEEDED
    cleanup(cluster, rt)


def test_cancellation_during_start_up_leaves_nothing(cluster, make_runtime):
    rt = make_runtime()
    rt.start()
    cluster.faults.latency(0.05, verb="create", resource="jobs")
    errors: list[BaseException] = []

    def submit_many() -> None:
        try:
            for i in range(20):
                rt.submit(job_manifest(f"c{i}", "sleep"))
        except RunCancelled as exc:
            errors.append(exc)

    t = threading.Thread(target=submit_many)
    t.start()
    time.sleep(0.3)
    result = rt.cancel_run(confirm_timeout=5)
    t.join(5)
    assert errors and isinstance(errors[0], RunCancelled)
    assert result.clean, result
    time.sleep(0.2)
    assert store_jobs(cluster) == [] and store_pods(cluster) == []
    assert all(s.phase is JobPhase.FAILED and s.reason.code == "Cancelled" for s in rt.states().values())


@pytest.mark.parametrize("propagation", ["Foreground", "Background"])
def test_cancel_one_job_confirms_pods_gone(cluster, make_runtime, propagation):
    rt = make_runtime()
    keep = rt.submit(job_manifest("keep", "sleep"))
    drop = rt.submit(job_manifest("drop", "sleep"))
    deadline = time.monotonic() + 5
    while len(store_pods(cluster)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    result = rt.cancel(drop.name, propagation=propagation, confirm_timeout=5)
    assert result.clean
    assert [j["metadata"]["name"] for j in store_jobs(cluster)] == [keep.name]
    assert all(p["metadata"]["labels"]["podc.dev/step-key"] == "keep" for p in store_pods(cluster))
    assert rt.state(drop.name).reason.code == "Cancelled"
    cleanup(cluster, rt)


def test_max_in_flight_caps_unfinished_jobs(cluster, make_runtime):
    rt = make_runtime(max_in_flight=2)
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            live = [j for j in store_jobs(cluster)
                    if not any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
                               for c in (j.get("status") or {}).get("conditions") or [])]
            peak[0] = max(peak[0], len(live))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        names, final = run_all(rt, [job_manifest(f"m{i}", "succeed:after=0.2") for i in range(5)])
    finally:
        stop.set()
        sampler.join()
    assert all(final[n].succeeded for n in names)
    assert 1 <= peak[0] <= 2
    cleanup(cluster, rt)


def test_stream_logs_follows_the_pod(cluster, make_runtime):
    rt = make_runtime()
    state = rt.submit(job_manifest("lg", "succeed:after=0.3,logs=one\\ntwo\\nthree"))
    lines = list(rt.stream_logs(state.name, timeout=WAIT))
    assert lines == ["one", "two", "three"]
    assert rt.wait([state.name], timeout=WAIT)[state.name].succeeded
    cleanup(cluster, rt)


def test_api_error_messages_never_echo_env_values(cluster, make_runtime):
    rt = make_runtime()
    rt.start()
    m = job_manifest("leaky", "succeed")
    m["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "TOKEN", "value": "s3cr3t-value-42"}]
    cluster.faults.fail(verb="create", resource="jobs", status=422, count=1,
                        message='Job.batch "x" is invalid: env[0].value: Invalid value: "s3cr3t-value-42"')
    with pytest.raises(ApiError) as info:
        rt.submit(m)
    assert "s3cr3t-value-42" not in str(info.value) and "s3cr3t" not in info.value.message
    assert "Invalid value" in str(info.value)
    cleanup(cluster, rt)


def test_reattach_after_job_removed_reports_success_from_its_pod(cluster, make_runtime):
    first = make_runtime("gone-run")
    names, final = run_all(first, [job_manifest("g", "succeed")])
    assert final[names[0]].succeeded
    first.close()
    # The Job disappears but its Pod stays (orphaning delete, or a garbage collector lagging).
    first.transport.request("DELETE", f"/apis/batch/v1/namespaces/default/jobs/{names[0]}",
                            query={"propagationPolicy": "Orphan"})
    cluster.wait_for(lambda: not store_jobs(cluster), timeout=5)
    second = make_runtime("gone-run")
    state = second.attach()[names[0]]
    assert state.succeeded and state.reason.code == "JobGone" and state.step_key == "g"
    second.submit(job_manifest("g", "succeed"))  # known succeeded: not created again
    assert creates(cluster) == 1
    cleanup(cluster, second)


def test_forbidden_list_fails_fast_with_api_message(cluster, make_runtime):
    cluster.faults.fail(verb="list", resource="jobs", status=403, count=1000,
                        message='jobs.batch is forbidden: User "ci" cannot list resource "jobs"')
    rt = make_runtime()
    t0 = time.monotonic()
    with pytest.raises(ApiError, match='cannot list resource "jobs"'):
        rt.start()
    assert time.monotonic() - t0 < 2
