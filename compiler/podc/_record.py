"""``@record``: the part of :func:`dataclasses.dataclass` podc uses, at a fifth of its import cost.

Why not ``dataclasses``: ``podc compile`` is a short-lived process (pre-commit runs it on every
commit) and defining its ~40 record classes with ``dataclasses`` took ~28 ms of a ~130 ms run:
``dataclasses`` compiles every generated method with its own ``exec`` and imports ``inspect``
(and with it ``ast``, ``dis``, ``tokenize``). ``record`` writes the same methods as one source
text per class, compiled once, and imports nothing.

Supported: ``frozen``, ``slots``, ``order``, ``eq``; ``field(default=, default_factory=,
init=, repr=, compare=, hash=)``; fields inherited from record base classes; :func:`replace`;
pickling and copying (also of frozen, slotted records). Methods the class defines itself are
kept, as with ``dataclasses``. Type checkers read ``record`` as a dataclass (PEP 681), and so
do the functions of :mod:`dataclasses` (``is_dataclass``, ``fields``, ``asdict``, ``replace``):
a record's ``__dataclass_fields__`` is made on first use, so only code that asks for it pays
for importing :mod:`dataclasses`.
"""

from __future__ import annotations

from operator import attrgetter, eq as _eq, ge as _ge, gt as _gt, le as _le, lt as _lt
from typing import Any, Callable, TypeVar, dataclass_transform

__all__ = ["record", "field", "replace", "fields", "FrozenInstanceError", "MISSING"]

T = TypeVar("T")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class FrozenInstanceError(AttributeError):
    """Assigning to a field of a frozen record."""


class Field:
    __slots__ = ("name", "default", "default_factory", "init", "repr", "compare", "hash")

    def __init__(self, default: Any = MISSING, default_factory: Any = MISSING, init: bool = True,
                 repr: bool = True, compare: bool = True, hash: bool | None = None) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.init = init
        self.repr = repr
        self.compare = compare
        self.hash = hash

    def __repr__(self) -> str:
        return f"Field(name={self.name!r})"


def field(*, default: Any = MISSING, default_factory: Callable[[], Any] | Any = MISSING, init: bool = True,
          repr: bool = True, compare: bool = True, hash: bool | None = None) -> Any:
    """A field with a default factory or other options, as :func:`dataclasses.field`
    (``init=False``: not a parameter of ``__init__``, set from its default)."""
    return Field(default, default_factory, init, repr, compare, hash)


def fields(obj_or_cls: Any) -> tuple[Field, ...]:
    """The record's fields, in definition order."""
    return obj_or_cls.__record_fields__


def replace(obj: T, **changes: Any) -> T:
    """A copy of the record ``obj`` with ``changes`` applied, as :func:`dataclasses.replace`."""
    for f in obj.__record_fields__:  # type: ignore[attr-defined]
        if not f.init:
            if f.name in changes:
                raise ValueError(f"field {f.name} is declared with init=False, it cannot be specified with replace()")
            continue
        if f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return obj.__class__(**changes)


@dataclass_transform(field_specifiers=(field,))
def record(cls: Any = None, /, *, frozen: bool = False, slots: bool = False, order: bool = False,
           eq: bool = True) -> Any:
    """Make ``cls`` a record: ``__init__``, ``__repr__``, ``__eq__`` (and ``__hash__`` when
    frozen), ordering with ``order=True``, ``__slots__`` with ``slots=True``."""
    def wrap(c: Any) -> Any:
        return _process(c, frozen, slots, order, eq)

    return wrap if cls is None else wrap(cls)


def _own_fields(cls: Any) -> list[Field]:
    out = []
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if isinstance(annotation, str) and annotation.replace("typing.", "").startswith("ClassVar"):
            continue
        value = cls.__dict__.get(name, MISSING)
        f = value if isinstance(value, Field) else Field(default=value)
        f.name = name
        out.append(f)
    return out


