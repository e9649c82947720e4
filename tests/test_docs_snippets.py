"""Every code snippet in README.md and docs/*.md runs, so the docs cannot drift from podc.

What runs, in a fresh temporary copy of the repository's examples/, schemas/ and policies/
(so relative paths like ``examples/platform`` work and nothing in the repository changes):

* ``bash``/``sh``/``shell``/``console`` blocks, and plain blocks whose lines start with ``$ podc``:
  every command line whose commands are podc (``podc …``, ``.venv/bin/podc …``) or harmless
  helpers (``cd``, ``cat``, ``ls``, ``echo``, ``diff``, ``grep``, ``test``); segments that install
  or run other tools (``python3 -m venv``, ``pip``, ``pytest``) are left out. A command must exit
  0 or 1 (1 = a check failed / outputs differ, which a snippet may show) and never crash.
  A block's commands run in order in one folder, so ``podc init x`` then ``cd x && podc compile``
  works.
* ``python`` blocks: run as a script (exit 0).

To leave a snippet out, put this HTML comment (invisible on GitHub) on the line before its fence::

    <!-- podc-doc-test: skip needs a real cluster -->

The reason is required. Prefer making the snippet runnable; skip only what needs a cluster, a
long-running server, or an environment the tests do not have. ``SKIPPED`` below lists the
snippets skipped from here instead (by file and a piece of their first line), each with a reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
MARKER = re.compile(r"<!--\s*podc-doc-test:\s*skip\b\s*(.*?)\s*-->")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")
SHELL_LANGS = {"bash", "sh", "shell", "console", "shell-session"}
SAFE_COMMANDS = {"podc", "cd", "cat", "ls", "echo", "diff", "grep", "test", "head", "tail", "mkdir", "rm"}
TIMEOUT = 180

# (file relative to the repository, a piece of the snippet's first line) -> why it is not run
SKIPPED: dict[tuple[str, str], str] = {
    ("docs/runtime.md", "podc submit"): "submits to a real cluster and waits for it",
    ("docs/runtime.md", "from podc.runtime import Runtime"): "needs a real cluster (kubeconfig)",
    ("README.md", "$ podc check            # a project whose ml"): "shows the output of a hypothetical project",
}


@dataclass
class Snippet:
    file: Path
    line: int  # of the opening fence
    lang: str
    text: str
    skip: str | None

    @property
    def id(self) -> str:
        return f"{self.file.relative_to(REPO).as_posix()}:{self.line}"


def snippets(path: Path) -> list[Snippet]:
    """The fenced code blocks of a Markdown file, with the skip reason of a marker before them."""
    out: list[Snippet] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang, start = m.group(2), m.group(3).lower(), i
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i][len(m.group(1)):] if lines[i].startswith(m.group(1)) else lines[i])
            i += 1
        i += 1
        skip = None
        j = start - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        if j >= 0 and (hit := MARKER.search(lines[j])):
            skip = hit.group(1) or "(no reason given)"
        out.append(Snippet(path, start + 1, lang, "\n".join(body), skip))
    return out


def _runnable(s: Snippet) -> bool:
    if s.lang == "python":
        return True
    if s.lang in SHELL_LANGS:
        return bool(shell_commands(s.text))
    return s.lang == "" and any(line.startswith("$ podc") for line in s.text.splitlines())


def _comment_free(line: str) -> str:
    """The line without a trailing ``# comment`` (not inside quotes)."""
    quote = None
    for k, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (k == 0 or line[k - 1].isspace()):
            return line[:k].rstrip()
    return line.rstrip()


