"""A real Dagster instance (SQLite, temporary DAGSTER_HOME) whose ``run_launcher`` is
``PodcRunLauncher`` pointed at a ``LocalCluster``; runs are created from the example's code
location loaded in process, exactly as the webserver would launch them."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import yaml

from dagster_support import EXAMPLE, PROJECT, step_env


@dataclass
class LauncherEnv:
    instance: Any
    workspace: Any
    cluster: Any
    state_dir: Path
    repo: Any
    module: str = "podc_example.launcher_jobs"

    def launch(self, job: str, tags: dict[str, str] | None = None,
               run_config: dict | None = None) -> Any:
        remote = self.repo.get_full_job(job)
        run = self.instance.create_run_for_job(
            job_def=_job_def(self.module, job), run_config=run_config, tags=tags or {},
            remote_job_origin=remote.get_remote_origin(),
            job_code_origin=remote.get_python_origin())
        self.instance.launch_run(run.run_id, self.workspace)
        return self.instance.get_run_by_id(run.run_id)

    def wait_finished(self, run_id: str, timeout: float = 90.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.instance.get_run_by_id(run_id)
            if run.is_finished:
                return run
            time.sleep(0.05)
        raise TimeoutError(f"run {run_id} not finished after {timeout}s: "
                           f"{self.instance.get_run_by_id(run_id).status}")

    def wait_status(self, run_id: str, status: Any, timeout: float = 90.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.instance.get_run_by_id(run_id)
            if run.status == status:
                return run
            time.sleep(0.05)
        raise TimeoutError(f"run {run_id} never {status}: {self.instance.get_run_by_id(run_id).status}")

    def messages(self, run_id: str) -> list[str]:
        return [e.message or "" for e in self.instance.all_logs(run_id)]

    def jobs(self) -> list[dict]:
        return self.cluster.store.list("jobs", "default")

    def pods(self) -> list[dict]:
        return self.cluster.store.list("pods", "default")


def _job_def(module: str, name: str) -> Any:
    import importlib

    return importlib.import_module(module).defs.get_job_def(name)


@contextlib.contextmanager
def launcher_env(tmp_path: Path, *, launcher: dict | None = None, instance_extra: dict | None = None,
                 cluster: dict | None = None, monkeypatch: Any = None,
                 module: str = "podc_example.launcher_jobs",
                 dagster_yaml: Path | None = None) -> Iterator[LauncherEnv]:
    """Start a LocalCluster (process mode), write dagster.yaml with PodcRunLauncher (or use the
    given one, with the env vars it reads set), open the instance and an in-process workspace of
    ``module``."""
    from dagster import DagsterInstance
    from dagster._core.test_utils import in_process_test_workspace
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    from podc.testing import LocalCluster

    home = tmp_path / "dagster_home"
    home.mkdir()
    state = tmp_path / "state"
    state.mkdir()
    kubeconfig = tmp_path / "kubeconfig"
    if monkeypatch is not None:
        monkeypatch.setenv("DAGSTER_HOME", str(home))
    else:
        os.environ["DAGSTER_HOME"] = str(home)
    with LocalCluster(**{"mode": "process", "inherit_env": False, "kubeconfig_path": str(kubeconfig),
                         **(cluster or {})}) as local:
        config = {
            "project": str(PROJECT), "target": "run-worker", "namespace": "default",
            "kubeconfig_file": str(kubeconfig), "local_python": True,
            "env_passthrough": ["DAGSTER_HOME"], "pending_timeout": 20,
            "layer": {"env": step_env(state)},
            **(launcher or {}),
        }
        settings = {
            "storage": {"sqlite": {"base_dir": str(home)}},
            "telemetry": {"enabled": False},
            "run_launcher": {"module": "podc.dagster", "class": "PodcRunLauncher", "config": config},
            **(instance_extra or {}),
        }
        if dagster_yaml is not None:
            settings = {**yaml.safe_load(dagster_yaml.read_text()),
                        "storage": settings["storage"]}
            for name, value in {"PODC_EXAMPLE_PROJECT": str(PROJECT),
                                "PODC_EXAMPLE_KUBECONFIG": str(kubeconfig),
                                "PODC_EXAMPLE_PIPES_ENV": "PYTHONPATH",
                                **step_env(state)}.items():
                monkeypatch.setenv(name, value)
        (home / "dagster.yaml").write_text(yaml.safe_dump(settings))
        origin = LoadableTargetOrigin(executable_path=sys.executable, working_directory=str(EXAMPLE),
                                      module_name=module)
        with DagsterInstance.from_config(str(home)) as instance, \
                in_process_test_workspace(instance, origin) as workspace:
            entry = next(iter(workspace.get_code_location_entries().values()))
            repo = next(iter(entry.code_location.get_repositories().values()))
            yield LauncherEnv(instance, workspace, local, state, repo, module)