def _process(cls: Any, frozen: bool, slots: bool, order: bool, eq: bool) -> Any:
    by_name: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for f in getattr(base, "__record_fields__", ()):
            by_name[f.name] = f
    for f in _own_fields(cls):
        by_name[f.name] = f
    all_fields = tuple(by_name.values())
    names = tuple(f.name for f in all_fields)
    own = cls.__dict__

    # the generated __init__'s globals: names no field can take (a field called MISSING…)
    env: dict[str, Any] = {"__record_missing__": MISSING, "__record_set__": object.__setattr__}
    params, body = [], []
    seen_default = False
    for f in all_fields:
        if not f.init:
            if f.default is not MISSING:
                env[f"__record_d_{f.name}__"] = f.default
                value = f"__record_d_{f.name}__"
            elif f.default_factory is not MISSING:
                env[f"__record_f_{f.name}__"] = f.default_factory
                value = f"__record_f_{f.name}__()"
            else:
                continue  # no value until the class sets one
        elif f.default is not MISSING:
            env[f"__record_d_{f.name}__"] = f.default
            params.append(f"{f.name}=__record_d_{f.name}__")
            value = f.name
            seen_default = True
        elif f.default_factory is not MISSING:
            env[f"__record_f_{f.name}__"] = f.default_factory
            params.append(f"{f.name}=__record_missing__")
            value = f"__record_f_{f.name}__() if {f.name} is __record_missing__ else {f.name}"
            seen_default = True
        else:
            if seen_default:
                raise TypeError(f"non-default argument {f.name!r} follows default argument in {cls.__name__}")
            params.append(f.name)
            value = f.name
        body.append(f"    __record_set__(self, {f.name!r}, {value})" if frozen else f"    self.{f.name} = {value}")
    src = [f"def __init__(self, {', '.join(params)}):", *(body or ["    pass"])]

    exec(compile("\n".join(src), f"<record {cls.__qualname__}>", "exec"), env)  # noqa: S102
    methods: dict[str, Callable[..., Any]] = {"__init__": env["__init__"], "__repr__": _repr_of(all_fields)}
    class_hash = own.get("__hash__", MISSING)
    explicit_hash = not (class_hash is MISSING or (class_hash is None and "__eq__" in own))
    compared = _key_of([f.name for f in all_fields if f.compare])
    if eq:
        methods["__eq__"] = _compare_by(compared, _eq)
    if order:
        for name, op in (("__lt__", _lt), ("__le__", _le), ("__gt__", _gt), ("__ge__", _ge)):
            if name in own:
                raise TypeError(f"{cls.__name__} defines {name} itself: cannot use order=True")
            methods[name] = _compare_by(compared, op)
    if eq and frozen and not explicit_hash:
        hashed = _key_of([f.name for f in all_fields if (f.compare if f.hash is None else f.hash)])
        methods["__hash__"] = lambda self: hash(hashed(self))
    if slots:
        methods["__getstate__"] = lambda self: [getattr(self, n) for n in names]
        methods["__setstate__"] = _setstate_of(names)
        body_dict = {k: v for k, v in own.items() if k not in names and k not in ("__dict__", "__weakref__")}
        body_dict["__slots__"] = tuple(n for n in names if n not in _inherited_slots(cls))
        new = type(cls)(cls.__name__, cls.__bases__, body_dict)
        new.__qualname__ = cls.__qualname__
        cls = new
    else:
        for f in all_fields:  # a Field object as class attribute would shadow nothing useful
            if isinstance(own.get(f.name), Field):
                if f.default is MISSING:
                    delattr(cls, f.name)
                else:
                    setattr(cls, f.name, f.default)
    if frozen:
        methods["__setattr__"], methods["__delattr__"] = _frozen(cls, frozenset(names))
    for name, fn in methods.items():
        if name in cls.__dict__ and name in ("__init__", "__repr__", "__eq__", "__getstate__", "__setstate__"):
            continue  # the class's own method wins, as with dataclasses
        fn.__qualname__ = f"{cls.__qualname__}.{name}"
        fn.__name__ = name
        setattr(cls, name, fn)
    if eq and not frozen and not explicit_hash:
        cls.__hash__ = None  # mutable and compared by value: unhashable, as with dataclasses
    cls.__record_fields__ = all_fields
    cls.__dataclass_fields__ = _DataclassFields()
    cls.__match_args__ = tuple(f.name for f in all_fields if f.init)
    return cls


# Only __init__ is compiled per class (it must be as fast as a hand-written one: some records are
# made once per YAML node). The other methods are closures over C-level attrgetters: no compile.

def _key_of(names: list[str]) -> Callable[[Any], tuple]:
    if len(names) >= 2:
        return attrgetter(*names)  # type: ignore[return-value]
    if names:
        only = attrgetter(names[0])
        return lambda obj: (only(obj),)
    return lambda obj: ()


def _compare_by(key: Callable[[Any], tuple], op: Callable[[tuple, tuple], bool]) -> Callable[[Any, Any], Any]:
    def compare(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return op(key(self), key(other))
        return NotImplemented

    return compare


def _repr_of(all_fields: tuple[Field, ...]) -> Callable[[Any], str]:
    shown = tuple(f.name for f in all_fields if f.repr)

    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in shown)
        return f"{self.__class__.__qualname__}({inner})"

    return __repr__


def _setstate_of(names: tuple[str, ...]) -> Callable[[Any, list], None]:
    def __setstate__(self: Any, state: list) -> None:
        for n, v in zip(names, state):
            object.__setattr__(self, n, v)

    return __setstate__


def _frozen(cls: Any, field_names: frozenset[str]) -> tuple[Callable[..., None], Callable[..., None]]:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in field_names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in field_names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    return __setattr__, __delattr__


class _DataclassFields:
    """A record's ``__dataclass_fields__``, built from its fields the first time it is read (by
    :func:`dataclasses.is_dataclass`, ``fields``, ``asdict``, ``replace``…) and then stored on
    the class. The Field objects come from :func:`dataclasses.make_dataclass` (no private API)."""

    def __get__(self, instance: Any, owner: Any) -> dict[str, Any]:
        import dataclasses

        annotations: dict[str, Any] = {}
        for klass in reversed(owner.__mro__):
            annotations.update(klass.__dict__.get("__annotations__", {}))
        specs = []
        for f in owner.__record_fields__:
            options: dict[str, Any] = {"init": f.init, "repr": f.repr, "compare": f.compare, "hash": f.hash}
            if f.default is not MISSING:
                options["default"] = f.default
            elif f.default_factory is not MISSING:
                options["default_factory"] = f.default_factory
            specs.append((f.name, annotations.get(f.name, Any), dataclasses.field(**options)))
        # no methods: only the Field objects are wanted (and no default-ordering rule applies)
        shadow = dataclasses.make_dataclass(owner.__name__, specs, init=False, repr=False, eq=False)
        found = dict(shadow.__dataclass_fields__)
        type.__setattr__(owner, "__dataclass_fields__", found)
        return found


def _inherited_slots(cls: Any) -> set[str]:
    out: set[str] = set()
    for base in cls.__mro__[1:]:
        out.update(getattr(base, "__slots__", ()))
    return out
