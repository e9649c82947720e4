"""Options every command shares: ``--quiet``/``-q``, ``--verbose``/``-v``, ``--no-color``/``--color``.

``podc`` takes them anywhere on the command line (before a ``--``), so ``podc -q compile`` and
``podc compile -q`` mean the same; the command modules then ask this module what to print.

Colour follows https://no-color.org and https://force-color.org: ``--no-color`` or a non-empty
``NO_COLOR`` turn it off; ``--color`` or a non-empty ``FORCE_COLOR`` (other than ``0``) turn it
on; otherwise colour is used only when the stream is a terminal.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence, TextIO

__all__ = ["take_global_options", "use_color", "quiet", "verbose", "say", "detail", "reset", "HelpFormatter"]

_state = {"verbosity": 0, "color": None}  # color: None = decide per stream, True/False = forced

_FLAGS = {"--quiet": ("verbosity", -1), "-q": ("verbosity", -1), "--verbose": ("verbosity", 1),
          "-v": ("verbosity", 1), "--no-color": ("color", False), "--color": ("color", True)}


def reset() -> None:
    _state.update(verbosity=0, color=None)


def take_global_options(args: Sequence[str]) -> list[str]:
    """Remove the shared options from ``args`` (up to a ``--``) and remember them."""
    rest: list[str] = []
    args = list(args)
    for i, arg in enumerate(args):
        if arg == "--":
            rest.extend(args[i:])
            break
        flag = _FLAGS.get(arg)
        if flag is None:
            rest.append(arg)
        else:
            _state[flag[0]] = flag[1]
    return rest


def quiet() -> bool:
    return _state["verbosity"] < 0


def verbose() -> bool:
    return _state["verbosity"] > 0


def use_color(stream: TextIO | None = None) -> bool:
    forced = _state["color"]
    if forced is not None:
        return forced
    if os.environ.get("NO_COLOR"):
        return False
    force = os.environ.get("FORCE_COLOR")
    if force and force != "0":
        return True
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def say(message: str) -> None:
    """A progress or summary line on stderr; ``--quiet`` silences it (errors use their own path)."""
    if not quiet():
        print(message, file=sys.stderr)


def detail(message: str) -> None:
    """A line shown only with ``--verbose``."""
    if verbose():
        print(message, file=sys.stderr)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter at the terminal's width, measured as ``shutil.get_terminal_size``
    measures it (``COLUMNS``, then the terminal, then 80) without importing ``shutil``: argparse
    imports it, and with it ``bz2`` and ``lzma`` (~4 ms), for every parser it builds, even when
    no help is shown."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2 if width is None else width)


def _columns() -> int:
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80
