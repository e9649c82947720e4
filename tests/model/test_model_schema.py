"""schemas/podc-v1.json is generated from the models, current, and usable by editors."""

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schemas" / "podc-v1.json"


def _generator():
    sys.path.insert(0, str(ROOT / "schemas"))
    try:
        import generate_podc
    finally:
        sys.path.pop(0)
    return generate_podc


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_checked_in_schema_is_current():
    assert SCHEMA.read_text(encoding="utf-8") == _generator().render(), \
        "schemas/podc-v1.json is stale: run python schemas/generate_podc.py"


def test_generation_is_deterministic():
    gen = _generator()
    assert gen.render() == gen.render()


def test_schema_accepts_a_full_layer_and_project(validator):
    from podc.source import load_text
    from podc.tree import to_plain
    from test_model_layer_valid import FULL_LAYER
    from test_model_project import PROJECT

    for text in (FULL_LAYER, PROJECT):
        data = to_plain(load_text(text, "x.yaml")[0])
        assert [e.message for e in validator.iter_errors(data)] == []


@pytest.mark.parametrize("data", [
    {"imagee": "x"},
    {"volumes": {"d": {"emptyDir": {}, "nfs": {"server": "s", "path": "/"}}}},
    {"env": {"A": {"value": "x", "fieldRef": {"fieldPath": "a"}}}},
    {"kind": "Project", "targest": {}},
    {"restartPolicy": "Always"},
])
def test_schema_rejects_what_the_models_reject(validator, data):
    assert list(validator.iter_errors(data))


def test_top_level_fields_have_descriptions():
    schema = json.loads(SCHEMA.read_text())
    for model in ("LayerSpec", "ProjectSpec"):
        props = schema["$defs"][model]["properties"]
        missing = [k for k, v in props.items() if not v.get("description")]
        assert missing == [], f"{model}: add descriptions in schemas/generate_podc.py for {missing}"


def test_check_mode_exit_code():
    result = subprocess.run([sys.executable, str(ROOT / "schemas" / "generate_podc.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_import_podc_does_not_load_pydantic():
    code = "import sys, podc, podc.tree, podc.source; print('pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
