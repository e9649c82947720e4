"""`import podc` and `podc compile` stay light: no kubernetes/dagster, and --version no pydantic."""

from __future__ import annotations

import json
import subprocess
import sys

from compiler_helpers import PLATFORM

HEAVY = ("kubernetes", "dagster", "pydantic", "ruamel", "jsonschema")


def loaded_after(code: str) -> set[str]:
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_podc_is_light():
    mods = loaded_after("import podc")
    assert not mods & set(HEAVY), mods & set(HEAVY)


def test_version_does_not_import_heavy_modules():
    mods = loaded_after("from podc.cli.main import main\nimport io, contextlib\n"
                        "with contextlib.redirect_stdout(io.StringIO()): main(['--version'])")
    assert not mods & set(HEAVY)


def test_compile_does_not_import_kubernetes_or_dagster(tmp_path):
    code = ("from podc.cli.main import main\nimport io, contextlib\n"
            f"with contextlib.redirect_stderr(io.StringIO()): rc = main(['compile', {str(PLATFORM)!r}, '--out', "
            f"{str(tmp_path / 'o')!r}])\nassert rc == 0, rc\n"
            "import podc\njob = podc.compile_project(" + repr(str(PLATFORM)) + ").jobs[0]\npodc.explain(job)")
    mods = loaded_after(code)
    assert "kubernetes" not in mods and "dagster" not in mods
    # valid layers pass the fast gate (podc.model.fast): the pydantic models are never built
    assert "pydantic" not in mods


def test_invalid_layer_still_gets_the_models_message(tmp_path):
    """The fast gate defers to pydantic for invalid input, so the message is the models' one."""
    (tmp_path / "podc.yaml").write_text("kind: Project\ntargets:\n  a: {file: a.yaml}\n")
    (tmp_path / "a.yaml").write_text("image: x\nresources:\n  requests: {cpu: lots}\n")
    code = ("from podc.cli.main import main\nimport io, contextlib\nerr = io.StringIO()\n"
            f"with contextlib.redirect_stderr(err): rc = main(['compile', {str(tmp_path)!r}, '--out', "
            f"{str(tmp_path / 'o')!r}])\nassert rc == 2, rc\nprint(err.getvalue())")
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint('pydantic' in sys.modules)"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    assert "a.yaml:3:" in out and "quantit" in out, out
    assert out.strip().endswith("True")
