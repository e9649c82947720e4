"""Every produced node points at real text: a leaf's origin is where its value is written."""

import sys
from pathlib import Path

from podc.errors import Diagnostics
from podc.normalize import normalize_layer
from podc.source import load_text
from podc.tree import MapNode, SeqNode, iter_leaves

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
from test_model_layer_valid import FULL_LAYER  # noqa: E402

# Values podc writes itself; their origin is the key or field that caused them.
GENERATED = {"Always", "main", True}


def _nodes(node):
    yield node
    if isinstance(node, MapNode):
        for v in node.items.values():
            yield from _nodes(v)
    elif isinstance(node, SeqNode):
        for v in node.items:
            yield from _nodes(v)


def test_every_leaf_points_at_its_text():
    lines = FULL_LAYER.splitlines()
    node = load_text(FULL_LAYER, "full.yaml", layer="full")[0]
    diags = Diagnostics()
    patches = normalize_layer(node, diags)
    assert not diags.errors
    checked = 0
    for tree, _ in patches:
        for n in _nodes(tree):
            assert n.origin.layer == "full" and n.origin.pos.file == "full.yaml" and n.origin.pos.line > 0
        for path, leaf in iter_leaves(tree):
            text = lines[leaf.origin.pos.line - 1][leaf.origin.pos.col - 1:]
            value = leaf.value
            if value is None or value in GENERATED and not text.startswith(str(value)):
                continue
            if isinstance(value, str) and value.startswith("secret-"):
                assert text.startswith(value[len("secret-"):]), (path, value, text)  # at the Secret's name
                continue
            written = {True: "true", False: "false"}.get(value, str(value)) if isinstance(value, bool) else str(value)
            assert text.lstrip("\"'").startswith(written) or text.startswith(_octal(value)), (path, value, text)
            checked += 1
    assert checked > 100


def _octal(value):
    return f"0o{value:o}" if isinstance(value, int) and not isinstance(value, bool) else "\0"
