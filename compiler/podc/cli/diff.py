"""``podc diff [PROJECT] [--profile P] [--target T…] [--out DIR] [--format yaml|json] [--set…] [--image…]``

A unified diff between the output folder and what ``podc compile`` would write now (marker line
included, so it is exactly the change a compile makes). Exit 0 when equal, 1 when not, 2 on bad
input: usable in CI and in pre-commit like ``compile --check``, but showing the change.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from typing import Sequence
from podc.cli.console import HelpFormatter

__all__ = ["main", "diff_command"]

EXAMPLES = """examples:
  podc diff                                    # the project in the current folder vs build/
  podc diff examples/platform --profile dev --target train-resnet
  podc diff --set resources.limits.memory=2Gi  # what a --set would change
  podc diff --quiet && echo up to date         # exit 0 when equal, 1 when not
"""


def build_parser() -> argparse.ArgumentParser:
    from podc.cli.overrides import add_override_options

    p = argparse.ArgumentParser(prog="podc diff", description="Show how `podc compile` would change the output "
                                "folder (unified diff). Exit 0 when up to date, 1 when not.",
                                formatter_class=HelpFormatter, epilog=EXAMPLES)
    p.add_argument("project", nargs="?", default=".", metavar="PROJECT", help="project folder or podc.yaml (default: .)")
    p.add_argument("--profile", help="profile to apply (default: the project's defaultProfile)")
    p.add_argument("--target", "-t", action="append", dest="targets", metavar="T", help="only T (repeatable)")
    p.add_argument("--out", "-o", metavar="DIR", help="output folder (default: the project's `output`)")
    p.add_argument("--format", "-f", choices=("yaml", "json"), default="yaml")
    p.add_argument("--no-policy", action="store_true", help="skip policy checks")
    add_override_options(p)
    return p


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_intermixed_args(list(argv))
    return diff_command(project=args.project, profile=args.profile, targets=args.targets, out=args.out,
                        fmt=args.format, policy=not args.no_policy, sets=args.sets, images=args.images)


def diff_command(*, project: str = ".", profile: str | None = None, targets: Sequence[str] | None = None,
                 out: str | None = None, fmt: str = "yaml", policy: bool = True, sets: Sequence[str] = (),
                 images: Sequence[str] = ()) -> int:
    from podc.cli import console
    from podc.cli.compile import build_outputs, shown_folder

    built = build_outputs(project=project, profile=profile, targets=targets, out=out, fmt=fmt, policy=policy,
                          sets=sets, images=images)
    assert built is not None
    folder = shown_folder(built.out_dir)
    chunks: list[str] = []
    changed = 0
    for name in sorted(built.contents):
        old = _read(built.out_dir / name)
        new = built.contents[name]
        if old != new:
            changed += 1
            chunks.append(_unified(old, new, f"{folder}/{name}" if old is not None else "/dev/null",
                                   f"{folder}/{name}"))
    if built.selected is None:  # outputs of targets that are gone: compile would remove them
        for name in _stale(built.out_dir, built.contents):
            changed += 1
            chunks.append(_unified(_read(built.out_dir / name), "", f"{folder}/{name}", "/dev/null"))
    if not console.quiet():
        sys.stdout.write("".join(chunks))
    if built.failed:  # a policy error: compile would write nothing (the errors are printed above)
        return 1
    if changed:
        console.say(f"podc: {changed} file(s) would change in {folder}; run `podc compile` to update them")
        return 1
    return 0


def _read(path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", "replace")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _unified(old: str | None, new: str, a: str, b: str) -> str:
    lines = difflib.unified_diff((old or "").splitlines(keepends=True), new.splitlines(keepends=True), a, b)
    text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
    return text


def _stale(out_dir, contents: dict[str, str]) -> list[str]:
    from podc.emit import plan_outputs
    from podc.errors import PodcError

    if not os.path.isdir(out_dir):
        return []
    try:
        return plan_outputs(out_dir, contents, prune=True).remove
    except PodcError:  # a hand-written file in the way: compile refuses; diff still shows the rest
        return []
