"""Everyday workflow commands: init, diff, fmt, completion, --set, --image, global options."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from cli_helpers import REPO, podc


@pytest.fixture
def platform(tmp_path: Path) -> Path:
    dest = tmp_path / "platform"
    shutil.copytree(REPO / "examples" / "platform", dest)
    return dest


def test_init_scaffold_compiles_and_checks_with_zero_warnings(tmp_path: Path):
    r = podc("init", "proj", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    proj = tmp_path / "proj"
    for rel in ("podc.yaml", "layers/base.yaml", "jobs/hello.yaml", ".pre-commit-config.yaml", ".podc/podc-v1.json"):
        assert (proj / rel).is_file(), rel
    assert (proj / "podc.yaml").read_text().startswith("# yaml-language-server: $schema=.podc/podc-v1.json")
    c = podc("compile", cwd=proj)
    assert c.returncode == 0 and "warning" not in c.stderr, c.stderr
    assert (proj / "build" / "hello.yaml").is_file()
    k = podc("check", "--format", "json", cwd=proj)
    assert k.returncode == 0, k.stderr
    report = json.loads(k.stdout)
    severities = [v["severity"] for d in report["documents"] for v in d.get("violations", [])]
    assert "warning" not in severities and "error" not in severities, report
    assert podc("fmt", "--check", cwd=proj).returncode == 0  # the scaffold is canonically formatted
    assert podc("compile", "--check", cwd=proj).returncode == 0


def test_init_refuses_to_overwrite(tmp_path: Path):
    (tmp_path / "podc.yaml").write_text("kind: Project\n")
    r = podc("init", cwd=tmp_path)
    assert r.returncode == 2 and "already exists" in r.stderr and "podc.yaml" in r.stderr
    assert (tmp_path / "podc.yaml").read_text() == "kind: Project\n"
    assert not (tmp_path / "layers").exists()  # nothing half-written
    assert podc("init", "--name", "Bad_Name", cwd=tmp_path / "x" if False else tmp_path).returncode == 2


def test_diff_is_empty_when_up_to_date_and_shows_the_change(platform: Path):
    same = podc("diff", str(platform))
    assert same.returncode == 0 and same.stdout == "", same.stderr
    changed = podc("diff", str(platform), "--set", "env.LOG_LEVEL=debug", "--target", "nightly-etl")
    assert changed.returncode == 1
    out = changed.stdout
    assert out.startswith("--- ") and "+++ " in out and "nightly-etl.yaml" in out
    assert "+              value: debug" in out
    # the diff is exactly what compile would write: applying it leaves compile --check happy
    assert podc("compile", str(platform), "--set", "env.LOG_LEVEL=debug", "--target", "nightly-etl").returncode == 0
    assert podc("diff", str(platform), "--set", "env.LOG_LEVEL=debug", "--target", "nightly-etl").returncode == 0


def test_diff_shows_missing_and_stale_outputs(platform: Path):
    (platform / "build" / "db-migrate.yaml").unlink()
    text = (platform / "podc.yaml").read_text().replace("  cleanup-scratch:\n", "  cleanup-old:\n")
    (platform / "podc.yaml").write_text(text)
    r = podc("diff", str(platform))
    assert r.returncode == 1
    assert "--- /dev/null\n+++ " in r.stdout and "db-migrate.yaml" in r.stdout
    assert "cleanup-scratch.yaml\n+++ /dev/null" in r.stdout
    quiet = podc("diff", str(platform), "-q")
    assert quiet.returncode == 1 and quiet.stdout == "" and quiet.stderr == ""


def test_set_is_a_last_layer_shown_in_provenance(platform: Path):
    r = podc("explain", "train-resnet", "spec.template.spec.containers[name=main].resources.limits.memory",
             "--project", str(platform), "--set", "resources.limits.memory=64Gi", "--format", "json")
    assert r.returncode == 0, r.stderr
    [record] = json.loads(r.stdout)
    assert record["value"] == "64Gi" and record["layer"] == "--set"
    assert record["overrides"][-1]["layer"] == "jobs/train-resnet.yaml"
    typed = podc("compile", str(platform), "--stdout", "--target", "nightly-etl", "--set", "backoffLimit=3",
                 "--set", "labels.app\\.kubernetes\\.io/component=etl")
    assert typed.returncode == 0, typed.stderr
    assert "backoffLimit: 3\n" in typed.stdout and "app.kubernetes.io/component: etl" in typed.stdout


def test_bad_set_is_a_located_usage_error(platform: Path):
    r = podc("compile", str(platform), "--stdout", "--set", "resources.limits.memory=2GB", "--set", "nonsense")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "--set nonsense" in r.stderr and "expected FIELD=VALUE" in r.stderr
    r = podc("compile", str(platform), "--stdout", "--set", "resources.limits.memory=2GB")
    assert r.returncode == 2 and "--set resources.limits.memory=2GB" in r.stderr and "quantity" in r.stderr


def test_image_overrides_from_the_project_and_the_command_line(platform: Path):
    project = platform / "podc.yaml"
    project.write_text(project.read_text() + "images:\n"
                       "  - name: registry.example.com/data/etl\n    newName: mirror.example.com/etl\n"
                       "  - name: registry.example.com/ml/resnet-train\n    newTag: \"2.5.0\"\n")
    r = podc("compile", str(platform), "--stdout", "--target", "train-resnet", "--target", "nightly-etl")
    assert r.returncode == 0, r.stderr
    assert "image: registry.example.com/ml/resnet-train:2.5.0\n" in r.stdout
    assert "image: mirror.example.com/etl:" in r.stdout
    digest = "sha256:" + "a" * 64
    r = podc("compile", str(platform), "--stdout", "--target", "train-resnet",
             "--image", f"registry.example.com/ml/resnet-train@{digest}")
    assert f"image: registry.example.com/ml/resnet-train@{digest}\n" in r.stdout  # the command line wins
    e = podc("explain", "train-resnet", "spec.template.spec.containers[name=main].image", "--project", str(platform),
             "--format", "json")
    [record] = json.loads(e.stdout)
    assert record["layer"] == "images" and record["source"]["line"] > 0
    assert record["overrides"][-1]["value"] == "registry.example.com/ml/resnet-train:2.4.1"
    bad = podc("compile", str(platform), "--stdout", "--image", "=x")
    assert bad.returncode == 2 and "--image =x" in bad.stderr


def test_image_override_semantics_match_kustomize():
    from podc.kube.image_overrides import ImageOverride, override_image

    d = "sha256:" + "b" * 64
    cases = [
        ("nginx:1.0", ImageOverride("nginx", new_tag="2.0"), "nginx:2.0"),
        ("nginx@" + d, ImageOverride("nginx", new_tag="2.0"), "nginx:2.0"),
        ("nginx:1.0", ImageOverride("nginx", digest=d), "nginx@" + d),
        ("nginx:1.0", ImageOverride("nginx", new_name="my/nginx"), "my/nginx:1.0"),
        ("nginx:1.0", ImageOverride("nginx", new_tag="2", digest=d), f"nginx:2@{d}"),
        ("localhost:5000/nginx:1", ImageOverride("localhost:5000/nginx", new_tag="3"), "localhost:5000/nginx:3"),
        ("nginxx:1.0", ImageOverride("nginx", new_tag="2.0"), "nginxx:1.0"),
    ]
    for image, override, want in cases:
        assert override_image(image, [override])[0] == want, (image, override)


def test_named_in_memory_layers_appear_in_provenance():
    import podc

    job = podc.compile_layers([("ci-overrides", {"image": "busybox:1.36", "backoffLimit": 2})], name="x")
    origin = job.provenance["/spec/backoffLimit"]
    assert origin.layer == "ci-overrides" and "ci-overrides" in str(origin.pos)


def test_explain_json_is_typed_and_relative(platform: Path):
    r = podc("explain", "train-resnet", "spec.activeDeadlineSeconds", "--project", ".", "--format", "json",
             cwd=platform)
    [record] = json.loads(r.stdout)
    assert isinstance(record["value"], int)
    assert all(isinstance(o["value"], int) for o in record["overrides"])
    files = [record["source"]["file"]] + [o["source"]["file"] for o in record["overrides"]]
    assert all(not os.path.isabs(f) for f in files), files
    text = podc("explain", "train-resnet", "spec.activeDeadlineSeconds", cwd=platform).stdout
    assert record["source"]["file"] in text


def test_written_value_reads_yaml_scalars():
    from podc.cli.explain import written_value

    assert written_value("14400") == 14400 and written_value('"14400"') == "14400"
    assert written_value("'it''s'") == "it's" and written_value("true") is True and written_value("1.5") == 1.5
    assert written_value("512Mi") == "512Mi" and written_value("null") is None


def test_fmt_keeps_comments_and_meaning_and_check_reports(tmp_path: Path):
    f = tmp_path / "layer.yaml"
    f.write_text("# head\nenv:\n    A: 1   \n    OLD: null  # delete\nargs:\n- a\n- {x: 1}\nresources: !replace\n"
                 "    limits: {memory: 1Gi}\n")
    assert podc("fmt", "--check", str(f)).returncode == 1
    assert podc("fmt", str(f)).returncode == 0
    lines = f.read_text().splitlines()
    assert lines[:3] == ["# head", "env:", "  A: 1"]
    assert lines[3].startswith("  OLD: null ") and lines[3].endswith("# delete")  # the comment stays on its line
    assert lines[4:] == ["args:", "  - a", "  - {x: 1}", "resources: !replace", "  limits: {memory: 1Gi}"]
    assert podc("fmt", "--check", str(f)).returncode == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [\n")
    r = podc("fmt", str(broken))
    assert r.returncode == 2 and "broken.yaml:" in r.stderr and "Traceback" not in r.stderr


def test_fmt_skips_generated_outputs(platform: Path):
    r = podc("fmt", "--check", "-v", str(platform))
    assert r.returncode in (0, 1)
    assert "build/" not in r.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(shell: str):
    r = podc("completion", shell)
    assert r.returncode == 0 and "compile" in r.stdout and "init" in r.stdout
    assert ("-l set" if shell == "fish" else "--set") in r.stdout
    if shell == "bash":
        assert subprocess.run(["bash", "-n"], input=r.stdout, text=True).returncode == 0


def test_quiet_verbose_and_colour_on_every_command(platform: Path):
    loud = podc("compile", str(platform), "-v")
    assert loud.returncode == 0 and "unchanged" in loud.stderr
    quiet = podc("-q", "compile", str(platform))
    assert quiet.returncode == 0 and quiet.stderr == ""
    bad = podc("compile", str(platform), "--set", "x", "--quiet")
    assert bad.returncode == 2 and "expected FIELD=VALUE" in bad.stderr  # errors are never silenced
    forced = podc("compile", str(platform), "--set", "x", env={"FORCE_COLOR": "1"})
    assert "\x1b[" in forced.stderr
    for env in ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, {"FORCE_COLOR": "1", "X": "1"}):
        args = ["compile", str(platform), "--set", "x"] + (["--no-color"] if "X" in env else [])
        assert "\x1b[" not in podc(*args, env=env).stderr
    colored = podc("check", str(platform), "--fail-on", "info", env={"FORCE_COLOR": "1"})
    assert "\x1b[" in colored.stdout
    assert podc("check", str(platform), "--quiet").stdout == ""  # passes: nothing to say
    assert "\x1b[" not in podc("check", str(platform), "--fail-on", "info", env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout
    usage = podc("--help")
    assert "--quiet" in usage.stdout and "diff" in usage.stdout


def test_check_dir_of_outputs_and_stdin(platform: Path):
    r = podc("check", str(platform / "build"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "object has no kind" not in r.stderr
    compiled = podc("compile", str(platform), "--stdout", "--target", "nightly-etl")
    piped = podc("check", "-", input=compiled.stdout)
    assert piped.returncode == 0 and "1 document" in piped.stdout, piped.stdout + piped.stderr
    bad = podc("check", "-", input="apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec: 3\n")
    assert bad.returncode == 1


def test_outputs_and_reports_follow_the_umask(platform: Path, tmp_path: Path):
    old = os.umask(0o022)
    try:
        shutil.rmtree(platform / "build")
        assert podc("compile", str(platform)).returncode == 0
        assert podc("check", str(platform), "-o", str(tmp_path / "report.txt")).returncode == 0
    finally:
        os.umask(old)
    for f in [*(platform / "build").iterdir(), tmp_path / "report.txt"]:
        assert stat.S_IMODE(f.stat().st_mode) == 0o644, f
