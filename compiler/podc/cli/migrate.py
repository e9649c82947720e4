"""``podc migrate dagster-k8s RUN_CONFIG [--tags TAGS] [--out DIR] [--force]``

Reads a Dagster run config written for dagster-k8s's ``k8s_job_executor`` (and optionally a
YAML file of op tags: ``op name: {dagster-k8s/config: …}``) and prints the equivalent podc layer
files, each value commented with the key it came from, then the run config that remains. With
``--out DIR`` the files are written there (atomically; an existing file is replaced only with
``--force``). Exit codes: 0 ok, 2 bad input or usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

__all__ = ["main", "migrate_command", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="podc migrate", description="Turn another tool's configuration "
                                "into podc layer files.")
    sub = p.add_subparsers(dest="source", required=True, metavar="SOURCE")
    k8s = sub.add_parser("dagster-k8s", help="a run config (and op tags) written for dagster-k8s's "
                         "k8s_job_executor", description="Print the podc layers equivalent to a "
                         "dagster-k8s run config, each value commented with its source key.")
    k8s.add_argument("run_config", metavar="RUN_CONFIG", help="run config YAML (execution.config …)")
    k8s.add_argument("--tags", metavar="TAGS", help="YAML: op name -> that op's tags")
    k8s.add_argument("--out", "-o", metavar="DIR", help="write the files to DIR instead of printing them")
    k8s.add_argument("--force", action="store_true", help="replace existing files in DIR")
    return p


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    return migrate_command(run_config=args.run_config, tags=args.tags, out=args.out, force=args.force)


def _load(path: str) -> tuple[Any, Any]:
    """(plain data, positioned tree) of a one-document YAML file."""
    from podc.errors import PodcError, Pos
    from podc.source import load_file
    from podc.tree import to_plain

    if not Path(path).is_file():
        raise PodcError.single("input.not-found", f"no such file: {path}", Pos(path),
                               hint="pass the run config YAML you give Dagster (execution: config: …)")
    docs = load_file(path, layer=path)
    if len(docs) != 1:
        raise PodcError.single("input.documents", f"expected one YAML document, got {len(docs)}", Pos(path),
                               hint="keep one run config per file")
    data = to_plain(docs[0])
    if not isinstance(data, dict):
        raise PodcError.single("input.not-a-mapping", f"expected a mapping, got {type(data).__name__}",
                               docs[0].origin.pos, hint="a run config starts with execution: …")
    return data, docs[0]


def _located(diagnostics: Sequence[Any], positions: dict) -> list[Any]:
    """Diagnostics about a source key (``execution.config.env_vars[2]``) at its file:line:col."""
    from podc import _record

    out = []
    for d in diagnostics:
        key = d.pos.file or ""
        pos = positions.get(key)
        out.append(_record.replace(d, pos=pos, path=d.path or key) if pos is not None and pos.line else d)
    return out


def migrate_command(*, run_config: str, tags: str | None = None, out: str | None = None,
                    force: bool = False) -> int:
    from podc.dagster.migrate import key_positions, migrate_dagster_k8s
    from podc.emit import write_atomic
    from podc.errors import PodcError, Pos, format_diagnostics

    data, tree = _load(run_config)
    positions = key_positions(tree)
    tag_data = None
    if tags:
        tag_data, tag_tree = _load(tags)
        positions.update(key_positions(tag_tree))
    try:
        result = migrate_dagster_k8s(data, tags=tag_data, positions=positions, file=run_config,
                                     layer_dir=out or ".")
    except PodcError as err:
        raise PodcError(_located(err.diagnostics, positions)) from None
    if result.warnings:
        print(format_diagnostics(_located(result.warnings, positions)), file=sys.stderr)
    if out is None:
        for name, text in result.files.items():
            sys.stdout.write(f"# --- {name}\n{text}\n")
        return 0
    target = Path(out)
    existing = [name for name in result.files if (target / name).exists()]
    if existing and not force:
        raise PodcError.single("migrate.exists", f"{target / existing[0]} exists "
                               f"({len(existing)} file(s) would be replaced)", Pos(str(target / existing[0])),
                               hint="pass --force to replace them, or choose another --out")
    for name, text in result.files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text, exists=path.exists())
    print(f"podc migrate: wrote {len(result.files)} file(s) to {target}", file=sys.stderr)
    return 0
