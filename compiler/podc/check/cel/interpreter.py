"""Compile a CEL syntax tree into Python closures over an :class:`Activation`.

Evaluation works on the caller's plain data. Errors are :class:`CelError` exceptions; ``&&``,
``||``, ``all`` and ``exists`` absorb an error when the other operands decide the result, as
CEL's commutative logic requires.

Cost: every evaluation starts by charging the expression's size, each comprehension iteration
charges its body's size, and strings/lists built by ``+`` or returned by functions charge a
tenth of their length (as cel-go's cost model does). Past the activation's ``limit`` a
:class:`CostExceeded` stops the evaluation at once.
"""

from __future__ import annotations

from typing import Any, Callable

# The libraries register their functions when imported.
# importing these registers their functions (import the modules, not the package: no cycle)
import podc.check.cel.functions  # noqa: F401
import podc.check.cel.k8s_lib  # noqa: F401
import podc.check.cel.k8s_net  # noqa: F401
import podc.check.cel.operators as ops
import podc.check.cel.strings_ext  # noqa: F401
import podc.check.cel.temporal  # noqa: F401
from podc.check.cel.functions import TYPE_NAMES
from podc.check.cel.registry import FunctionError, known_names, lookup
from podc.check.cel.lexer import CelSyntaxError
from podc.check.cel.nodes import And, Binary, Call, Comp, Cond, Has, Ident, Index, ListLit, Lit, MapLit, Node, \
    OptMap, Or, Select, Unary, walk
from podc.check.cel.values import CelError, CostExceeded, Optional, UInt, no_overload

__all__ = ["Activation", "Lazy", "compile_tree", "node_count"]

Closure = Callable[["Activation"], Any]


class Activation:
    """Variables of one evaluation and its cost meter."""

    __slots__ = ("vars", "used", "limit")

    def __init__(self, variables: dict, limit: int):
        self.vars, self.used, self.limit = variables, 0, limit

    def charge(self, amount: int) -> None:
        self.used += amount
        if self.used > self.limit:
            raise CostExceeded(f"operation cancelled: actual cost limit exceeded (budget {self.limit:,})")


class Lazy:
    """A top-level variable computed on first use (or refused: ``authorizer``)."""

    __slots__ = ("compute",)

    def __init__(self, compute: Callable[[Activation], Any]):
        self.compute = compute


def node_count(node: Node) -> int:
    return sum(1 for _ in walk(node))


def compile_tree(node: Node) -> Closure:
    return _COMPILERS[type(node)](node)


def _lit(node: Lit) -> Closure:
    value = node.value
    return lambda a: value


def _ident(node: Ident) -> Closure:
    name = node.name
    type_value = TYPE_NAMES.get(name)

    def ident(a: Activation) -> Any:
        try:
            v = a.vars[name]
        except KeyError:
            if type_value is not None:
                return type_value
            raise CelError(f"undeclared reference to '{name}'") from None
        if type(v) is Lazy:
            v = v.compute(a)
        return v
    return ident


def _select(node: Select) -> Closure:
    operand, field = compile_tree(node.operand), node.field
    if node.optional:
        return lambda a: ops.optional_select(operand(a), field)

    def select(a: Activation) -> Any:
        v = operand(a)
        if type(v) is dict:
            found = v.get(field)
            if found is not None:
                return found
        return ops.select(v, field)
    return select


def _has(node: Has) -> Closure:
    operand, field = compile_tree(node.operand), node.field
    return lambda a: ops.has_field(operand(a), field)


def _index(node: Index) -> Closure:
    operand, key = compile_tree(node.operand), compile_tree(node.index)
    fn = ops.optional_index if node.optional else ops.index
    return lambda a: fn(operand(a), key(a))


