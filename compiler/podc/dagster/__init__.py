"""Dagster integration: ``podc_executor`` runs each step as a compiled, policy-checked Job;
``PodcRunLauncher`` does the same for run workers and ``PipesPodcClient`` for Dagster Pipes.

Needs the ``podc[dagster]`` extra. ``import podc`` never imports this package, and the pure
modules here (``tags``, ``layers``, ``config``, ``events``, ``compile``, ``cluster``, and the
dagster-k8s translation ``k8s_config`` / ``k8s_model`` / ``k8s_place`` / ``migrate``, the
launcher's ``launcher_config`` / ``run_layers`` / ``run_workers`` and Pipes' ``pipes_layers``) do
not import Dagster: the names below are loaded on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["podc_executor", "PodcExecutor", "PodcStepHandler", "make_executor", "PodcRunLauncher",
           "PipesPodcClient"]


def __getattr__(name: str) -> Any:
    if name in ("podc_executor", "PodcExecutor", "make_executor"):
        from podc.dagster import executor

        return getattr(executor, name)
    if name == "PodcStepHandler":
        from podc.dagster.step_handler import PodcStepHandler

        return PodcStepHandler
    if name == "PodcRunLauncher":
        from podc.dagster.launcher import PodcRunLauncher

        return PodcRunLauncher
    if name == "PipesPodcClient":
        from podc.dagster.pipes import PipesPodcClient

        return PipesPodcClient
    raise AttributeError(f"module 'podc.dagster' has no attribute {name!r}")
