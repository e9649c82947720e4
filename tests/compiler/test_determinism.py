"""Same input, same bytes: across runs and across hash seeds."""

from __future__ import annotations

from pathlib import Path

from compiler_helpers import PLATFORM, run_podc, tree_snapshot


def test_byte_identical_across_runs_and_hash_seeds(tmp_path: Path):
    outputs = []
    for seed in ("0", "1", "12345"):
        out = tmp_path / f"out-{seed}"
        result = run_podc("compile", str(PLATFORM), "--out", str(out), "--no-policy", env={"PYTHONHASHSEED": seed})
        assert result.returncode == 0, result.stderr
        outputs.append(tree_snapshot(out))
    assert outputs[0] == outputs[1] == outputs[2]
    assert len(outputs[0]) == 6  # five targets and the manifest


def test_stdout_identical_across_seeds_json():
    texts = {run_podc("compile", str(PLATFORM), "--stdout", "--format", "json", "--no-policy",
                      env={"PYTHONHASHSEED": seed}).stdout for seed in ("3", "4")}
    assert len(texts) == 1 and texts.pop().startswith("{")
