"""Jobs for ``PodcRunLauncher`` (each run's worker is a podc-compiled Job; see docs/dagster.md).

* ``hello_job`` runs its op inside the run worker (in-process executor): the smallest run;
* ``hello_podc_job`` runs its op as a step Job of ``podc_executor`` from the run worker;
* ``crash_once_job`` kills its run worker on the first attempt (after the run started) and
  succeeds when Dagster's run monitoring resumes the run in a new worker;
* ``sleepy_job`` (in the worker) and ``sleepy_podc_job`` (in a step Job) sleep, for termination.

Ops write to ``$PODC_EXAMPLE_STATE_DIR`` when it is set, so a test can see what ran where.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from dagster import Definitions, in_process_executor, job, op

from podc.dagster import podc_executor

STATE_DIR_ENV = "PODC_EXAMPLE_STATE_DIR"


def _note(name: str, text: str) -> None:
    state = os.environ.get(STATE_DIR_ENV)
    if state:
        (Path(state) / name).write_text(text)


@op
def hello() -> str:
    _note("hello", os.environ.get("HOSTNAME", ""))  # the worker's Pod name on the emulator
    return "hello"


@job(executor_def=in_process_executor)
def hello_job():
    hello()


@job(executor_def=podc_executor)
def hello_podc_job():
    hello()


@op
def crash_once() -> None:
    marker = Path(os.environ[STATE_DIR_ENV]) / "crashed-once"
    if not marker.exists():
        marker.write_text("1")
        os._exit(137)  # the run worker dies mid-run, like an OOM kill
    _note("resumed", os.environ.get("HOSTNAME", ""))


@job(executor_def=in_process_executor)
def crash_once_job():
    crash_once()


@op
def sleep_a_while() -> None:
    _note("sleeping", os.environ.get("HOSTNAME", ""))
    time.sleep(float(os.environ.get("PODC_EXAMPLE_SLEEP", "120")))


@job(executor_def=in_process_executor)
def sleepy_job():
    sleep_a_while()


@job(executor_def=podc_executor)
def sleepy_podc_job():
    sleep_a_while()


defs = Definitions(jobs=[hello_job, hello_podc_job, crash_once_job, sleepy_job, sleepy_podc_job])
