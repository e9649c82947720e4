"""Job naming, label sanitising, ownership checks and the retry policy's decisions."""

from __future__ import annotations

import random
import re

from hypothesis import given, settings, strategies as st

from podc.runtime.naming import (LABEL_RUN_ID, LABEL_STEP_KEY, job_name, label_value,
                                 ownership_mismatch, prepare_job, run_selector)
from podc.runtime.retry import ApiError, ExponentialBackoff, NoRetry, is_retryable

DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z")  # \Z: `$` would accept a trailing newline


def test_job_name_is_readable_and_deterministic():
    name = job_name("run-1", "Train Model/step_2", 0)
    assert name.startswith("podc-train-model-step-2-")
    assert name == job_name("run-1", "Train Model/step_2", 0)
    assert name != job_name("run-1", "Train Model/step_2", 1)
    assert name != job_name("run-2", "Train Model/step_2", 0)


def test_keys_that_sanitise_alike_still_differ():
    assert job_name("r", "a.b", 0) != job_name("r", "a_b", 0)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.text(max_size=200), st.integers(0, 1000))
def test_job_name_always_valid(run_id, step_key, attempt):
    name = job_name(run_id, step_key, attempt)
    assert len(name) <= 63 and DNS1123.match(name), name


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_label_value_always_valid_and_injective_enough(value):
    out = label_value(value)
    assert len(out) <= 63 and LABEL.match(out), out
    if len(value) <= 63 and LABEL.match(value):
        assert out == value


def test_label_value_distinct_inputs_distinct_outputs():
    assert label_value("x" * 80) != label_value("x" * 81)
    assert label_value("a/b") != label_value("a:b")


def test_prepare_job_labels_job_and_pod_template_and_keeps_full_values():
    manifest = {"apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": "compiled", "labels": {"team": "ml"}, "resourceVersion": "9",
                             "uid": "u"},
                "spec": {"template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": []}}},
                "status": {"active": 1}}
    step = "step with spaces and a very long name " * 3
    job = prepare_job(manifest, run_id="run/42", step_key=step, attempt=1, namespace="ns")
    meta, tmeta = job["metadata"], job["spec"]["template"]["metadata"]
    assert meta["namespace"] == "ns" and "resourceVersion" not in meta and "uid" not in meta
    assert "status" not in job
    assert meta["labels"]["team"] == "ml" and tmeta["labels"]["app"] == "x"
    for labels in (meta["labels"], tmeta["labels"]):
        assert labels[LABEL_RUN_ID] == label_value("run/42")
        assert labels[LABEL_STEP_KEY] == label_value(step)
        assert all(LABEL.match(v) and len(v) <= 63 for v in labels.values())
    assert meta["annotations"]["podc.dev/step-key"] == step
    assert manifest["metadata"]["name"] == "compiled"  # input untouched
    assert run_selector("run/42") == f"{LABEL_RUN_ID}={label_value('run/42')}"


def test_ownership_mismatch():
    base = {"spec": {"template": {}}}
    ours = prepare_job(base, run_id="r1", step_key="s", attempt=0)
    assert ownership_mismatch(ours, ours) is None
    other = prepare_job(base, run_id="r2", step_key="s", attempt=0)
    problem = ownership_mismatch(other, ours)
    assert problem and "podc.dev/run-id" in problem


def _err(status, retry_after=None, kind="http"):
    return ApiError(status, "msg", retry_after=retry_after, kind=kind)


def test_retryable_classification():
    assert all(is_retryable(_err(s)) for s in (429, 500, 502, 503, 504))
    assert is_retryable(_err(0, kind="timeout")) and is_retryable(_err(0, kind="connection"))
    assert not any(is_retryable(_err(s)) for s in (400, 401, 403, 404, 409, 410, 422, 501))


def test_backoff_grows_is_bounded_and_jittered():
    policy = ExponentialBackoff(base=1.0, factor=2.0, cap=5.0, max_attempts=10, jitter=0.5,
                                rng=random.Random(1))
    delays = [policy(_err(503), n) for n in range(1, 8)]
    assert all(d is not None for d in delays)
    assert 0.5 <= delays[0] <= 1.0 and 1.0 <= delays[1] <= 2.0 and 2.0 <= delays[2] <= 4.0
    assert all(d <= 5.0 for d in delays)
    assert len({round(d, 6) for d in delays[3:]}) > 1  # jitter


def test_backoff_gives_up_after_max_attempts_and_on_client_errors():
    policy = ExponentialBackoff(max_attempts=3)
    assert policy(_err(500), 2) is not None and policy(_err(500), 3) is None
    assert policy(_err(422), 1) is None and policy(_err(403), 1) is None


def test_retry_after_is_honoured_and_capped():
    policy = ExponentialBackoff(max_retry_after=2.0)
    assert policy(_err(429, retry_after=1.5), 1) == 1.5
    assert policy(_err(429, retry_after=30), 1) == 2.0
    assert NoRetry()(_err(503), 1) is None


def test_api_error_message_carries_api_message():
    err = ApiError(422, 'Job.batch "x" is invalid: spec.template.spec.containers: Required value',
                   reason="Invalid", method="POST", path="/apis/batch/v1/namespaces/d/jobs")
    assert "422 Invalid" in str(err) and "Required value" in str(err)
