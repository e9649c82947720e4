"""Targets sharing long stacks of layer files reuse merged prefixes (kept only at some depths, the
rest re-merged in place): every Job, its provenance and the diagnostics must be exactly what
compiling that target alone gives."""

from __future__ import annotations

from pathlib import Path

from podc.pipeline import compile_project


def _project(root: Path, n: int) -> Path:
    (root / "l").mkdir(parents=True)
    for i in range(n):
        # every layer adds to keyed lists; l5 also deletes an earlier env var (a merge diagnostic
        # appears when it is missing) and l7 overrides a value set below it
        env = f"  V{i}: v{i}\n" + ("  V2: !delete\n" if i == 5 else "") + ("  V1: seven\n" if i == 7 else "") \
            + ("  NOPE: !delete\n" if i == 10 else "")
        (root / "l" / f"l{i}.yaml").write_text(
            f"env:\n{env}tolerations:\n  - key: k{i}\n    operator: Exists\n"
            f"volumes:\n  v{i}:\n    emptyDir: {{}}\n    mountPath: /v{i}\n")
    (root / "job.yaml").write_text("image: app:1\n")
    (root / "other.yaml").write_text("image: app:2\nenv:\n  V3: other\n")
    names = [f"l{i}" for i in range(n)]
    stack = lambda k: "[" + ", ".join(names[:k]) + "]"  # noqa: E731
    targets = {
        "full": f"layers: {stack(n)}\n    file: job.yaml",
        "same": f"layers: {stack(n)}\n    file: job.yaml",  # identical to full: the whole prefix is kept
        "prefix-27": f"layers: {stack(27)}\n    file: other.yaml",  # between kept depths 16 and 32
        "prefix-13": f"layers: {stack(13)}\n    file: job.yaml\n    overrides: {{env: {{V0: inline}}}}",
        "diverge": "layers: [" + ", ".join(names[:20] + ["l39", "l21"]) + "]\n    file: other.yaml",
    }
    (root / "podc.yaml").write_text(
        "kind: Project\nnamespace: batch\nlayers:\n" + "".join(f"  {x}: l/{x}.yaml\n" for x in names)
        + "targets:\n" + "".join(f"  {name}:\n    {body}\n" for name, body in targets.items()))
    return root


def _view(job) -> tuple:
    return job.manifest, {p: job.provenance[p] for p in job.provenance}, job.sources


def test_shared_prefixes_give_what_each_target_alone_gives(tmp_path: Path):
    root = _project(tmp_path, 40)
    together = compile_project(root)
    assert [j.target for j in together.jobs] == ["full", "same", "prefix-27", "prefix-13", "diverge"]
    expected: set[str] = set()
    for job in together.jobs:
        alone = compile_project(root, targets=[job.target])
        assert _view(job) == _view(alone.jobs[0]), job.target
        expected.update(str(d) for d in alone.diagnostics)
    assert {str(d) for d in together.diagnostics} == expected and len(together.diagnostics) == len(expected)
    assert any("NOPE" in d for d in expected)  # the warning of l10, re-merged from kept depth 8
    env = {e["name"]: e.get("value") for e in together.jobs[0].manifest["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["V1"] == "seven" and "V2" not in env and env["V39"] == "v39"
    assert together.jobs[0].manifest["spec"] == together.jobs[1].manifest["spec"]
