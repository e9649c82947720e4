"""podc.runtime: submit compiled Jobs, watch them, explain failures, cancel cleanly.

Install with the ``runtime`` extra (``kubernetes``). ``import podc`` never imports this package;
``kubernetes`` itself is imported only when :func:`connect` builds a client.

Typical use::

    from podc.runtime import Runtime, connect

    transport = connect(kubeconfig="~/.kube/config", context="kind-podc")
    with Runtime(transport, run_id="nightly-42", namespace="batch") as rt:
        state = rt.submit(job_manifest, step_key="train")
        final = rt.wait([state.name], timeout=3600)[state.name]
        if not final.succeeded:
            print(final.describe())
"""

from podc.runtime.cluster import ClusterConfigError, connect, default_namespace
from podc.runtime.deadline import deadline_scope, podc_threads
from podc.runtime.diagnose import JobPhase, Reason, Timeouts, diagnose
from podc.runtime.naming import job_name, label_value, prepare_job, run_selector
from podc.runtime.results import CancelResult, JobConflict, RunCancelled
from podc.runtime.retry import ApiError, ExponentialBackoff, NoRetry, RetryPolicy
from podc.runtime.runs import RunJob, RunSummary, list_runs
from podc.runtime.runtime import Runtime
from podc.runtime.tracker import JobState

__all__ = [
    "ApiError",
    "CancelResult",
    "ClusterConfigError",
    "ExponentialBackoff",
    "JobConflict",
    "JobPhase",
    "JobState",
    "NoRetry",
    "Reason",
    "RetryPolicy",
    "RunCancelled",
    "RunJob",
    "RunSummary",
    "Runtime",
    "Timeouts",
    "connect",
    "deadline_scope",
    "default_namespace",
    "diagnose",
    "job_name",
    "label_value",
    "list_runs",
    "podc_threads",
    "prepare_job",
    "run_selector",
]
