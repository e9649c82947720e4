"""The ordered layers of one Dagster Pipes Job (``PipesPodcClient.run``).

Order (first = lowest precedence):

1. the project target's layers (``target`` of the call, else of the client), or the client's
   ``layers`` files;
2. ``pipes:client`` — the client's ``image``, ``env`` and ``timeout`` (→ activeDeadlineSeconds);
3. ``pipes:client.layer`` — the client's inline podc layer;
4. each entry of the call's ``layers=[...]``: a project layer name, a layer file, or an inline
   layer (``pipes:run.layers[i]``);
5. ``pipes:run`` — the call's own ``image``, ``command``, ``args``, ``env``;
6. ``dagster:pipes`` — the Pipes bootstrap environment (``DAGSTER_PIPES_CONTEXT``,
   ``DAGSTER_PIPES_MESSAGES``) and the ``dagster/*`` labels. Last, so no layer can cut the
   external process off from Dagster.

Pure (no Dagster import).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from podc._record import field, record
from podc.dagster.config import ExecutorSettings
from podc.dagster.layers import StepLayer, _resolve_named
from podc.dagster.run_layers import settings_layer_files
from podc.errors import Diagnostic, PodcError, Pos
from podc.kube.names import sanitize_label_value

__all__ = ["PipesCall", "pipes_layers", "LAYER_CLIENT", "LAYER_CALL", "LAYER_PIPES"]

LAYER_CLIENT = "pipes:client"
LAYER_CALL = "pipes:run"
LAYER_PIPES = "dagster:pipes"
COMPONENT = "pipes"


@record(frozen=True)
class PipesCall:
    """One ``run(...)`` call, as plain values."""

    run_id: str
    job_name: str
    step_key: str
    bootstrap_env: Mapping[str, str]
    layers: Sequence[str | Mapping[str, Any]] = ()
    image: str | None = None
    command: Sequence[str] | str | None = None
    args: Sequence[str] | None = None
    env: Mapping[str, Any] = field(default_factory=dict)


def _call_error(message: str, hint: str) -> PodcError:
    return PodcError([Diagnostic("dagster.pipes-bad-call", message,
                                 Pos("<PipesPodcClient.run(...)>", 1, 1), hint)])


def _named(entry: str, project_layers: Mapping[str, Path], base_dir: Path) -> StepLayer:
    try:
        return _resolve_named(entry, project_layers, base_dir, "pipes")
    except PodcError as err:
        raise PodcError([Diagnostic(
            d.code, d.message.replace("op tag 'podc/layers' on step 'pipes'",
                                      "PipesPodcClient.run(layers=...)"),
            Pos("<PipesPodcClient.run(layers=...)>", 1, 1), d.hint)
            for d in err.diagnostics]) from None


def pipes_layers(call: PipesCall, settings: ExecutorSettings, *, client_env: Mapping[str, Any],
                 timeout: float | None, project_layers: Mapping[str, Path] | None = None
                 ) -> list[StepLayer]:
    """Every layer of the Pipes Job after the project target's own, in merge order."""
    base_dir = Path(settings.base_dir or os.getcwd())
    out = settings_layer_files(settings, base_dir)
    client: dict[str, Any] = {}
    if settings.image:
        client["image"] = settings.image
    if client_env:
        client["env"] = dict(client_env)
    if timeout:
        client["activeDeadlineSeconds"] = int(timeout)
    if client:
        out.append(StepLayer(LAYER_CLIENT, client, f"<{LAYER_CLIENT}>"))
    if settings.layer:
        out.append(StepLayer(f"{LAYER_CLIENT}.layer", dict(settings.layer),
                             f"<{LAYER_CLIENT}.layer>"))
    if isinstance(call.layers, (str, Mapping)):
        raise _call_error(f"layers must be a list, got {type(call.layers).__name__}",
                          'e.g. layers=["highmem", {"resources": {"limits": {"memory": "2Gi"}}}]')
    for i, entry in enumerate(call.layers):
        if isinstance(entry, Mapping):
            name = f"{LAYER_CALL}.layers[{i}]"
            out.append(StepLayer(name, dict(entry), f"<{name}>"))
        elif isinstance(entry, (str, os.PathLike)):
            out.append(_named(os.fspath(entry), project_layers or {}, base_dir))
        else:
            raise _call_error(f"layers[{i}] must be a layer name, a file or a mapping, got "
                              f"{type(entry).__name__}", 'e.g. layers=["highmem"]')
    own: dict[str, Any] = {}
    if call.image:
        own["image"] = call.image
    if call.command is not None:
        own["command"] = [call.command] if isinstance(call.command, str) else list(call.command)
        own["args"] = list(call.args or [])
    elif call.args is not None:
        own["args"] = list(call.args)
    if call.env:
        own["env"] = dict(call.env)
    if own:
        out.append(StepLayer(LAYER_CALL, own, f"<{LAYER_CALL}>"))
    labels = {"dagster/job": sanitize_label_value(call.job_name),
              "dagster/run-id": sanitize_label_value(call.run_id),
              "dagster/op": sanitize_label_value(call.step_key),
              "app.kubernetes.io/component": COMPONENT}
    out.append(StepLayer(LAYER_PIPES, {"env": dict(call.bootstrap_env), "labels": labels},
                         "<dagster pipes layer: bootstrap env, labels>"))
    return out
