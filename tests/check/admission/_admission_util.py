"""Helpers for the admission tests: write policies and Jobs, check them in process."""

from __future__ import annotations

import copy
import json
import textwrap
from pathlib import Path

from podc.check.admission import load_admission
from podc.check.engine import CheckOptions, check_manifests
from podc.errors import Diagnostics

JOB = {
    "apiVersion": "batch/v1", "kind": "Job",
    "metadata": {"name": "etl", "namespace": "batch", "labels": {"team": "data"}},
    "spec": {"backoffLimit": 2, "activeDeadlineSeconds": 3600,
             "template": {"metadata": {"labels": {"team": "data"}},
                          "spec": {"restartPolicy": "Never",
                                   "containers": [{"name": "main", "image": "registry.corp/etl:1.2",
                                                   "resources": {"limits": {"memory": "512Mi", "cpu": "1"}}}]}}},
}


def job(**changes) -> dict:
    """A copy of JOB; keyword paths use '__' for nesting: spec__backoffLimit=9."""
    out = copy.deepcopy(JOB)
    for key, value in changes.items():
        parts = key.split("__")
        node = out
        for p in parts[:-1]:
            node = node[int(p)] if isinstance(node, list) else node.setdefault(p, {})
        if value is None:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = value
    return out


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def load(paths: list, *, ok: bool = True):
    diags = Diagnostics()
    checker = load_admission([str(p) for p in paths], diags)
    if ok:
        assert not diags.errors, [(d.code, d.message, str(d.pos)) for d in diags.errors]
    return checker, diags


def check(tmp_path: Path, policies: str | list, *manifests: dict, extra: str | None = None):
    """Check ``manifests`` (written as one YAML-as-JSON file) against ``policies`` (text or paths)."""
    if isinstance(policies, str):
        paths = [write(tmp_path, "admission.yaml", policies)]
    else:
        paths = list(policies)
    if extra:
        paths.append(write(tmp_path, "extra.yaml", extra))
    checker, diags = load(paths)
    target = tmp_path / "jobs.yaml"
    target.write_text("\n---\n".join(json.dumps(m, indent=2) for m in manifests) + "\n")
    opts = CheckOptions(pss=None, schema=False, admission=checker)
    return check_manifests([str(target)], opts, diags)


def admission_violations(result) -> list[tuple[str, str, str]]:
    """(policy, rule, severity) of every admission violation, in report order."""
    return [(v.policy, v.rule, v.severity) for v in result.violations() if v.policy.startswith("admission/")]


def messages(result) -> list[str]:
    return [v.message for v in result.violations() if v.policy.startswith("admission/")]


def policy(name: str, validations: str, *, resources: str = '["jobs"]', groups: str = '["batch"]',
           extra_spec: str = "", actions: str = "[Deny]", binding_spec: str = "") -> str:
    """A ValidatingAdmissionPolicy and one binding, as YAML text. ``validations`` is the YAML list body."""
    return f"""\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: {name}
spec:
  matchConstraints:
    resourceRules:
    - apiGroups: {groups}
      apiVersions: ["*"]
      operations: ["CREATE"]
      resources: {resources}
{textwrap.indent(textwrap.dedent(extra_spec), '  ') if extra_spec else ''}  validations:
{textwrap.indent(textwrap.dedent(validations), '  ')}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: {name}-binding
spec:
  policyName: {name}
  validationActions: {actions}
{textwrap.indent(textwrap.dedent(binding_spec), '  ') if binding_spec else ''}"""
