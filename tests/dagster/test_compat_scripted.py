"""The executor against an API server that is not our default emulator: a pre-1.31 condition
sequence, paged lists, no bookmarks, watches ended early, no event field selectors, Events in
the events.k8s.io/v1 shape, no deletecollection. Same diagnoses as on the default emulator."""

from __future__ import annotations

import pytest
from dagster_support import PROJECT

pytest.importorskip("dagster")

OTHER_SERVER = {"job_conditions": "legacy", "paginate": 1, "bookmarks": False, "watch_timeout_cap": 1.0,
                "event_field_selectors": False, "event_style": "events.k8s.io", "deletecollection": False,
                "pod_labels": "legacy"}


def test_scripted_failures_are_diagnosed_on_another_kind_of_server(instance):
    from dagster import DagsterEventType, execute_job, reconstructable
    from podc.testing import LocalCluster
    from podc_example.jobs import scripted_job

    with LocalCluster(mode="scripted", compat=OTHER_SERVER) as cluster:
        run_config = {"execution": {"config": {
            "project": str(PROJECT), "target": "dagster-step", "namespace": "default",
            "kubeconfig_file": cluster.kubeconfig_path, "pending_timeout": 1.0,
            "poll_interval": 0.1,
        }}}
        result = execute_job(reconstructable(scripted_job), instance=instance, run_config=run_config)
        assert not result.success
        failures = {}
        for record in instance.get_records_for_run(result.run_id, of_type=DagsterEventType.STEP_FAILURE).records:
            event = record.event_log_entry.dagster_event
            failures[event.step_key] = event.step_failure_data.error.message
        assert set(failures) == {"oom", "bad_image", "unschedulable"}, failures
        assert "OOMKilled: container `main` exceeded its 512Mi memory limit" in failures["oom"]
        assert "ghcr.io/example/missing:0.0" in failures["bad_image"]
        assert "Unschedulable" in failures["unschedulable"]
        retries = instance.get_records_for_run(result.run_id, of_type=DagsterEventType.STEP_UP_FOR_RETRY).records
        assert [r.event_log_entry.step_key for r in retries] == ["oom"]
        # the watches were ended by the server (every second) and resumed, not re-listed
        assert len(cluster.request_log.filter(verb="watch", resource="jobs")) >= 2
        assert cluster.internal_errors == []
