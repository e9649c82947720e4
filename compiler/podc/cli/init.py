"""``podc init [DIR] [--name NAME] [--force]``: scaffold a project that compiles and checks clean.

Writes ``podc.yaml``, ``layers/base.yaml`` (the team's defaults), ``jobs/<name>.yaml`` (one Job),
a copy of podc's editor schema (``.podc/podc-v1.json``, named by every file's first line) and
``.pre-commit-config.yaml`` (a local hook running the installed podc, so there is no version to
pin). Existing files are never overwritten (``--force`` replaces podc's own scaffold files).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Sequence
from podc.cli.console import HelpFormatter

__all__ = ["main", "scaffold"]

EXAMPLES = """examples:
  podc init                     # in the current folder
  podc init my-jobs --name train
  cd my-jobs && podc compile && podc check
"""

SCHEMA_COPY = ".podc/podc-v1.json"

_PROJECT = """\
# yaml-language-server: $schema=.podc/podc-v1.json
# A podc project: which layers exist and which Jobs (targets) to compile. See docs/format.md.
apiVersion: podc/v1
kind: Project
output: build
namespace: {namespace}
layers:
  base: layers/base.yaml
targets:
  {name}:
    layers: [base]
    file: jobs/{name}.yaml
"""

_BASE = """\
# yaml-language-server: $schema=../.podc/podc-v1.json
# The defaults every Job of this project starts from (podc's secure defaults come first).
apiVersion: podc/v1
kind: Layer
activeDeadlineSeconds: 3600          # no Job runs forever
backoffLimit: 0
automountServiceAccountToken: false  # the Jobs do not talk to the Kubernetes API
labels:
  app.kubernetes.io/part-of: {namespace}
env:
  TZ: UTC
resources:
  requests: {{cpu: 100m, memory: 64Mi}}
  limits: {{memory: 128Mi}}
podSecurityContext:                  # a non-root user even for images that default to root
  runAsUser: 65534
  runAsGroup: 65534
securityContext:
  readOnlyRootFilesystem: true       # write to the scratch volume instead
volumes:
  scratch:
    emptyDir: {{sizeLimit: 1Gi}}
    mountPath: /scratch
"""

_JOB = """\
# yaml-language-server: $schema=../.podc/podc-v1.json
# One Job: what it runs. `podc compile` writes build/{name}.yaml.
apiVersion: podc/v1
kind: Layer
image: busybox:1.36
command: [sh, -c, "echo hello from {name}"]
"""

_PRE_COMMIT = """\
# pre-commit (https://pre-commit.com): `pre-commit install`, then every commit checks that the
# compiled Jobs in build/ are up to date and that the project passes its policies. A local hook
# runs the podc installed in your environment, so there is no `rev` to pin.
repos:
  - repo: local
    hooks:
      - id: podc-compile
        name: podc compile --check
        entry: podc compile --check
        language: system
        files: \\.(ya?ml|json)$
        require_serial: true
      - id: podc-check
        name: podc check
        entry: podc check
        language: system
        pass_filenames: false
        files: \\.(ya?ml|json)$
"""

_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="podc init", description="Create a new podc project: podc.yaml, a base "
                                "layer, one Job, the editor schema and a pre-commit config.",
                                formatter_class=HelpFormatter, epilog=EXAMPLES)
    p.add_argument("dir", nargs="?", default=".", metavar="DIR", help="the project folder (default: .)")
    p.add_argument("--name", default="hello", help="the first Job's name (default: hello)")
    p.add_argument("--namespace", default="batch", help="the Jobs' namespace (default: batch)")
    p.add_argument("--force", action="store_true", help="replace existing scaffold files")
    return p


def main(argv: Sequence[str]) -> int:
    p = build_parser()
    args = p.parse_args(list(argv))
    for option in ("name", "namespace"):
        if not _NAME.match(getattr(args, option)):
            p.error(f"argument --{option}: {getattr(args, option)!r} is not a valid Kubernetes name "
                    "(lowercase letters, digits and '-', starting and ending with a letter or digit)")
    return scaffold(Path(args.dir), name=args.name, namespace=args.namespace, force=args.force)


def scaffold(root: Path, *, name: str = "hello", namespace: str = "batch", force: bool = False) -> int:
    from podc.cli import console
    from podc.emit import write_atomic
    from podc.errors import Diagnostic, PodcError, Pos
    from podc.resources import data_path

    files = {
        "podc.yaml": _PROJECT.format(name=name, namespace=namespace),
        "layers/base.yaml": _BASE.format(namespace=namespace),
        f"jobs/{name}.yaml": _JOB.format(name=name),
        SCHEMA_COPY: (data_path("schemas") / "podc-v1.json").read_text(encoding="utf-8"),
        ".pre-commit-config.yaml": _PRE_COMMIT,
    }
    if root.exists() and not root.is_dir():
        raise PodcError.single("usage.not-a-folder", "exists and is not a folder", Pos(str(root)))
    taken = [rel for rel in files if (root / rel).exists()]
    if taken and not force:
        raise PodcError([Diagnostic("init.exists", "already exists; podc init does not overwrite files",
                                    Pos(str(root / rel)), "use another folder, or --force to replace it")
                         for rel in taken])
    for rel, text in files.items():  # every check passed: now write, each file atomically
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text)
        console.detail(f"podc: wrote {path}")
    where = "" if root == Path(".") else f" {root}"
    console.say(f"podc: created a project in {root}: podc.yaml, layers/base.yaml, jobs/{name}.yaml\n"
                f"next: podc compile{where} && podc check{where}")
    return 0
