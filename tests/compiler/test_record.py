"""``podc._record.record`` behaves as ``dataclasses.dataclass`` for everything podc uses: each
check builds the same class both ways and compares what they do."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from pathlib import Path

import pytest

from podc import _record
from podc._record import FrozenInstanceError, field, record, replace

ROOT = Path(__file__).resolve().parents[2]

OPTIONS = [dict(), dict(frozen=True), dict(frozen=True, slots=True), dict(slots=True),
           dict(frozen=True, slots=True, order=True), dict(order=True), dict(eq=False)]


def _both(options: dict):
    def body(deco, fld):
        @deco(**options)
        class Point:
            """A point."""
            x: int
            y: int = 0
            tags: list = fld(default_factory=list)
            note: str = fld(default="", compare=False, repr=False)
        return Point

    return body(dataclasses.dataclass, dataclasses.field), body(record, field)


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_record_matches_dataclass(options):
    std, rec = _both(options)
    for args, kwargs in [((1,), {}), ((1, 2), {}), ((1,), {"tags": ["a"], "note": "n"}), ((), {"x": 3, "y": 4})]:
        a, b = std(*args, **kwargs), rec(*args, **kwargs)
        assert repr(a) == repr(b)
        assert (a.x, a.y, a.tags, a.note) == (b.x, b.y, b.tags, b.note)
    assert rec(1).tags is not rec(1).tags  # a fresh default each time
    same, other = (rec(1, 2, [], "a"), rec(1, 2, [], "b")), rec(2)
    if options.get("eq", True):
        assert same[0] == same[1] and same[0] != other  # `note` is not compared
        assert (rec(1) == std(1)) is False  # another class is never equal
    else:
        assert same[0] != same[1]
    if options.get("frozen"):
        assert hash(rec(1, 2, (), "a")) == hash(rec(1, 2, (), "b")) == hash(std(1, 2, (), "x"))
        assert {rec(1, 2, ()): 1}[rec(1, 2, ())] == 1
        with pytest.raises(FrozenInstanceError):
            same[0].x = 5
        with pytest.raises(AttributeError):
            del same[0].x
    elif options.get("eq", True):
        with pytest.raises(TypeError):
            hash(rec(1))
        obj = rec(1)
        obj.x = 7
        assert obj.x == 7
    if options.get("order"):
        assert rec(1, 2) < rec(1, 3) <= rec(1, 3) and rec(2) > rec(1, 9) >= rec(1, 9)
        assert sorted([rec(3), rec(1, 5), rec(1, 2)]) == [rec(1, 2), rec(1, 5), rec(3)]
        with pytest.raises(TypeError):
            rec(1) < std(1)
    if options.get("slots"):
        assert rec.__slots__ == std.__slots__ and not hasattr(rec(1), "__dict__")
    assert rec.__match_args__ == std.__match_args__


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_copy_pickle_and_replace(options):
    _std, rec = _both(options)
    globals()["Point"] = rec  # pickle finds classes by module and name
    rec.__qualname__ = "Point"
    try:
        obj = rec(1, 2, ["t"], "n")
        for clone in (copy.copy(obj), copy.deepcopy(obj), pickle.loads(pickle.dumps(obj))):
            assert (clone.x, clone.y, clone.tags, clone.note) == (1, 2, ["t"], "n")
        changed = replace(obj, y=9)
        assert (changed.x, changed.y, changed.tags, changed.note) == (1, 9, ["t"], "n")
        assert (obj.y, type(changed)) == (2, rec)
    finally:
        del globals()["Point"]


def test_errors_and_init_false():
    with pytest.raises(TypeError, match="non-default argument 'b'"):
        @record
        class Bad:
            a: int = 1
            b: int

    @record
    class Cached:
        name: str
        _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)
        _seen: object = field(default=None, init=False)

    c = Cached("x")
    assert (c._memo, c._seen, repr(c)) == ({}, None, "test_errors_and_init_false.<locals>.Cached(name='x', _seen=None)")
    with pytest.raises(TypeError):
        Cached("x", {})
    with pytest.raises(ValueError, match="init=False"):
        replace(c, _seen=1)
    assert [f.name for f in _record.fields(c)] == ["name", "_memo", "_seen"]


def test_own_methods_win_and_fields_are_inherited():
    @record(frozen=True)
    class Base:
        a: int

        def __repr__(self) -> str:
            return "mine"

    @record(frozen=True)
    class Child(Base):
        b: int = 2

    assert repr(Base(1)) == "mine" and Child(1) == Child(1, 2) and Child(1).b == 2
    assert Child.__match_args__ == ("a", "b")


def test_the_dataclasses_functions_work_on_records_and_on_podc_types():
    import podc
    from podc.errors import Diagnostic

    std, rec = _both(dict(frozen=True, slots=True))
    obj = rec(1, 2, ["t"], "n")
    assert dataclasses.is_dataclass(rec) and dataclasses.is_dataclass(obj)
    assert [f.name for f in dataclasses.fields(obj)] == [f.name for f in dataclasses.fields(std)]
    assert dataclasses.asdict(obj) == dataclasses.asdict(std(1, 2, ["t"], "n"))
    assert dataclasses.replace(obj, y=5) == rec(1, 5, ["t"], "n")
    pos = podc.Pos("a.yaml", 3, 4)
    assert dataclasses.replace(pos, line=9) == podc.Pos("a.yaml", 9, 4)
    d = Diagnostic("x.y", "message", pos)
    assert dataclasses.asdict(d)["pos"] == {"file": "a.yaml", "line": 3, "col": 4}


def test_compiling_does_not_import_dataclasses(tmp_path):
    import subprocess
    import sys

    code = ("import sys\nfrom podc.cli.main import main\n"
            f"rc = main(['compile', {str(ROOT / 'examples' / 'platform')!r}, '--out', {str(tmp_path / 'o')!r}, '-q'])\n"
            "print(rc, 'dataclasses' in sys.modules, 'inspect' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0", "False", "False"]


def test_field_names_cannot_clash_with_the_generated_code():
    @record(frozen=True)
    class Odd:
        MISSING: int = 1
        object_setattr: list = field(default_factory=list)
        self_: int = 0

    o = Odd()
    assert (o.MISSING, o.object_setattr, o.self_) == (1, [], 0)
    assert Odd(MISSING=2, object_setattr=[1]).object_setattr == [1]
