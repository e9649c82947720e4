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
    assert "pydantic" in mods  # sanity: the probe really compiled
