"""The CEL function registry.

A function is registered per call style: *member* (``'a'.startsWith('b')``, the receiver is the
first argument) or *global* (``size(x)``), and per number of arguments, as CEL declares its
overloads. Calls are resolved when an expression is compiled, so an unknown function or a wrong
argument count is a load-time error (with a did-you-mean), as it is for the API server. The
libraries register themselves when imported (:mod:`podc.check.cel.interpreter` imports them all).
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["register", "lookup", "known_names", "FunctionError"]

# (name, is_member, argument count without the receiver) -> implementation
_REGISTRY: dict[tuple[str, bool, int], Callable[..., Any]] = {}


class FunctionError(Exception):
    """A call that cannot resolve: unknown name, wrong style or wrong argument count."""


def register(name: str, *, member: bool, args: int | tuple[int, ...]):
    def deco(fn):
        for n in (args if isinstance(args, tuple) else (args,)):
            _REGISTRY[(name, member, n)] = fn
        return fn
    return deco


def lookup(name: str, member: bool, nargs: int) -> Callable[..., Any]:
    fn = _REGISTRY.get((name, member, nargs))
    if fn is not None:
        return fn
    styles = {(m, n) for (k, m, n) in _REGISTRY if k == name}
    if not styles:
        raise FunctionError(f"undeclared reference to function '{name}'")
    if not any(m == member for m, _ in styles):
        how = "a method: <value>." + name + "(…)" if not member else "a function: " + name + "(…)"
        raise FunctionError(f"'{name}' is called as {how}")
    counts = sorted(n for m, n in styles if m == member)
    raise FunctionError(f"'{name}' takes {' or '.join(map(str, counts))} argument{'s' if counts != [1] else ''}, "
                        f"got {nargs}")


def known_names() -> list[str]:
    return sorted({k for k, _, _ in _REGISTRY})
