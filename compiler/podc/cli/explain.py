"""``podc explain TARGET [FIELD] [--project P] [--profile P] [--format text|json]``

Blame for a compiled Job: every value under FIELD (default: the whole Job) with the layer and
file:line:col that set it, and the values it overrode. FIELD is a JSON pointer
(``/spec/template/spec/containers/0/image``) or a dotted path
(``spec.template.spec.containers[name=main].image``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

__all__ = ["main", "explain_command"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="podc explain", description="Show where each value of a compiled Job comes from.")
    p.add_argument("target", help="the target to explain")
    p.add_argument("field", nargs="?", help="a field path (JSON pointer or dotted); default: the whole Job")
    p.add_argument("--project", "-p", default=".", help="project folder or podc.yaml (default: .)")
    p.add_argument("--profile", help="profile to apply (default: the project's defaultProfile)")
    p.add_argument("--format", "-f", choices=("text", "json"), default="text")
    return p


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_intermixed_args(list(argv))
    return explain_command(target=args.target, field=args.field, project=args.project, profile=args.profile,
                           fmt=args.format)


def explain_command(*, target: str, field: str | None = None, project: str = ".", profile: str | None = None,
                    fmt: str = "text") -> int:
    from podc.pipeline import compile_project
    from podc.render.provenance import explain, format_records

    result = compile_project(project, profile=profile, targets=[target])
    records = explain(result.jobs[0], field)
    if fmt == "json":
        sys.stdout.write(json.dumps([r.to_json() for r in records], indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(format_records(records) + "\n")
    return 0