def _charge_size(a: Activation, v: Any) -> Any:
    if type(v) in (str, list, bytes, dict) and len(v) >= 10:
        a.charge(len(v) // 10)
    return v


def _call(node: Call) -> Closure:
    member = node.target is not None
    try:
        fn = lookup(node.name, member, len(node.args))
    except FunctionError as e:
        raise CelSyntaxError(str(e) + _suggest(node.name), node.offset) from None
    args = [compile_tree(x) for x in ((node.target, *node.args) if member else node.args)]
    n = len(args)
    if n == 0:
        return lambda a: _charge_size(a, fn())
    if n == 1:
        (x,) = args
        return lambda a: _charge_size(a, fn(x(a)))
    if n == 2:
        x, y = args
        return lambda a: _charge_size(a, fn(x(a), y(a)))
    return lambda a: _charge_size(a, fn(*[f(a) for f in args]))


def _suggest(name: str) -> str:
    from podc.errors import did_you_mean

    if name in known_names():
        return ""
    guess = did_you_mean(name, known_names())
    return f" (did you mean '{guess}'?)" if guess else ""


def _list(node: ListLit) -> Closure:
    items = [compile_tree(x) for x in node.items]
    if not any(node.optional):
        return lambda a: [f(a) for f in items]
    flags = list(node.optional)

    def build(a: Activation) -> list:
        out = []
        for f, opt in zip(items, flags):
            v = f(a)
            if opt:
                if type(v) is not Optional:
                    raise no_overload("optional list element", v)
                if v.present:
                    out.append(v.value)
            else:
                out.append(v)
        return out
    return build


_KEY_TYPES = (str, int, UInt, bool)


def _map(node: MapLit) -> Closure:
    entries = [(compile_tree(k), compile_tree(v), opt) for k, v, opt in node.entries]

    def build(a: Activation) -> dict:
        out: dict = {}
        for kf, vf, opt in entries:
            k = kf(a)
            if type(k) not in _KEY_TYPES:
                raise CelError(f"unsupported map key type: {type(k).__name__}")
            if k in out:
                raise CelError(f"map literal has a repeated key: {k!r}")
            v = vf(a)
            if opt:
                if type(v) is not Optional:
                    raise no_overload("optional map entry", v)
                if v.present:
                    out[k] = v.value
            else:
                out[k] = v
        return out
    return build


def _unary(node: Unary) -> Closure:
    operand = compile_tree(node.operand)
    if node.op == "-":
        return lambda a: ops.neg(operand(a))

    def negate(a: Activation) -> bool:
        v = operand(a)
        if type(v) is not bool:
            raise no_overload("!_", v)
        return not v
    return negate


def _binary(node: Binary) -> Closure:
    left, right = compile_tree(node.left), compile_tree(node.right)
    if node.op in ops.RELATIONS:
        fn = ops.RELATIONS[node.op]
        return lambda a: fn(left(a), right(a))
    fn = ops.ARITHMETIC[node.op]
    if node.op == "+":
        return lambda a: _charge_size(a, fn(left(a), right(a)))
    return lambda a: fn(left(a), right(a))


def _logic(node: And) -> Closure:
    terms = [compile_tree(t) for t in node.terms]
    decisive = isinstance(node, Or)  # the value that decides: true for ||, false for &&
    name = "_||_" if decisive else "_&&_"

    def logic(a: Activation) -> bool:
        error: CelError | None = None
        for term in terms:
            try:
                v = term(a)
            except CostExceeded:
                raise
            except CelError as e:
                error = error or e
                continue
            if v is decisive:
                return decisive
            if type(v) is not bool:
                error = error or no_overload(name, v)
        if error is not None:
            raise error
        return not decisive
    return logic


def _cond(node: Cond) -> Closure:
    cond, then, otherwise = compile_tree(node.cond), compile_tree(node.then), compile_tree(node.otherwise)

    def conditional(a: Activation) -> Any:
        c = cond(a)
        if c is True:
            return then(a)
        if c is False:
            return otherwise(a)
        raise no_overload("_?_:_", c)
    return conditional


def _opt_map(node: OptMap) -> Closure:
    target, expr, var, flat = compile_tree(node.target), compile_tree(node.expr), node.var, node.kind == "optFlatMap"

    def opt_map(a: Activation) -> Optional:
        o = target(a)
        if type(o) is not Optional:
            raise no_overload(node.kind, o)
        if not o.present:
            return o
        saved = a.vars.get(var, _UNSET)
        a.vars[var] = o.value
        try:
            v = expr(a)
        finally:
            _restore(a, var, saved)
        if flat:
            if type(v) is not Optional:
                raise no_overload("optFlatMap", v)
            return v
        return Optional(True, v)
    return opt_map


_UNSET = object()


def _restore(a: Activation, var: str, saved: Any) -> None:
    if saved is _UNSET:
        a.vars.pop(var, None)
    else:
        a.vars[var] = saved


def _comp(node: Comp) -> Closure:
    from podc.check.cel.comprehensions import build

    return build(node, compile_tree, node_count, _restore, _UNSET)


_COMPILERS: dict[type, Callable[[Any], Closure]] = {
    Lit: _lit, Ident: _ident, Select: _select, Has: _has, Index: _index, Call: _call, ListLit: _list,
    MapLit: _map, Unary: _unary, Binary: _binary, And: _logic, Or: _logic, Cond: _cond, Comp: _comp,
    OptMap: _opt_map,
}
