"""Emit, the last stage: deterministic text for compiled Jobs (:mod:`podc.emit.text`) and safe,
all-or-nothing writing of output folders (:mod:`podc.emit.outputs`)."""

from __future__ import annotations

from podc.emit.outputs import MANIFEST_NAME, TEMP_PREFIX, OutputPlan, apply_plan, plan_outputs, write_atomic
from podc.emit.text import MARKER_PREFIX, marker_line, render_document, to_json, to_yaml

__all__ = ["to_yaml", "to_json", "render_document", "marker_line", "MARKER_PREFIX", "MANIFEST_NAME", "TEMP_PREFIX",
           "OutputPlan", "plan_outputs", "write_atomic", "apply_plan"]
