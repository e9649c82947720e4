"""``podc compile [PROJECT] [FILES…] [--profile P] [--target T…] [--out DIR | --stdout]
[--format yaml|json] [--check] [--no-policy] [--jobs N] [--set FIELD=VALUE…] [--image NAME=REF…]``

Writes ``<out>/<target>.yaml`` (or ``.json``) per target. ``--check`` writes nothing and exits 1
when an output is missing or out of date; with FILES (what pre-commit passes) only the targets
those files affect are compiled. Exit codes: 0 ok, 1 out of date / policy errors, 2 bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Sequence

from podc.cli.console import HelpFormatter

__all__ = ["main", "compile_command", "build_parser"]


EXAMPLES = """examples:
  podc compile                                  # the project in the current folder -> build/
  podc compile examples/platform --profile dev --target train-resnet --stdout
  podc compile --set resources.limits.memory=2Gi --set env.LOG_LEVEL=debug --stdout
  podc compile --image busybox=registry.example.com/mirror/busybox:1.36
  podc compile --check                          # pre-commit: exit 1 when build/ is out of date
"""


def build_parser() -> argparse.ArgumentParser:
    from podc.cli.overrides import add_override_options

    p = argparse.ArgumentParser(prog="podc compile", description="Compile a podc project into Job manifests.",
                                formatter_class=HelpFormatter, epilog=EXAMPLES)
    p.add_argument("paths", nargs="*", metavar="PROJECT|FILE",
                   help="the project folder or podc.yaml (default: .), then changed files (with --check)")
    p.add_argument("--profile", help="profile to apply (default: the project's defaultProfile)")
    p.add_argument("--target", "-t", action="append", dest="targets", metavar="T", help="compile only T (repeatable)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--out", "-o", metavar="DIR", help="output folder (default: the project's `output`)")
    out.add_argument("--stdout", action="store_true", help="print the manifests instead of writing files")
    p.add_argument("--format", "-f", choices=("yaml", "json"), default="yaml")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if outputs are missing or out of date")
    p.add_argument("--no-policy", action="store_true", help="skip the policy packs (Pod Security, best practices, custom); the schema and API-server rules always run")
    p.add_argument("--jobs", "-j", type=_positive, metavar="N",
                   help="processes to compile with (default: one per CPU for large projects, Linux only)")
    add_override_options(p)
    return p


def main(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_intermixed_args(list(argv))
    for option in ("out", "profile"):
        value = getattr(args, option)
        if value is not None and not value.strip():  # `--out "$UNSET_VAR"` must not mean "the default"
            parser.error(f"argument --{option}: expected a value, got an empty string")
    project, files = _split_paths(args.paths)
    if files and not args.check:
        _reject_files(files)
    from podc.pipeline import gc_paused

    with gc_paused():  # a short-lived process building large acyclic trees: see gc_paused
        return compile_command(project=project, files=files, profile=args.profile, targets=args.targets,
                               out=args.out, stdout=args.stdout, fmt=args.format, check=args.check,
                               policy=not args.no_policy, sets=args.sets, images=args.images, jobs=args.jobs)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of processes (1 or more), got {text!r}")
    return value


def _split_paths(paths: list[str]) -> tuple[str, list[str]]:
    """The first path is the project when it is a folder or a podc.yaml; the rest are changed files."""
    if paths and (os.path.isdir(paths[0]) or os.path.basename(paths[0]) == "podc.yaml"):
        return paths[0], paths[1:]
    return ".", paths


def _reject_files(files: Sequence[str]) -> None:
    """Without --check, every path must be the project: a typo in a folder name must not quietly
    compile the project of the current folder instead."""
    from podc.errors import Diagnostic, PodcError, Pos

    items = []
    for f in files:
        what = "is not a project folder or podc.yaml" if os.path.exists(f) else "no such file or folder"
        items.append(Diagnostic("usage.not-a-project", f"{what}: {f}", Pos(f),
                                hint="pass a folder holding podc.yaml, or the podc.yaml file; other files are "
                                     "only read with --check (the changed files pre-commit passes)"))
    raise PodcError(items)


def compile_command(*, project: str = ".", files: Sequence[str] = (), profile: str | None = None,
                    targets: Sequence[str] | None = None, out: str | None = None, stdout: bool = False,
                    fmt: str = "yaml", check: bool = False, policy: bool = True, sets: Sequence[str] = (),
                    images: Sequence[str] = (), jobs: int | None = None) -> int:
    from podc.cli import console
    from podc.emit import apply_plan, plan_outputs

    built = build_outputs(project=project, files=files, profile=profile, targets=targets, out=out, fmt=fmt,
                          check=check, policy=policy, sets=sets, images=images, jobs=1 if stdout else jobs)
    if built is None:  # --check with changed files that no target uses
        return 0
    if built.failed:
        return 1
    if stdout:
        sys.stdout.write(_stdout_text(built.result.jobs, fmt))
        return 0
    out_dir = built.out_dir
    _check_output_folder(out_dir)
    plan = plan_outputs(out_dir, built.contents, prune=built.selected is None)
    shown = shown_folder(out_dir)
    if check:
        if plan.up_to_date:
            return 0
        for name in plan.write:
            state = "missing" if name in plan.missing else "out of date"
            print(f"podc: {state}: {shown}/{name}", file=sys.stderr)
        for name in plan.remove:
            print(f"podc: stale (its target is gone): {shown}/{name}", file=sys.stderr)
        cmd = "podc compile" + ("" if project == "." else f" {project}") + (f" --profile {profile}" if profile else "")
        print(f"podc: outputs are out of date; run `{cmd}` (`podc diff` shows the changes)", file=sys.stderr)
        return 1
    try:
        apply_plan(plan)
    except OSError as e:
        if e.errno is None:  # not the system refusing (permissions, read-only, full disk…): a podc bug
            raise
        _raise_write_error(e, out_dir)
    for name in plan.write:
        console.detail(f"podc: wrote {shown}/{name}")
    for name in plan.remove:
        console.detail(f"podc: removed {shown}/{name} (its target is gone)")
    console.say(f"podc: {len(plan.write)} written, {len(plan.unchanged)} unchanged, {len(plan.remove)} removed "
                f"in {shown}")
    return 0


class Built:
    """A compile's outputs in memory: what ``compile`` writes and ``diff`` compares."""

    def __init__(self, proj, result, out_dir: Path, contents: dict[str, str], selected, failed: bool):
        self.proj, self.result, self.out_dir, self.contents = proj, result, out_dir, contents
        self.selected, self.failed = selected, failed


