"""``podc check [PATH…]``: policy checks for podc projects and plain Kubernetes manifests.

Exit codes: 0 clean (nothing at or above --fail-on), 1 violations at or above --fail-on,
2 input or usage error (reported with file:line:col, never a traceback), 3 internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from podc.cli.console import HelpFormatter

__all__ = ["main", "build_parser"]

PROJECT_FILE = "podc.yaml"
_MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
# podc's own bookkeeping in an output folder (the output manifest, temp files of a running
# compile): not Kubernetes objects, so `podc check build/` skips them.
_PODC_OWN_FILES = (".podc-manifest", ".podc-tmp-")
# `podc check -` reads the manifests from standard input (a pipe from `podc compile --stdout`,
# helm template, kustomize build…); podc's reader bounds what it reads from a pipe.
_STDIN = "/dev/stdin"


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would print and exit; we return 2 ourselves
        raise _UsageError(message)


_EXAMPLES = """examples:
  podc check                                   # the project in the current folder
  podc check examples/platform --format sarif -o podc.sarif
  podc check build/                            # compiled outputs (podc's own files are skipped)
  podc compile --stdout | podc check -         # manifests on standard input
  podc check job.yaml --pss baseline --fail-on warning
"""


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="podc check", description="Check podc projects or Kubernetes manifests against "
                "schema, Pod Security Standards, best practices and custom policies.",
                formatter_class=HelpFormatter, epilog=_EXAMPLES)
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="a project (folder with podc.yaml, or the file) or manifest files/folders, or - for "
                        "manifests on standard input; default: the project in the current folder")
    p.add_argument("--project", action="append", default=[], metavar="P", help="a podc project to check")
    p.add_argument("--profile", help="project profile to compile with")
    p.add_argument("--target", action="append", dest="targets", metavar="T", help="only these project targets")
    p.add_argument("--pss", metavar="LEVEL[:VERSION]",
                   help="Pod Security Standards level (baseline, restricted, none); default restricted or the project's")
    p.add_argument("--policy", action="append", default=[], metavar="FILE", help="a custom policy file (repeatable)")
    p.add_argument("--admission", action="append", default=[], metavar="PATH",
                   help="ValidatingAdmissionPolicies, bindings, params and Namespaces to evaluate offline "
                        "(a file or folder; repeatable)")
    p.add_argument("--kubernetes-version", metavar="V", help="schema version, e.g. 1.33")
    p.add_argument("--format", choices=("text", "json", "sarif", "junit"), default="text")
    p.add_argument("--fail-on", choices=("error", "warning", "info"), default=None,
                   help="lowest severity that fails the run (default error, or the project's failOn)")
    p.add_argument("--output", "-o", metavar="FILE", help="write the report here (atomically) instead of stdout")
    p.add_argument("--no-color", action="store_true", help="never colour the text report (also: NO_COLOR=1)")
    p.add_argument("--show-suppressed", action="store_true",
                   help="list the violations exceptions suppressed (text report; the other formats always carry them)")
    return p


def _split_inputs(paths: list[str], projects: list[str]) -> tuple[list[str], list[str]]:
    """(project files, manifest files)."""
    proj: list[str] = list(projects)
    manifests: list[str] = []
    if not paths and not projects:
        if not Path(PROJECT_FILE).is_file():
            raise _UsageError(f"no {PROJECT_FILE} in the current folder; pass a project folder or manifest files")
        proj.append(PROJECT_FILE)
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            if (p / PROJECT_FILE).is_file():
                proj.append(str(p / PROJECT_FILE))
            else:
                found = sorted(str(f) for f in p.rglob("*") if f.is_file() and f.suffix in _MANIFEST_SUFFIXES
                               and not f.name.startswith(_PODC_OWN_FILES))
                if not found:
                    raise _UsageError(f"{raw}: no podc.yaml and no .yaml/.yml/.json files in this folder")
                manifests.extend(found)
        elif raw == "-":
            manifests.append(_STDIN)
        elif p.name == PROJECT_FILE:
            proj.append(raw)
        else:
            manifests.append(raw)  # a missing file is reported, located, by the loader
    return proj, manifests


def _merge(results: list):
    from podc.check.engine import CheckResult

    first = results[0]
    if len(results) == 1:
        return first
    merged = CheckResult([d for r in results for d in r.documents], [n for r in results for n in r.notices],
                         sum(r.suppressed for r in results), first.fail_on, first.kubernetes_version, first.pss)
    for r in results:
        merged.rules.update(r.rules)
    return merged


def run(args: argparse.Namespace):
    from podc.check.custom import load_policy_files
    from podc.check.engine import CheckOptions, check_manifests
    from podc.api import check_project
    from podc.check.projects import CliOverrides
    from podc.errors import Diagnostics

    projects, manifests = _split_inputs(args.paths, args.project)
    results = []
    cli = CliOverrides(pss=args.pss, kubernetes_version=args.kubernetes_version, policy_files=tuple(args.policy),
                       admission_paths=tuple(args.admission), fail_on=args.fail_on)
    for proj in projects:
        results.append(check_project(proj, profile=args.profile, targets=args.targets, cli=cli))
    if manifests:
        from podc.check.admission import load_admission

        diags = Diagnostics()
        custom = load_policy_files(list(args.policy), diags)
        admission = load_admission(list(args.admission), diags)
        diags.raise_if_errors()
        opts = CheckOptions(pss=args.pss or "restricted", kubernetes_version=args.kubernetes_version,
                            custom=custom, fail_on=args.fail_on or "error", admission=admission)
        results.append(check_manifests(manifests, opts, diags))
    result = _merge(results)
    if args.fail_on:
        result.fail_on = args.fail_on
    return result


def _refuse_overwriting_an_input(args: argparse.Namespace) -> None:
    """`podc check jobs.yaml -o jobs.yaml` would replace the manifest with its own report."""
    target = os.path.realpath(args.output)
    named = [*args.paths, *args.project, *args.policy, *args.admission]
    inputs = {os.path.realpath(p) for p in named}
    inputs |= {os.path.realpath(os.path.join(p, PROJECT_FILE)) for p in named if os.path.isdir(p)}
    if not named:
        inputs.add(os.path.realpath(PROJECT_FILE))
    if target in inputs:
        raise _UsageError(f"--output {args.output} is one of the inputs; the report would replace it")


def _write_atomic(path: str, text: str) -> None:
    """The report file, atomically, with the mode any new file gets (0666 minus the umask)."""
    from podc.emit import write_atomic

    write_atomic(Path(path), text)


def main(argv: list[str] | None = None) -> int:
    from podc._gcpause import gc_paused

    # One run builds one big batch of acyclic data (the documents) and then reports.
    with gc_paused():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    from podc.errors import PodcError, format_diagnostics

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        for option in ("kubernetes_version", "pss", "profile", "output"):
            value = getattr(args, option)
            if value is not None and not value.strip():  # `--output "$UNSET"` must not mean "the default"
                raise _UsageError(f"argument --{option.replace('_', '-')}: expected a value, got an empty string")
        if args.output:
            _refuse_overwriting_an_input(args)
        result = run(args)
    except _UsageError as e:
        sys.stderr.write(f"podc check: error: {e}\n")
        sys.stderr.write(parser.format_usage())
        return 2
    except PodcError as e:
        from podc.cli.console import use_color
        from podc.cli.hints import with_source_hints

        sys.stderr.write(format_diagnostics(with_source_hints(e.diagnostics), color=use_color(sys.stderr)) + "\n")
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # a podc bug: say so briefly, the traceback goes to a log file
        # (never the exception's text on stderr: it may quote input values, secrets included)
        from podc.cli.main import path_error, report_internal_error

        as_input = path_error(e)
        if as_input is None:
            return report_internal_error(e)
        sys.stderr.write(format_diagnostics(as_input.diagnostics) + "\n")
        return 2
    from podc.check.report import render
    from podc.cli import console

    if console.quiet() and args.format == "text" and not args.output and not result.failed:
        return result.exit_code  # --quiet: the text report only when the check fails
    color = args.format == "text" and not args.output and not args.no_color and console.use_color(sys.stdout)
    text = render(args.format, result, color=color, show_suppressed=args.show_suppressed)
    try:
        if args.output:
            _write_atomic(args.output, text)
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
    except OSError as e:
        sys.stderr.write(f"podc check: error: cannot write {args.output or 'stdout'}: {e.strerror or e}\n")
        return 2
    return result.exit_code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