def shell_commands(text: str, console_only: bool = False) -> list[str]:
    """The podc command lines of a shell/console block, ready for ``bash -c``."""
    joined: list[str] = []
    buf = ""
    for raw in text.splitlines():
        line = raw.rstrip()
        if console_only or line.startswith("$ "):
            if not line.startswith("$ ") and not buf:
                continue  # output shown after a `$` command
            line = line[2:] if line.startswith("$ ") else line
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        joined.append(buf + line)
        buf = ""
    commands = []
    for line in joined:
        line = re.sub(r"(?:\.\./)*\.venv/bin/", "", _comment_free(line))
        segments = [seg.strip() for seg in line.split("&&") if seg.strip()]
        kept = [seg for seg in segments if all(part.split()[0] in SAFE_COMMANDS
                                               for part in seg.split("|") if part.split())]
        if any(seg.split()[0] == "podc" or "| podc" in seg for seg in kept):
            commands.append(" && ".join(kept))
    return commands


ALL = [s for doc in DOCS for s in snippets(doc) if _runnable(s)]


def _skip_reason(s: Snippet) -> str | None:
    if s.skip:
        return s.skip
    rel = s.file.relative_to(REPO).as_posix()
    first = s.text.strip().splitlines()[0] if s.text.strip() else ""
    for (file, piece), reason in SKIPPED.items():
        if file == rel and piece in s.text and (piece in first or s.lang != "python"):
            return reason
    return None


@pytest.fixture(scope="module")
def sandbox_template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("docs-template")
    for name in ("examples", "schemas", "policies"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__", ".podc-tmp-*"))
    bin_dir = root.parent / f"{root.name}-bin"
    bin_dir.mkdir()
    for tool, module in (("podc", ["-m", "podc"]), ("python", []), ("python3", [])):
        shim = bin_dir / tool
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" {" ".join(module)} "$@"\n')
        shim.chmod(0o755)
    return root


def _env(bin_dir: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "compiler"), "NO_COLOR": "1"}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.mark.parametrize("snippet", ALL, ids=[s.id for s in ALL])
def test_docs_snippet_runs(snippet: Snippet, sandbox_template: Path, tmp_path: Path):
    reason = _skip_reason(snippet)
    if reason:
        pytest.skip(f"{snippet.id}: {reason}")
    root = tmp_path / "repo"
    shutil.copytree(sandbox_template, root)
    shutil.copytree(sandbox_template.parent / f"{sandbox_template.name}-bin", tmp_path / "repo-bin")
    env = _env(tmp_path / "repo-bin")
    if snippet.lang == "python":
        script = tmp_path / "snippet.py"
        script.write_text(snippet.text, encoding="utf-8")
        r = subprocess.run([sys.executable, str(script)], cwd=root, env=env, capture_output=True, text=True,
                           timeout=TIMEOUT)
        assert r.returncode == 0, f"{snippet.id} failed:\n{snippet.text}\n--- stderr:\n{r.stderr[-3000:]}"
        return
    commands = shell_commands(snippet.text, console_only=snippet.lang == "")
    assert commands
    for command in commands:
        r = subprocess.run(["bash", "-c", command], cwd=root, env=env, capture_output=True, text=True,
                           timeout=TIMEOUT)
        detail = f"{snippet.id}: `{command}` exited {r.returncode}\n--- stderr:\n{r.stderr[-3000:]}"
        assert r.returncode in (0, 1), detail
        assert "Traceback" not in r.stderr and "internal error" not in r.stderr, detail


def test_the_harness_finds_snippets_and_markers(tmp_path: Path):
    doc = tmp_path / "x.md"
    doc.write_text("text\n<!-- podc-doc-test: skip needs a cluster -->\n\n```bash\npodc submit a.yaml\n```\n"
                   "```console\n$ .venv/bin/podc check x \\\n    --pss baseline   # comment\noutput line\n```\n"
                   "```bash\npython3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/podc compile p\n```\n")
    found = snippets(doc)
    assert [s.skip for s in found] == ["needs a cluster", None, None]
    assert shell_commands(found[1].text) == ["podc check x      --pss baseline"]
    assert shell_commands(found[2].text) == ["podc compile p"]
    assert len(ALL) >= 10  # the real docs have snippets (a broken fence regex would find none)
