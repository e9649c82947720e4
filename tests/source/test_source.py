"""The positioned YAML loader: positions, directives and every bad-input class."""

from __future__ import annotations

import pytest

from podc.errors import PodcError
from podc.source import Limits, load_file, load_single, load_text
from podc.tree import MapNode, SeqNode, to_plain


def errors_of(text: str, **kw) -> list:
    with pytest.raises(PodcError) as e:
        load_text(text, "in.yaml", **kw)
    return e.value.diagnostics


def test_positions_are_one_based_for_values_and_keys():
    (doc,) = load_text("a: 1\nb:\n  c: [x, 'y']\n", "f.yaml", layer="base")
    c = doc.items["b"].items["c"]
    assert (c.items[1].origin.pos.line, c.items[1].origin.pos.col) == (3, 10)
    assert doc.items["b"].key_pos["c"].line == 3 and doc.items["b"].key_pos["c"].col == 3
    assert doc.items["a"].origin.layer == "base"


def test_scalars_read_as_kustomize_reads_them_and_keep_timestamps_as_text():
    (doc,) = load_text("a: yes\nb: 010\nc: 2024-01-01\nd: ~\ne: 1.5\nf: 0x10\ng: '3'\nh: 0o400\ni: 08\n")
    assert to_plain(doc) == {"a": "yes", "b": 8, "c": "2024-01-01", "d": None, "e": 1.5, "f": 16, "g": "3",
                             "h": 256, "i": 8}
    assert doc.items["b"].spelled == "010" and doc.items["c"].spelled == "2024-01-01"
    assert doc.items["a"].spelled is None and doc.items["e"].spelled is None


def test_directives_from_tags_and_patch_keys():
    (doc,) = load_text("a: !replace {x: 1}\nb: !replace [1]\nc: {$patch: replace, y: 2}\nd: [{$patch: replace}, 3]\ne: !delete {name: n}\n")
    assert [doc.items[k].directive for k in "abcde"] == ["replace", "replace", "replace", "replace", "delete"]
    assert to_plain(doc)["d"] == [3] and to_plain(doc)["c"] == {"y": 2}


def test_merge_keys_and_aliases():
    (doc,) = load_text("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n")
    assert to_plain(doc)["other"] == {"y": 3, "x": 1}


def test_all_problems_reported_together_with_positions():
    diags = errors_of("a: 1\na: 2\nb: !custom x\nc:\n  d: 1\n  d: 2\n")
    assert [(d.code, d.pos.line, d.pos.col) for d in diags] == [
        ("yaml.duplicate-key", 2, 1), ("yaml.tag", 3, 4), ("yaml.duplicate-key", 6, 3)]
    assert diags[0].related[0][0].line == 1


def test_syntax_error_is_located_with_hint():
    (d,) = errors_of("a: [1, 2\nb: 3\n")
    assert d.code == "yaml.syntax" and d.pos.line == 2 and d.hint


def test_tabs_get_a_specific_hint():
    (d,) = errors_of("a:\n\tb: 1\n")
    assert "tabs" in d.hint


def test_alias_bomb_is_stopped():
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    (d,) = errors_of("\n".join(lines) + "\n")
    assert d.code == "input.too-large" and "alias" in d.hint


def test_deep_nesting_is_stopped():
    (d,) = errors_of("a: " + "[" * 300 + "]" * 300 + "\n", limits=Limits(max_depth=50))
    assert d.code == "input.too-large" and "nesting" in d.message


def test_very_deep_nesting_does_not_crash():
    diags = errors_of("a: " + "[" * 20000 + "]" * 20000 + "\n")
    assert diags[0].code in {"input.too-large", "input.too-deep"}


def test_size_limit(tmp_path):
    p = tmp_path / "big.yaml"
    p.write_text("a: " + "x" * 2000 + "\n")
    with pytest.raises(PodcError) as e:
        load_file(p, limits=Limits(max_bytes=1000))
    assert e.value.diagnostics[0].code == "input.too-large"


def test_read_is_bounded_when_the_stat_size_is_wrong(tmp_path):
    import io

    from podc.source.guards import _read_bounded, read_text

    data = b"x" * 200_000
    assert _read_bounded(io.BytesIO(data), 10, 1_000_000) == data  # the file grew after the stat
    assert _read_bounded(io.BytesIO(data), 0, 150_001) == data[:150_001]  # never past the limit
    assert _read_bounded(io.BytesIO(b""), 0, 100) == b""
    exact = tmp_path / "exact.yaml"
    exact.write_text("a: " + "x" * 995 + "\n")  # 999 bytes: at the limit, read whole
    assert read_text(exact, Limits(max_bytes=999)) == exact.read_text()
    with pytest.raises(PodcError) as e:
        read_text(exact, Limits(max_bytes=998))
    assert e.value.diagnostics[0].code == "input.too-large"


def test_missing_file_and_bad_encoding(tmp_path):
    with pytest.raises(PodcError) as e:
        load_file(tmp_path / "nope.yaml")
    assert e.value.diagnostics[0].code == "input.missing-file"
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"a: 1\nb: \xff\n")
    with pytest.raises(PodcError) as e:
        load_file(bad)
    (d,) = e.value.diagnostics
    assert d.code == "input.encoding" and (d.pos.line, d.pos.col) == (2, 4)


def test_load_single_rejects_two_documents_and_accepts_empty(tmp_path):
    two = tmp_path / "two.yaml"
    two.write_text("a: 1\n---\nb: 2\n")
    with pytest.raises(PodcError) as e:
        load_single(two)
    assert e.value.diagnostics[0].code == "yaml.multiple-documents"
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    node = load_single(empty)
    assert isinstance(node, MapNode) and not node.items


def test_json_input_is_yaml():
    (doc,) = load_text('{"a": [1, {"b": null}]}', "x.json")
    assert isinstance(doc.items["a"], SeqNode) and to_plain(doc) == {"a": [1, {"b": None}]}


def test_syntax_error_at_end_of_file_is_located():
    for text in ("a: {", "a: {\n", "a: [1,\n"):
        (d,) = errors_of(text)
        assert d.code == "yaml.syntax" and d.pos.line >= 1
