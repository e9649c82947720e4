"""Names and labels for step keys real Dagster runs produce: dynamic outputs (``op[key]``),
nested graphs (``a.b.c``), very long and non-ASCII keys; a new attempt never reuses a name."""

from __future__ import annotations

import re

import pytest
from podc.runtime.naming import (
    LABEL_ATTEMPT,
    LABEL_RUN_ID,
    LABEL_STEP_KEY,
    job_name,
    label_value,
    ownership_mismatch,
    prepare_job,
)
from rt_builders import job_manifest

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z")

KEYS = ["transform[2026-11-24]", "transform[2026-11-25]", "graph.inner.op[part_a.b]", "op[ü-ñ-日本]",
        "op[" + "x" * 300 + "]", "op[" + "x" * 300 + "y]", "__leading_and_trailing__", "[]", "日本"]


@pytest.mark.parametrize("run_id", ["0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9", "Nightly Run #42 (ü)", "r" * 200])
def test_every_key_gives_valid_distinct_names_and_labels(run_id):
    names = set()
    for key in KEYS:
        job = prepare_job(job_manifest("x"), run_id=run_id, step_key=key, attempt=0)
        name = job["metadata"]["name"]
        assert len(name) <= 63 and DNS1123_LABEL.match(name), name
        # A Pod is named <job>-<5 chars> by the Job controller: still a valid DNS subdomain.
        assert len(name) + 6 <= 253
        names.add(name)
        for labels in (job["metadata"]["labels"], job["spec"]["template"]["metadata"]["labels"]):
            for k in (LABEL_RUN_ID, LABEL_STEP_KEY, LABEL_ATTEMPT):
                assert len(labels[k]) <= 63 and LABEL_VALUE.match(labels[k]), (k, labels[k])
        assert job["metadata"]["annotations"]["podc.dev/step-key"] == key  # the exact key is kept
    assert len(names) == len(KEYS)
    assert len({label_value(k) for k in KEYS}) == len(KEYS)


def test_a_new_attempt_of_a_re_executed_step_is_a_new_job_not_an_adoption():
    run = "3d2c1b0a-aaaa-bbbb-cccc-000000000001"
    first = prepare_job(job_manifest("x"), run_id=run, step_key="op[k]", attempt=0)
    second = prepare_job(job_manifest("x"), run_id=run, step_key="op[k]", attempt=1)
    assert first["metadata"]["name"] != second["metadata"]["name"]
    assert job_name(run, "op[k]", 1) == second["metadata"]["name"]
    # Were the names ever to collide, the attempt label stops a silent adoption.
    problem = ownership_mismatch(first, {**second, "metadata": {**second["metadata"]}})
    assert problem and "podc.dev/attempt" in problem