def build_outputs(*, project: str = ".", files: Sequence[str] = (), profile: str | None = None,
                  targets: Sequence[str] | None = None, out: str | None = None, fmt: str = "yaml",
                  check: bool = False, policy: bool = True, sets: Sequence[str] = (),
                  images: Sequence[str] = (), jobs: int | None = 1) -> Built | None:
    """Compile (and check) the project and render every output file; print the compile's
    diagnostics. None when ``check`` with ``files`` affects no target. ``jobs``: processes to
    use (None: automatic, see :mod:`podc.cli.workers`); with more than one, ``Built.result`` is
    None (the Jobs stay in the workers), the files and diagnostics are the serial run's."""
    from podc._version import __version__
    from podc.cli.overrides import apply_images, set_layers
    from podc.emit import marker_line, render_document
    from podc import pipeline
    from podc.project import LayerCache

    extra = set_layers(list(sets))
    proj = pipeline.load_project(project)
    apply_images(proj, list(images))
    out_dir = Path(out).absolute() if out else proj.output
    ext = ".json" if fmt == "json" else ".yaml"
    selected = list(targets) if targets else None
    cache = LayerCache(proj)  # shared with the affected-targets scan: each layer file is read once
    if check and files and selected is None:
        selected = _affected_targets(proj, profile, files, out_dir, ext, cache)
        if not selected:
            return None
    from podc.check.projects import check_compiled

    marker = marker_line(__version__, Path(os.path.relpath(proj.path, out_dir)).as_posix())

    def share(names: list[str] | None) -> tuple:
        result = pipeline.compile_loaded(proj, profile, names, extra, cache=cache)
        # The schema and API-server rules always run (the API server would reject what they
        # reject); --no-policy skips the policy packs only.
        findings = check_compiled(result.jobs, proj, result.layers, policies=policy, profile=result.profile)
        contents = {f"{job.target}{ext}": render_document(job.manifest, fmt, marker) for job in result.jobs}
        return result.diagnostics, findings, contents, result

    parts = _in_workers(proj, selected, jobs, share) if jobs != 1 else None
    if parts is None:
        parts = [share(selected)]
    own, findings, contents = _merge(parts)
    suppressed = sum(d.code == "check.suppressed" for d in findings)  # one info diagnostic each
    failed = report_compile_diagnostics(own, findings, suppressed)
    return Built(proj, parts[0][3] if len(parts) == 1 else None, out_dir, contents, selected, failed)


def _in_workers(proj: Any, selected: list[str] | None, jobs: int | None, share: Any) -> list[tuple] | None:
    """``share`` run over worker processes (:mod:`podc.cli.workers`), or None: one process suffices
    or may be used, a name is not a target (the serial run reports it), or a share failed."""
    from podc.cli.workers import run_shares, worker_count

    names = list(dict.fromkeys(selected)) if selected is not None else list(proj.targets)
    if any(name not in proj.targets for name in names):
        return None
    workers = worker_count(jobs, len(names))
    if workers < 2:
        return None
    return run_shares(names, workers, share, lambda part: (*part[:3], None))


