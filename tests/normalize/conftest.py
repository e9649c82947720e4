"""Helpers: normalise YAML text as a layer; walk the produced trees."""

import textwrap

import pytest

from podc.errors import Diagnostics
from podc.normalize import normalize_layer
from podc.source import load_text


@pytest.fixture
def norm():
    """norm(text, **kw) -> (patches, sorted diagnostics); the source file is layer.yaml."""

    def run(text: str, **kw):
        node = load_text(textwrap.dedent(text), "layer.yaml", layer="L")[0]
        diags = Diagnostics()
        return normalize_layer(node, diags, **kw), diags.sorted()

    return run


@pytest.fixture
def job(norm):
    """job(text, **kw) -> the friendly ("podc") tree of a valid layer."""

    def run(text: str, **kw):
        patches, diags = norm(text, **kw)
        assert diags == [], [f"{d.pos} {d.message}" for d in diags]
        tree, mode = patches[0]
        assert mode == "podc"
        return tree

    return run
