"""``podc migrate dagster-k8s``: the layer files it prints build the same step Job as the
dagster-k8s configuration they came from (generated cases), name their source keys, and bad input
is a located error with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_support import EXAMPLE, REPO

pytest.importorskip("dagster")

from k8s_generate import HOST_ENV, generate  # noqa: E402
from k8s_reference import podc_job  # noqa: E402

RUN_CONFIG = EXAMPLE / "run_config.yaml"


def podc(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "PYTHONPATH": str(REPO / "compiler")}
    return subprocess.run([sys.executable, "-m", "podc", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env=env)


def test_example_run_config_becomes_commented_layer_files(tmp_path):
    tags = tmp_path / "tags.yaml"
    tags.write_text("migrated:\n  dagster-k8s/config:\n    container_config:\n"
                    "      env: [{name: FOO, value: from-tag}]\n")
    out = podc("migrate", "dagster-k8s", str(RUN_CONFIG), "--tags", str(tags))
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "# --- executor.yaml\n" in text and "# --- ops/migrated.yaml\n" in text
    assert "# --- ops/load.per-step.yaml\n" in text and "# --- run_config.yaml\n" in text
    # each value names its key and where it is written
    assert f"- {{name: FOO, value: from-executor}}  # execution.config.env_vars[1] ({RUN_CONFIG}:11:9)" in text
    assert "cpu: 100m  # execution.config.step_k8s_config.container_config.resources.requests.cpu" in text
    assert f"- !replace {{name: FOO, value: from-tag}}  # migrated.dagster-k8s/config.container_config.env[0] ({tags}:4:13)" in text
    # the run worker's DAGSTER_HOME is read when the run starts, not copied from this machine
    assert "      - DAGSTER_HOME\n" in text and "/dagster_home" not in text.split("# --- run_config.yaml")[0]


def test_out_writes_files_and_refuses_to_overwrite(tmp_path):
    out = podc("migrate", "dagster-k8s", str(RUN_CONFIG), "--out", str(tmp_path / "m"))
    assert out.returncode == 0, out.stderr
    assert sorted(p.relative_to(tmp_path / "m").as_posix() for p in (tmp_path / "m").rglob("*.yaml")) == [
        "executor.yaml", "ops/load.per-step.yaml", "run_config.yaml"]
    again = podc("migrate", "dagster-k8s", str(RUN_CONFIG), "--out", str(tmp_path / "m"))
    assert again.returncode == 2 and "exists" in again.stderr and "--force" in again.stderr
    assert podc("migrate", "dagster-k8s", str(RUN_CONFIG), "--out", str(tmp_path / "m"), "--force").returncode == 0


@pytest.mark.parametrize("text, needle", [
    ("execution:\n  config:\n    step_k8s_config:\n      container_config:\n        resourcez: {}\n",
     "run.yaml:5:9: error[dagster.k8s-config]: `resourcez` is not a field of V1Container"),
    ("ops: {}\n", "error[migrate.no-executor]: no `execution` section"),
    ("- a\n", "error[input.not-a-mapping]"),
    ("execution:\n  config:\n    env_vars: [A=1\n", "run.yaml:4:1: error[yaml.syntax]"),
    ("execution:\n  config:\n    step_k8s_config: {merge_behavior: LOOSE}\n",
     "merge_behavior must be DEEP or SHALLOW"),
])
def test_bad_input_is_a_located_error(tmp_path, text, needle):
    (tmp_path / "run.yaml").write_text(text)
    out = podc("migrate", "dagster-k8s", "run.yaml", cwd=tmp_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert needle in out.stderr, out.stderr


def test_missing_file_and_usage_errors_exit_2(tmp_path):
    assert podc("migrate", "dagster-k8s", str(tmp_path / "none.yaml")).returncode == 2
    assert podc("migrate").returncode == 2
    assert podc("migrate", "helm", "x").returncode == 2


def _migrated_case(case, tmp_path):
    """The same case, configured through the files `podc migrate` wrote."""
    from podc.dagster.migrate import migrate_dagster_k8s
    from podc.source import load_text
    from podc.tree import to_plain

    tags = {case.op_name: {k: json.loads(v) for k, v in case.op_tags.items()}}
    result = migrate_dagster_k8s({"execution": {"config": case.executor}}, tags=tags,
                                 layer_dir=str(tmp_path))
    for name, text in result.files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    cfg = to_plain(load_text(result.files["run_config.yaml"])[0])["execution"]["config"]
    op_files = [f"ops/{case.op_name}.yaml", f"ops/{case.op_name}.per-step.yaml"]
    layers = [str(tmp_path / f) for f in op_files if f in result.files]
    op_tags = {"podc/layers": json.dumps(layers)} if layers else {}
    from k8s_generate import Case

    return Case(case.seed, cfg, {}, None, op_tags, {}, op_name=case.op_name, origin_image=case.origin_image)


def _comparable(manifest: dict) -> dict:
    main = manifest["spec"]["template"]["spec"]["containers"][0]
    # Order moves in two known ways: dagster-k8s's own env vars come after the `layers` files,
    # and the `NAME` env vars (read in the run worker) stay in the run config, after the files.
    main["env"] = sorted((e for e in main.get("env") or [] if not e["name"].startswith("DAGSTER_")),
                         key=lambda e: e["name"])
    return manifest


def test_migrated_files_build_the_same_job(tmp_path, monkeypatch):
    for k, v in HOST_ENV.items():
        monkeypatch.setenv(k, v)
    compared = 0
    for seed in range(600, 680):
        case = generate(seed)
        case.launcher, case.container_context, case.run_tags = {}, None, {}
        try:
            original = podc_job(case)[0]
        except Exception:  # noqa: BLE001 - refused configurations are another test's subject
            continue
        where = tmp_path / str(seed)
        migrated = podc_job(_migrated_case(case, where))[0]
        assert _comparable(migrated) == _comparable(original), case.describe()
        compared += 1
    assert compared >= 50
