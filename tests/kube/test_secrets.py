"""One secret detector for check, explain, errors, runtime logs and Dagster events (issue 9 §5)."""

from __future__ import annotations

import io
import json
import os
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from podc.kube.secrets import DEFAULTS, MASK, looks_secret, name_match, redact, redact_text, value_match

NAMES_EXPLAIN_MISSED = ["MYSQL_PWD", "DB_PASS", "SSH_PASSPHRASE", "AWS_CREDS", "SIDECAR_PWD"]
NARROWED_EXEMPTIONS = ["AWS_SECRET_KEY_ID", "DB_PASSWORD_HOST", "DB_PASSWORD_PORT", "CLIENT_SECRET_ID"]
STILL_EXEMPT = ["AWS_ACCESS_KEY_ID", "PASSWORD_FILE", "OAUTH_TOKEN_URL", "SECRET_NAME", "TOKEN_TTL", "PWD",
                "DAGSTER_RUN_STEP_KEY", "DB_HOST", "MAX_TOKENS"]


@pytest.mark.parametrize("name", NAMES_EXPLAIN_MISSED + NARROWED_EXEMPTIONS)
def test_secret_names(name):
    assert name_match(name) is not None, name


@pytest.mark.parametrize("name", STILL_EXEMPT)
def test_not_secret_names(name):
    assert name_match(name) is None, name


SECRET_VALUES = {
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----": "a PEM private key",
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==": "a PEM private key",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U": "a JWT",
    "ghp_" + "a" * 36: "a GitHub token",
    "github_pat_11ABCDEFG0" + "x" * 40: "a GitHub token",
    "xoxb-123456789012-abcdefghij": "a Slack token",
    "AKIAIOSFODNN7EXAMPLE": "an AWS access key",
    "ASIAIOSFODNN7EXAMPLE": "an AWS access key",
    "sk_live_" + "4" * 24: "a Stripe key",
    "glpat-" + "x" * 20: "a GitLab token",
    "AIza" + "S" * 35: "a Google API key",
    "postgres://app:hunter2@db:5432/x": "a URL with a password",
    "https://user:p%40ss@example.com/": "a URL with a password",
    "Authorization: Bearer abc.def-123456": "a bearer credential",
}
NOT_SECRET_VALUES = ["postgres://db:5432/x", "https://user@example.com/", "postgres://app:$(DB_PASSWORD)@db/x",
                     "busybox:1.36", "-----BEGIN CERTIFICATE-----\nMIIB", "hello world", "ghp_short"]


@pytest.mark.parametrize("value, what", SECRET_VALUES.items())
def test_secret_values(value, what):
    assert value_match(value) == what
    assert looks_secret("HARMLESS", value)
    shown = redact_text(f"x {value} y")
    assert shown != f"x {value} y" and "hunter2" not in shown and "AKIAIOSFODNN7EXAMPLE" not in shown


@pytest.mark.parametrize("value", NOT_SECRET_VALUES)
def test_not_secret_values(value):
    assert value_match(value) is None and redact_text(value) == value


def test_url_keeps_all_but_the_password():
    assert redact_text("cannot reach postgres://app:hunter2@db/x") == "cannot reach postgres://app:<redacted>@db/x"


def test_redact():
    assert redact("DB_PASS", "x") == MASK and redact("MODE", "fast") == "fast"
    assert redact("DSN", "mysql://u:pw12345@h/d") == "mysql://u:<redacted>@h/d"


def test_pack_parameters_are_the_detectors_defaults():
    """`podc check` (the pack's literal-secret-env parameters) and everything else decide alike."""
    from podc.check.practices import load_pack

    params = load_pack()["literal-secret-env"].params
    assert {k: tuple(v) for k, v in params.items()} == DEFAULTS


def _podc(root: Path, *args: str) -> tuple[int, str, str]:
    from podc.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    try:
        os.chdir(root)
        with redirect_stdout(out), redirect_stderr(err):
            code = main(list(args))
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue()


PLAIN = {"MYSQL_PWD": "mysqlpw-1", "DB_PASS": "dbpass-2", "SSH_PASSPHRASE": "phrase-3", "AWS_CREDS": "creds-4",
         "AWS_SECRET_KEY_ID": "skid-5", "DB_PASSWORD_HOST": "dbph-6", "GH": "ghp_" + "b" * 36}


def _explain_project(tmp_path: Path) -> Path:
    (tmp_path / "layers").mkdir()
    (tmp_path / "podc.yaml").write_text("layers: {base: layers/base.yaml}\ntargets:\n  etl: {layers: [base], file: job.yaml}\n")
    (tmp_path / "layers" / "base.yaml").write_text(
        "image: busybox:1.36\nenv:\n  MYSQL_PWD: older-mysqlpw\n  DB_URL: postgres://app:olderpw99@db/x\n")
    env = "".join(f"  {k}: {v}\n" for k, v in PLAIN.items())
    (tmp_path / "job.yaml").write_text("command: [run]\nenv:\n" + env + "  DB_URL: postgres://db/x\n"
                                       "sidecars:\n  side:\n    image: busybox:1.36\n    env: {SIDECAR_PWD: sidepw-7}\n")
    return tmp_path


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_explain_masks_every_secret_looking_value(tmp_path, fmt):
    root = _explain_project(tmp_path)
    code, out, err = _podc(root, "explain", "etl", "--format", fmt)
    assert code == 0, err
    for secret in [*PLAIN.values(), "older-mysqlpw", "olderpw99", "sidepw-7"]:
        assert secret not in out, secret
    if fmt == "json":
        json.loads(out)
    assert "postgres://app:<redacted>@db/x" in out  # an overridden older value keeps its shape


def test_check_flags_secret_values_under_any_name(tmp_path):
    from podc.check.engine import CheckOptions, check_documents

    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "check"))
    from _checkutil import clean_job, container, document

    job = clean_job()
    container(job)["env"] = [{"name": "NOTHING_HERE", "value": "ghp_" + "c" * 36}]
    result = check_documents([document(job)], CheckOptions())
    (v,) = [v for v in result.violations() if v.rule == "literal-secret-env"]
    assert "looks like a GitHub token" in v.message and "ghp_" not in v.message


def test_error_messages_never_print_secret_values(tmp_path):
    from podc.errors import Diagnostic, Pos, format_diagnostics

    text = format_diagnostics([Diagnostic("x", "bad value 'postgres://u:hunter2xx@h/db'", Pos("f", 1, 1),
                                          hint="token ghp_" + "d" * 36)])
    assert "hunter2xx" not in text and "ghp_" not in text


def test_runtime_and_dagster_use_the_detector():
    from podc.dagster.events import redacted_manifest
    from podc.runtime.api import redact_env_values

    job = {"spec": {"template": {"spec": {"containers": [{"name": "c", "args": ["--token=ghp_" + "e" * 36],
                                                          "env": [{"name": "A", "value": "x"}]}]}}}}
    assert "ghp_" not in redact_env_values("rejected: mysql://u:pw-secret@h/x and ghp_" + "e" * 36, job)
    assert "ghp_" not in json.dumps(redacted_manifest(job))