def _merge(parts: list[tuple]) -> tuple[list, list, dict[str, str]]:
    """One run's compile diagnostics, check findings and output texts from its shares (in target
    order). Notices about the run (an expired exception…) come from every share: kept once; the
    ``failOn`` error is settled over all the findings, as a single check would."""
    from podc.check.projects import settle_fail_on

    own = [d for part in parts for d in part[0]]
    findings = list(dict.fromkeys(d for part in parts for d in part[1]))
    contents: dict[str, str] = {}
    for part in parts:
        contents.update(part[2])
    return own, settle_fail_on(findings), contents


def report_compile_diagnostics(own: list, findings: list, suppressed: int) -> bool:
    """Print the compile's own warnings (merge warnings…) with their locations, policy errors in
    full, and a count of policy warnings (notes alone are not worth a line). True when a policy
    error fails the compile."""
    from podc.cli import console
    from podc.errors import format_diagnostics

    color = console.use_color(sys.stderr)
    errors = [d for d in findings if d.severity == "error"]
    warnings = [d for d in findings if d.severity == "warning"]
    notes = [d for d in findings if d.severity not in ("error", "warning") and d.code != "check.suppressed"]
    if own and not console.quiet():
        print(format_diagnostics(own, color=color), file=sys.stderr)
    if errors:
        print(format_diagnostics(errors, color=color), file=sys.stderr)
    if console.verbose() and (warnings or notes):
        print(format_diagnostics(warnings + notes, color=color), file=sys.stderr)
    elif warnings:
        extra = f" and {_count(len(notes), 'note')}" if notes else ""
        console.say(f"podc: {_count(len(warnings), 'policy warning')}{extra}; run `podc check` to see them")
    if suppressed:
        # never silent: an exception that hides a violation is counted on every compile
        console.say(f"podc: {_count(suppressed, 'policy violation')} suppressed by exceptions; "
                    "run `podc check --show-suppressed` to list them")
    if errors:
        # Schema and API-server errors are never skippable: the API server would reject the Job.
        skippable = not any(d.code.startswith("check.schema.") for d in errors)
        print(f"podc: {_count(len(errors), 'policy error')}; nothing written"
              + (" (use --no-policy to skip policy packs)" if skippable else ""), file=sys.stderr)
    return bool(errors)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _check_output_folder(out_dir: Path) -> None:
    """Refuse, before anything is written, an output folder that cannot be one: a path below a file
    (``--out notes.txt/sub``), or podc's own manifest name taken by something that is not a file."""
    from podc.emit import MANIFEST_NAME
    from podc.errors import PodcError, Pos

    hint = "choose another folder with --out, or `output:` in podc.yaml"
    for folder in (out_dir, *out_dir.parents):
        if os.path.lexists(folder):
            if not folder.is_dir():
                raise PodcError.single("output.not-a-folder", "the output path exists and is not a folder",
                                       Pos(str(folder)), hint=hint)
            break
    manifest = out_dir / MANIFEST_NAME
    if os.path.lexists(manifest) and not manifest.is_file():
        raise PodcError.single("output.not-a-file", f"{MANIFEST_NAME} (podc's list of generated files) is not a file",
                               Pos(str(manifest)), hint="move it away; podc recreates it")


def _raise_write_error(e: OSError, out_dir: Path) -> None:
    from podc.emit import TEMP_PREFIX
    from podc.errors import PodcError, Pos

    where = e.filename if isinstance(e.filename, str) else str(out_dir)
    if os.path.basename(where).startswith(TEMP_PREFIX):  # name the folder, not podc's temp file
        where = os.path.dirname(where)
    raise PodcError.single("output.write-failed", f"cannot write {where}: {e.strerror or e}", Pos(where),
                           hint="check the folder's permissions and free space, or choose another one with --out"
                           ) from None


def _affected_targets(proj, profile: str | None, files: Sequence[str], out_dir: Path, ext: str, cache) -> list[str]:
    """Targets whose inputs (project file, layer files and their extends) or output is in ``files``."""
    from podc.errors import Diagnostics

    changed = {Path(f).resolve() for f in files}
    if proj.path.resolve() in changed:
        return list(proj.targets)
    chosen = proj.select_profile(profile, Diagnostics())
    affected = []
    for name, target in proj.targets.items():
        deps = {p.resolve() for p in proj.files_of(target, chosen, cache)}
        deps.add((out_dir / f"{name}{ext}").resolve())
        if deps & changed:
            affected.append(name)
    return affected


def _stdout_text(jobs: list, fmt: str) -> str:
    from podc.emit import to_json, to_yaml

    if fmt == "json":
        if len(jobs) == 1:
            return to_json(jobs[0].manifest)
        return to_json({"apiVersion": "v1", "kind": "List", "items": [j.manifest for j in jobs]})
    return "---\n".join(to_yaml(j.manifest) for j in jobs)


def shown_folder(path: Path) -> str:
    rel = os.path.relpath(path)
    return path.as_posix() if rel.startswith("..") else Path(rel).as_posix()

