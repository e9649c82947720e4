"""The pipeline's import rules, checked on the source: imports flow one way, and never in a circle.

errors <- tree <- source <- model <- normalize <- merge <- render <- project <- pipeline <- api <- cli;
the checker sits on the renderer's types (never on the pipeline: ``podc.api`` composes compile and
check); the emitter needs only errors; the runtime sees only manifests (dicts), errors and the
source reader; the Dagster adapter sits on api + check + runtime; the emulator is never imported by
the core. Only the runtime, the emulator and the Dagster adapter may import ``kubernetes``; only
the adapter imports ``dagster``. Function-level (lazy) imports, ``TYPE_CHECKING`` imports and names
re-exported lazily by a package ``__init__`` all count.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "compiler" / "podc"

# The stages, as packages: the folder names are the README's pipeline diagram.
STAGES = ("source", "model", "normalize", "merge", "render", "project", "check", "emit")
CORE = ("errors", "tree", "source", "resources", "kube", "model", "normalize", "merge", "render", "project",
        "pipeline", "api", "emit", "_version", "_lazy", "_gcpause", "_pipes", "_data_cache", "_record", "_digest")
# what each area may import from podc (first component of module names below "podc.")
_BASE = ("errors", "tree", "_lazy", "_gcpause", "_version", "_record", "_digest")
ALLOWED = {
    "errors": ("errors", "kube", "_record"),  # kube.secrets: messages never print secret-looking values
    "tree": ("errors", "tree", "_record"),
    "_record": (),
    "_digest": (),
    "kube": ("kube", "_record", "_digest"),
    "source": (*_BASE, "source", "_pipes"),
    "_pipes": ("errors", "_record"),
    "model": (*_BASE, "model", "kube", "resources"),
    "normalize": (*_BASE, "normalize", "model", "kube", "resources"),
    "merge": (*_BASE, "merge"),
    "render": (*_BASE, "render", "source", "kube", "resources"),
    "project": (*_BASE, "project", "source", "model", "normalize"),
    "pipeline": (*_BASE, "pipeline", "project", "render", "merge", "source", "normalize"),
    "emit": (*_BASE, "emit"),
    "runtime": (*_BASE, "kube", "runtime", "source", "_pipes"),
    "testing": (*_BASE, "kube", "testing", "resources"),  # resources: the pinned schemas (OpenAPI)
}
FORBIDDEN_FOR_CORE = ("cli", "runtime", "testing", "dagster")
FORBIDDEN_FOR_CHECK = ("cli", "runtime", "testing", "dagster", "pipeline", "api", "project")


def modules():
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        yield ".".join(parts), path


MODULES = dict(modules())


def _absolute(node: ast.ImportFrom, name: str, path: Path) -> str:
    if not node.level:
        return node.module or ""
    base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(["podc", *base, *([node.module] if node.module else [])]).replace("podc.", "podc.", 1)


def imports_of(path: Path, name: str = "") -> list[str]:
    """Every module ``path`` imports, at any depth of the file; ``from pkg import x`` also names
    ``pkg.x`` when that is a module."""
    tree = ast.parse(path.read_text(), str(path))
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, name, path)
            if not module:
                continue
            out.append(module)
            out.extend(f"{module}.{a.name}" for a in node.names if f"{module}.{a.name}"[len("podc."):] in MODULES)
    return out


def area(name: str) -> str:
    return name.split(".")[0] if name else ""


def podc_targets(path: Path, name: str = "") -> list[str]:
    return [m[len("podc."):] for m in imports_of(path, name) if m.startswith("podc.")]


def _lazy_table(module: str) -> dict[str, str]:
    """A package's PEP 562 re-exports (``_LAZY``): public name -> defining module."""
    if not (PKG / module.replace(".", "/") / "__init__.py").exists():
        return {}
    mod = importlib.import_module("podc." + module if module else "podc")
    return {k: v[len("podc."):] for k, v in (getattr(mod, "_LAZY", None) or {}).items()}


def import_graph() -> dict[str, set[str]]:
    """module -> the podc modules it imports (a lazily re-exported name counts as an import of the
    module that defines it)."""
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        deps: set[str] = set()
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = _absolute(node, name, path)
                if module.startswith("podc."):
                    lazy = _lazy_table(module[len("podc."):])
                    for a in node.names:
                        if a.name in lazy:
                            deps.add(lazy[a.name])
        for target in podc_targets(path, name):
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target:
                deps.add(target)
        deps.discard(name)
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in graph:
                    continue
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == v:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles (every arrow must point down): " + "; ".join(" <-> ".join(c) for c in found)


def test_cycle_check_sees_lazy_and_function_level_imports():
    """The checker itself: a cycle through a function-level import or a lazy re-export is found."""
    assert cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    graph = import_graph()
    assert "render.compiled" in graph["render.checks"]  # module-level
    assert "render.checks" in graph["render.job"]  # function-level import
    assert "source.reader" in graph["project.layers"]


def test_stages_are_packages():
    for stage in STAGES:
        assert (PKG / stage / "__init__.py").is_file(), f"podc.{stage} should be a package"
    loose = sorted(p.stem for p in PKG.glob("*.py") if not p.stem.startswith("_"))
    assert loose == ["api", "errors", "pipeline", "resources", "tree"], loose


@pytest.mark.parametrize("name,path", list(MODULES.items()), ids=lambda v: str(v) if isinstance(v, str) else "")
def test_import_rules(name, path):
    own = area(name)
    targets = podc_targets(path, name)
    if own in ALLOWED:
        bad = [t for t in targets if area(t) not in ALLOWED[own]]
        assert not bad, f"podc.{name} may import only {ALLOWED[own]}, imports {bad}"
    if own in CORE:
        bad = [t for t in targets if area(t) in FORBIDDEN_FOR_CORE]
        assert not bad, f"core module podc.{name} imports {bad}"
    if own == "check":
        bad = [t for t in targets if area(t) in FORBIDDEN_FOR_CHECK]
        assert not bad, f"the checker podc.{name} imports {bad} (compose compile and check in podc.api)"
    third_party = {m.split(".")[0] for m in imports_of(path, name)}
    if own not in ("runtime", "testing", "dagster"):
        assert "kubernetes" not in third_party, f"podc.{name} imports kubernetes"
    if own != "dagster":
        assert "dagster" not in third_party, f"podc.{name} imports dagster"


def test_modules_stay_small():
    big = {name: n for name, path in MODULES.items() if (n := len(path.read_text().splitlines())) > 420}
    assert not big, f"modules past ~400 lines: {big}"


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
