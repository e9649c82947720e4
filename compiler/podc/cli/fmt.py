"""``podc fmt [PATH…] [--check]``: canonical formatting of podc layer and project files.

Canonical means: 2-space indentation, list items indented under their key (``  - x``, as podc's
own output), no trailing spaces, one final newline. Comments, key order, quoting and flow
collections (``{cpu: 1}``) are kept; a file is only rewritten when its data reads back
identical. Folders are searched for ``.yaml``/``.yml`` files, skipping hidden folders, the
project's output folder and files podc generated. ``--check`` writes nothing and exits 1 when a
file would change (for CI and pre-commit).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path
from typing import Sequence
from podc.cli.console import HelpFormatter

__all__ = ["main", "format_text"]

EXAMPLES = """examples:
  podc fmt                          # every layer and project file under the current folder
  podc fmt layers/gpu.yaml podc.yaml
  podc fmt --check examples/platform    # exit 1 and name the files that are not formatted
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="podc fmt", description="Format podc layer and project files canonically, "
                                "keeping comments.", formatter_class=HelpFormatter,
                                epilog=EXAMPLES)
    p.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or folders (default: .)")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is not formatted")
    return p


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    return fmt_command(args.paths or ["."], check=args.check)


def fmt_command(paths: Sequence[str], *, check: bool = False) -> int:
    from podc.cli import console
    from podc.emit import write_atomic
    from podc.errors import Diagnostics, PodcError

    diags = Diagnostics()
    files = _collect(paths, diags)
    diags.raise_if_errors()
    changed = []
    for path in files:
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            diags.add("fmt.unreadable", f"cannot read the file: {e}", _pos(path))
            continue
        try:
            formatted = format_text(text, str(path))
        except PodcError as e:
            diags.extend(e.diagnostics)
            continue
        if formatted != text:
            changed.append(path)
            if check:
                print(f"podc: would reformat {_shown(path)}", file=sys.stderr)
            else:
                write_atomic(path, formatted)
                console.detail(f"podc: formatted {_shown(path)}")
    diags.raise_if_errors()
    if check:
        return 1 if changed else 0
    console.say(f"podc: {len(changed)} formatted, {len(files) - len(changed)} unchanged")
    return 0


def _pos(path: Path):
    from podc.errors import Pos

    return Pos(str(path))


def _shown(path: Path) -> str:
    rel = os.path.relpath(path)
    return str(path) if rel.startswith("..") else rel


def _collect(paths: Sequence[str], diags) -> list[Path]:
    from podc.emit import MARKER_PREFIX

    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            skip = _output_folders(p)
            for folder, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and Path(folder, d).resolve() not in skip)
                for name in sorted(names):
                    f = Path(folder, name)
                    if f.suffix in (".yaml", ".yml") and not _starts_with(f, MARKER_PREFIX):
                        out.append(f)
        else:
            diags.add("input.missing-file", "no such file or folder", _pos(p))
    return out


def _output_folders(root: Path) -> set[Path]:
    """The output folders of projects under ``root`` (their files are generated, not written)."""
    found = set()
    for project in root.rglob("podc.yaml"):
        try:
            from podc.project import load_project

            found.add(load_project(project).output.resolve())
        except Exception:  # noqa: BLE001 - a broken project: skip its default output folder only
            found.add((project.parent / "build").resolve())
    return found


def _starts_with(path: Path, prefix: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(len(prefix)).decode("utf-8", "replace") == prefix
    except OSError:
        return False


def _yaml():
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    y.width = 4096  # never re-wrap long values
    # `KEY: null` deletes in a layer: keep the word (ruamel would write an empty value)
    y.representer.add_representer(type(None), lambda r, _: r.represent_scalar("tag:yaml.org,2002:null", "null"))
    return y


def format_text(text: str, name: str = "<text>") -> str:
    """``text`` formatted canonically; ``PodcError`` when it is not YAML or would change meaning."""
    from podc.errors import PodcError, Pos

    y = _yaml()
    try:
        docs = list(y.load_all(text))
        buf = io.StringIO()
        if len(docs) == 1:
            y.dump(docs[0], buf)
        else:
            y.dump_all(docs, buf)
    except Exception as e:  # noqa: BLE001 - ruamel's many error types: report, never crash
        mark = getattr(e, "problem_mark", None)
        pos = Pos(name, mark.line + 1, mark.column + 1) if mark is not None else Pos(name)
        raise PodcError.single("fmt.not-yaml", f"cannot format: {getattr(e, 'problem', None) or e}", pos,
                               hint="fix the YAML first (`podc compile` or `podc check` says where)") from None
    out = "\n".join(line.rstrip() for line in buf.getvalue().split("\n")).rstrip("\n") + "\n"
    if not text.strip():
        return text
    if _plain(out) != _plain(text):
        raise PodcError.single("fmt.unsafe", "formatting would change what the file means; left as it is",
                               Pos(name), hint="please report this file as a podc bug")
    return out


def _plain(text: str):
    """The data of ``text`` with podc's tags (``!replace``, ``!delete``…), for the safety check."""
    return [_data(d) for d in _yaml().load_all(text)]


def _data(node):
    tag = getattr(getattr(node, "tag", None), "value", None)
    if isinstance(node, dict):
        return (tag, [(_data(k), _data(v)) for k, v in node.items()])
    if isinstance(node, list):
        return (tag, [_data(v) for v in node])
    value = getattr(node, "value", node)
    return (tag, type(value).__name__, str(value))
