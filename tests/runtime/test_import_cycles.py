"""No import cycles inside podc.runtime and podc.testing (function-level and TYPE_CHECKING
imports count), and their public import paths still work."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "compiler" / "podc"


def _graph(package: str) -> dict[str, set[str]]:
    mods = {}
    for path in sorted((PKG / package).rglob("*.py")):
        rel = path.relative_to(PKG).with_suffix("")
        mods[".".join(["podc", *[p for p in rel.parts if p != "__init__"]])] = path
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = name.split(".") if is_pkg else name.split(".")[:-1]
                    parts = parts[:len(parts) - (node.level - 1)]
                    base = ".".join(parts + ([node.module] if node.module else []))
                deps.add(base)
                deps.update(f"{base}.{a.name}" for a in node.names)
        out = set()
        for dep in deps:
            while dep and dep not in mods:
                dep = dep.rpartition(".")[0]
            if dep and dep != name:
                out.add(dep)
        graph[name] = out
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                return stack[stack.index(dep):] + [dep]
            if dep not in state and (found := visit(dep)):
                return found
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


@pytest.mark.parametrize("package", ["runtime", "testing"])
def test_no_import_cycles(package):
    assert _cycle(_graph(package)) is None


def test_public_import_paths_still_work():
    code = ("from podc.runtime import Runtime, connect, podc_threads, list_runs; "
            "from podc.runtime.runtime import Runtime as R, CancelResult, JobConflict, RunCancelled; "
            "from podc.runtime.cluster import connect as c, default_namespace; "
            "from podc.testing import LocalCluster, SimNode; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
