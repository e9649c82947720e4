"""``podc explain TARGET [FIELD] [--project P] [--profile P] [--format text|json] [--set F=V…] [--image N=R…]``

Blame for a compiled Job: every value under FIELD (default: the whole Job) with the layer and
file:line:col that set it, and the values it overrode. FIELD is a JSON pointer
(``/spec/template/spec/containers/0/image``) or a dotted path
(``spec.template.spec.containers[name=main].image``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Any, Sequence
from podc.cli.console import HelpFormatter

__all__ = ["main", "explain_command"]


EXAMPLES = """examples:
  podc explain train-resnet --project examples/platform          # every value of the Job
  podc explain train-resnet spec.template.spec.tolerations --project examples/platform
  podc explain train-resnet /spec/backoffLimit --project examples/platform --format json
  podc explain train-resnet spec.template.spec.containers[name=main].resources \\
      --project examples/platform --set resources.limits.memory=64Gi
"""


def build_parser() -> argparse.ArgumentParser:
    from podc.cli.overrides import add_override_options

    p = argparse.ArgumentParser(prog="podc explain", description="Show where each value of a compiled Job comes from.",
                                formatter_class=HelpFormatter, epilog=EXAMPLES)
    p.add_argument("target", help="the target to explain")
    p.add_argument("field", nargs="?", help="a field path (JSON pointer or dotted); default: the whole Job")
    p.add_argument("--project", "-p", default=".", help="project folder or podc.yaml (default: .)")
    p.add_argument("--profile", help="profile to apply (default: the project's defaultProfile)")
    p.add_argument("--format", "-f", choices=("text", "json"), default="text")
    add_override_options(p)
    return p


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_intermixed_args(list(argv))
    return explain_command(target=args.target, field=args.field, project=args.project, profile=args.profile,
                           fmt=args.format, sets=args.sets, images=args.images)


def explain_command(*, target: str, field: str | None = None, project: str = ".", profile: str | None = None,
                    fmt: str = "text", sets: Sequence[str] = (), images: Sequence[str] = ()) -> int:
    from podc.cli.overrides import apply_images, set_layers
    from podc.pipeline import compile_project, load_project
    from podc.render.provenance import explain, format_records

    extra = set_layers(list(sets))
    proj = load_project(project)
    apply_images(proj, list(images))
    result = compile_project(proj, profile=profile, targets=[target], extra_layers=extra)
    records = explain(result.jobs[0], field)
    if fmt == "json":
        items = [_json_record(r.to_json()) for r in records]
        sys.stdout.write(json.dumps(items, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(format_records(records) + "\n")
    return 0


def _json_record(item: dict) -> dict:
    """The JSON form matches the text form: files relative to the current folder (as the text
    shows them), and overridden values typed like ``value`` (``14400``, not ``"14400"``)."""
    for source in [item["source"], *(o["source"] for o in item["overrides"])]:
        source["file"] = _shown(source.get("file"))
    for o in item["overrides"]:
        o["value"] = written_value(o["value"])
    return item


def _shown(file: str | None) -> str | None:
    if not file or not os.path.isabs(file):
        return file
    rel = os.path.relpath(file)
    return file if rel.startswith("..") else "./" + rel.replace(os.sep, "/")  # as the text form shows it


_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+\.[0-9]*)([eE][-+]?[0-9]+)?\Z")
_WORDS = {"true": True, "false": False, "null": None, "~": None, "": None}


def written_value(text: Any) -> Any:
    """A YAML scalar as written in a layer (``14400``, ``"2"``, ``'a''b'``, ``true``) as the JSON
    value it means (YAML 1.2 core schema, as podc reads layers)."""
    if not isinstance(text, str):
        return text
    if text[:1] == '"' and text.endswith('"') and len(text) > 1:
        try:
            return json.loads(text)
        except ValueError:
            return text[1:-1]
    if text[:1] == "'" and text.endswith("'") and len(text) > 1:
        return text[1:-1].replace("''", "'")
    if text.lower() in _WORDS:
        return _WORDS[text.lower()]
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    return text
