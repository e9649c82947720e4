"""Custom CEL rules are real CEL, bounded as Kubernetes bounds it (issue 9 §3).

Each hole has a test: macros with iteration variables, the estimated-cost limit at load, the
runtime budget, and failures inside the CEL engine (a column past 65,535) as located errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from podc.check.custom import evaluate, load_policy_files
from podc.errors import Diagnostics, PodcError

from _checkutil import clean_job, container, document, line_of

ROOT = Path(__file__).resolve().parents[2]


def load(tmp_path: Path, text: str):
    path = tmp_path / "policy.yaml"
    path.write_text(textwrap.dedent(text))
    diags = Diagnostics()
    return path, load_policy_files([str(path)], diags), diags


def rule_policy(tmp_path: Path, expr: str):
    path = tmp_path / "policy.yaml"
    path.write_text("policy: p\nrules:\n  - id: r\n    message: failed\n    cel: |-\n      " + expr + "\n")
    diags = Diagnostics()
    return path, load_policy_files([str(path)], diags), diags


def podc_check(tmp_path: Path, policy: str, manifest: str, timeout: float = 30) -> subprocess.CompletedProcess:
    (tmp_path / "pol.yaml").write_text(policy)
    (tmp_path / "job.yaml").write_text(manifest)
    env = {"PYTHONPATH": str(ROOT / "compiler"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "podc", "check", "job.yaml", "--policy", "pol.yaml", "--pss", "none"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.mark.parametrize("expr, passes", [
    ("podSpec.containers.all(c, c.image.startsWith('registry.corp/'))", True),
    ("object.spec.template.spec.containers.all(c, c.image.startsWith('docker.io/'))", False),
    ("podSpec.containers.exists(c, c.name == 'main')", True),
    ("podSpec.containers.exists_one(c, c.name == 'main')", True),
    ("podSpec.containers.map(c, c.name) == ['main']", True),
    ("podSpec.containers.filter(c, has(c.securityContext)).size() == 1", True),
    ("podSpec.containers.all(c, c.securityContext.capabilities.drop.all(d, d == 'ALL'))", True),
    ("podSpec.containers.all(c, podSpec.containers.exists(d, d.name == c.name))", True),
    ("podSpec.containers.all(c, c.?resources.?limits.?memory.orValue('') != '')", True),
    ("podSpec.containers.all(c, quantity(c.resources.limits.memory).isLessThan(quantity('1Gi')))", True),
])
def test_macros_with_iteration_variables_work(tmp_path, expr, passes):
    _, policies, diags = rule_policy(tmp_path, expr)
    assert not diags, [d.message for d in diags]
    found = evaluate(document(clean_job()), policies)
    assert (found == []) is passes, [v.message for v in found]


def test_the_benchmarked_expression_from_the_docs_runs(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("policy: p\nparams: {max: 3}\nrules:\n  - id: r\n    cel: \"object.spec.backoffLimit <= "
                    "params.max && object.spec.template.spec.containers.all(c, c.image.startsWith('registry.corp/'))\"\n")
    diags = Diagnostics()
    policies = load_policy_files([str(path)], diags)
    assert not diags
    assert evaluate(document(clean_job()), policies) == []
    job = clean_job()
    container(job)["image"] = "docker.io/x:1"
    assert [v.rule for v in evaluate(document(job), policies)] == ["r"]


EIGHT_NESTED = ("[0,1,2,3,4,5,6,7,8,9].all(a, [0,1,2,3,4,5,6,7,8,9].all(b, [0,1,2,3,4,5,6,7,8,9].all(c, "
                "[0,1,2,3,4,5,6,7,8,9].all(d, [0,1,2,3,4,5,6,7,8,9].all(e, [0,1,2,3,4,5,6,7,8,9].all(f, "
                "[0,1,2,3,4,5,6,7,8,9].all(g, [0,1,2,3,4,5,6,7,8,9].all(h, a+b+c+d+e+f+g+h >= 0))))))))")


def test_eight_nested_all_is_rejected_at_load_by_the_estimated_cost(tmp_path):
    assert 240 <= len(EIGHT_NESTED) <= 260
    path, policies, diags = rule_policy(tmp_path, EIGHT_NESTED)
    assert policies == []
    (d,) = [d for d in diags if d.code == "policy.cel-cost"]
    assert "'r'" in d.message and "estimated cost" in d.message and "exceeds the limit" in d.message
    assert (d.pos.file, d.pos.line) == (str(path), line_of(path, "cel:"))


def test_nested_all_over_the_objects_own_lists_is_rejected_at_load(tmp_path):
    expr = "".join(f"podSpec.containers.all({v}, " for v in "abcdefgh") + "a.name != ''" + ")" * 8
    _, policies, diags = rule_policy(tmp_path, expr)
    assert policies == [] and [d.code for d in diags] == ["policy.cel-cost"]


def job_with_env(n: int) -> dict:
    job = clean_job()
    container(job)["env"] = [{"name": f"V{i}", "value": str(i)} for i in range(n)]
    return job


def test_map_over_1000_env_vars_is_linear(tmp_path):
    _, policies, diags = rule_policy(tmp_path, "podSpec.containers.all(c, !has(c.env) || c.env.map(e, e.name)"
                                               ".size() == c.env.size())")
    assert not diags
    assert evaluate(document(job_with_env(1000)), policies) == []


def test_runtime_budget_stops_a_quadratic_rule_with_a_located_error(tmp_path):
    path, policies, diags = rule_policy(tmp_path, "podSpec.containers.all(c, c.env.all(e, c.env.map(f, f.name)"
                                                  ".exists(n, n == e.name)))")
    assert not diags  # the estimate (100 items per list) lets it load...
    with pytest.raises(PodcError) as err:   # ...but 1,000 env vars cost ~10^6 per pass
        evaluate(document(job_with_env(1000)), policies)
    (d,) = err.value.diagnostics
    assert d.code == "policy.cel-cost" and "'r'" in d.message and "'p'" in d.message and "budget" in d.message
    assert (d.pos.file, d.pos.line) == (str(path), line_of(path, "cel:"))
    assert evaluate(document(job_with_env(5)), policies) == []  # small objects are fine


def test_pathological_rules_end_quickly_through_the_cli(tmp_path):
    import json

    manifest = json.dumps(job_with_env(1000))
    policy = ("policy: p\nrules:\n  - id: quadratic\n    cel: \"podSpec.containers.all(c, c.env.all(e, "
              "c.env.map(f, f.name).exists(n, n == e.name)))\"\n")
    done = podc_check(tmp_path, policy, manifest, timeout=20)
    assert done.returncode == 2, done.stderr
    assert "pol.yaml:4:" in done.stderr and "quadratic" in done.stderr and "Traceback" not in done.stderr
    done = podc_check(tmp_path, "policy: p\nrules:\n  - id: nested\n    cel: \"" + EIGHT_NESTED + "\"\n", manifest,
                      timeout=20)
    assert done.returncode == 2 and "policy.cel-cost" in done.stderr and "nested" in done.stderr


def test_error_past_column_65535_is_a_located_error_not_a_panic(tmp_path):
    long_string = "'" + "a" * 70_000 + "'"
    policy = f"policy: p\nrules:\n  - id: long\n    cel: \"{long_string} == object.spec.+++\"\n"
    done = podc_check(tmp_path, policy, "apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\n")
    assert done.returncode == 2, (done.returncode, done.stderr[-500:])
    assert "Traceback" not in done.stderr and "panic" not in done.stderr.lower()
    assert "policy.cel" in done.stderr and "at 1:70019" in done.stderr
    assert "pol.yaml:4:70029" in done.stderr  # the offending '+' in the file


def test_expression_longer_than_the_limit_is_a_located_error(tmp_path):
    _, policies, diags = rule_policy(tmp_path, "'" + "a" * 100_001 + "' == ''")
    assert policies == [] and "limit is 100,000" in diags.items[0].message


@pytest.mark.parametrize("expr, needle", [
    ("object.metadata.name.startWith('x')", "did you mean 'startsWith'"),
    ("podSpec.containers.all(c, c.name.size() > 0) && objekt.x", "unknown variable 'objekt'"),
    ("podSpec.containers.all(1, true)", "must be a variable name"),
    ("'x'.matches('(unclosed')", "invalid regular expression"),
    ("(" * 60 + "1" + ")" * 60 + " == 1", "nests more than"),
    ("1" + " + 1" * 200 + " > 0", "nests more than"),
])
def test_bad_expressions_are_located_load_errors(tmp_path, expr, needle):
    path, policies, diags = rule_policy(tmp_path, expr)
    assert policies == []
    assert any(needle in d.message for d in diags), [d.message for d in diags]
    assert all(d.pos.file == str(path) and d.pos.line >= line_of(path, "cel:") for d in diags)


def test_syntax_error_points_at_the_column_in_the_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text('policy: p\nrules:\n  - id: r\n    cel: "object.spec.backoffLimit >"\n')
    diags = Diagnostics()
    load_policy_files([str(path)], diags)
    (d,) = diags.items
    assert (d.pos.line, d.pos.col) == (4, 10 + len("object.spec.backoffLimit >") + 1)
