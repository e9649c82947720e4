"""Helpers: validate YAML text as a layer or project and get (spec, diagnostics)."""

import textwrap

import pytest

from podc.errors import Diagnostics
from podc.model import validate_layer, validate_project
from podc.source import load_text


def _run(validate, text: str, filename: str):
    node = load_text(textwrap.dedent(text), filename, layer="test")[0]
    diags = Diagnostics()
    spec = validate(node, diags)
    return spec, diags.sorted()


@pytest.fixture
def layer():
    """layer(text) -> (LayerSpec | None, sorted diagnostics)."""
    return lambda text: _run(validate_layer, text, "layer.yaml")


@pytest.fixture
def project():
    """project(text) -> (ProjectSpec | None, sorted diagnostics)."""
    return lambda text: _run(validate_project, text, "podc.yaml")
