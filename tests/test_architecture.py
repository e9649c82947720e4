"""The pipeline's import rules, checked on the source: imports flow one way.

errors <- tree <- source <- model <- normalize <- merge <- render <- project/pipeline <- emit <- cli;
the checker sits on the compiler; runtime sees only manifests (dicts) and errors; the Dagster
adapter sits on pipeline + check + runtime; the emulator is never imported by the core. Only the
runtime, the emulator and the Dagster adapter may import ``kubernetes``; only the adapter
imports ``dagster``. Function-level (lazy) imports count too, except where noted.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "compiler" / "podc"

CORE = ("errors", "tree", "source", "resources", "kube", "model", "normalize", "normalize_build",
        "normalize_container", "normalize_volumes", "merge", "render", "render_checks", "provenance",
        "project", "project_layers", "pipeline", "emit", "_fastyaml", "_fastyaml_scalars", "_version", "_lazy", "_gcpause",
        "_pipes")
# what each area may import from podc (prefixes of module names below "podc.")
ALLOWED = {
    "merge": ("errors", "tree", "merge"),
    "tree": ("errors", "tree"),
    "errors": ("errors",),
    "kube": ("kube",),
    "source": ("errors", "tree", "source", "_fastyaml", "_fastyaml_scalars", "_gcpause", "_pipes"),
    "_pipes": ("errors",),
    "runtime": ("errors", "kube", "runtime", "_version"),
    "testing": ("errors", "kube", "testing", "_version"),
}
FORBIDDEN_FOR_CORE = ("cli", "runtime", "testing", "dagster")


def modules():
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        yield ".".join(parts), path


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
    return out


def area(name: str) -> str:
    return name.split(".")[0] if name else ""


def podc_targets(path: Path) -> list[str]:
    return [m[len("podc."):] for m in imports_of(path) if m.startswith("podc.")]


@pytest.mark.parametrize("name,path", list(modules()), ids=lambda v: str(v) if isinstance(v, str) else "")
def test_import_rules(name, path):
    own = area(name)
    targets = podc_targets(path)
    if own in ALLOWED:
        bad = [t for t in targets if area(t) not in ALLOWED[own]]
        assert not bad, f"podc.{name} may import only {ALLOWED[own]}, imports {bad}"
    if own in CORE or own == "check":
        bad = [t for t in targets if area(t) in FORBIDDEN_FOR_CORE]
        assert not bad, f"core module podc.{name} imports {bad}"
    third_party = {m.split(".")[0] for m in imports_of(path)}
    if own not in ("runtime", "testing", "dagster"):
        assert "kubernetes" not in third_party, f"podc.{name} imports kubernetes"
    if own != "dagster":
        assert "dagster" not in third_party, f"podc.{name} imports dagster"


@pytest.mark.parametrize("code", [
    "import podc",
    "import podc.pipeline, podc.check.engine",
    "from podc.cli.main import main; import sys; sys.argv=['podc','--version']\ntry:\n main()\nexcept SystemExit: pass",
])
def test_core_does_not_load_kubernetes_or_dagster(code):
    probe = code + "\nimport sys\nprint(sorted({m.split('.')[0] for m in sys.modules} & {'kubernetes','dagster','dagster_k8s','podc.testing'}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_version_does_not_load_heavy_libraries():
    probe = ("from podc.cli.main import main\ntry:\n main(['--version'])\nexcept SystemExit: pass\n"
             "import sys; print(sorted({m.split('.')[0] for m in sys.modules} & {'pydantic','jsonschema','ruamel','kubernetes','dagster'}))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
