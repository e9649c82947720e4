"""Everything the example offers to ``dagster dev`` (see docs/dagster.md, "Local cluster").

The Pipes client reads its cluster and project from the environment, so the same code runs
against the podc emulator and a real cluster:

* ``PODC_EXAMPLE_PROJECT`` — the podc project (default: ``deploy/podc.yaml`` next to this
  package);
* ``PODC_EXAMPLE_KUBECONFIG`` — a kubeconfig (default: the usual lookup, in-cluster in a Pod);
* ``PODC_EXAMPLE_PIPES_ENV`` — names of variables copied into the Pipes Job
  (comma-separated; for the emulator: ``PYTHONPATH``).
"""

from __future__ import annotations

import os
from pathlib import Path

from dagster import Definitions, define_asset_job, in_process_executor

from podc.dagster import PipesPodcClient
from podc_example import jobs, launcher_jobs
from podc_example.pipes_assets import scores

_PROJECT = Path(__file__).resolve().parent.parent / "deploy" / "podc.yaml"


def pipes_client() -> PipesPodcClient:
    passthrough = [n.strip() for n in os.environ.get("PODC_EXAMPLE_PIPES_ENV", "").split(",")
                   if n.strip() and n.strip() in os.environ]
    return PipesPodcClient(
        project=os.environ.get("PODC_EXAMPLE_PROJECT", str(_PROJECT)),
        kubeconfig_file=os.environ.get("PODC_EXAMPLE_KUBECONFIG") or None,
        env={name: os.environ[name] for name in passthrough},
        pending_timeout=float(os.environ.get("PODC_EXAMPLE_PENDING_TIMEOUT", "120")),
    )


# Materializing `scores` from a launched run: the run worker runs the asset in process, the
# asset's external process runs in its own Pipes Job.
scores_job = define_asset_job("scores_job", selection=[scores], executor_def=in_process_executor)

defs = Definitions.merge(
    jobs.defs,
    launcher_jobs.defs,
    Definitions(assets=[scores], jobs=[scores_job], resources={"pipes_podc": pipes_client()}),
)
