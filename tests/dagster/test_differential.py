"""Differential test: the step Job podc builds vs the one dagster-k8s's own code builds, for
hundreds of generated configurations (executor config, K8sRunLauncher, code-location
container_context, op and run tags, with overlapping levels, snake_case and camelCase, DEEP and
SHALLOW) and hand-written realistic ones. After the normalisations listed in
``deliberate_differences.yaml`` the two Jobs must be equal, field by field; any other difference
fails with the configuration that produced it.

Cases where dagster-k8s builds a Job the Kubernetes API server would reject (a volume mount
naming no volume, two volumes of one name…) must be refused by podc before submission
(difference ``refuses-invalid-jobs``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("dagster_k8s")

from k8s_generate import HOST_ENV, Case, generate  # noqa: E402
from k8s_normalize import NORMALIZERS, diff, invalid_reasons, normalized  # noqa: E402
from k8s_reference import dagster_k8s_job, dumps, podc_job  # noqa: E402

from podc.errors import PodcError  # noqa: E402

CASES = int(os.environ.get("PODC_DIFF_CASES", "300"))
SEED = int(os.environ.get("PODC_DIFF_SEED", "20261"))
DELIBERATE = Path(__file__).with_name("deliberate_differences.yaml")
REFUSED = "refuses-invalid-jobs"


def _deliberate() -> list[dict]:
    from podc.source import load_file
    from podc.tree import to_plain

    return to_plain(load_file(DELIBERATE)[0])["differences"]


def test_deliberate_differences_file_matches_the_normalisations():
    entries = _deliberate()
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids))
    for entry in entries:
        assert set(entry) >= {"id", "description", "example"}, entry
        assert entry["description"].strip() and entry["example"]
    kinds = {e["id"]: e.get("kind") for e in entries}
    assert {i for i, k in kinds.items() if k == "normalised"} == set(NORMALIZERS)
    assert {i for i, k in kinds.items() if k == "refused"} == {REFUSED, "image-without-job-image"}
    assert set(kinds.values()) <= {"normalised", "refused", "documented"}


def _compare(case: Case, monkeypatch) -> list[str]:
    """Problems (empty when podc agrees with dagster-k8s up to the deliberate differences)."""
    try:
        reference = dagster_k8s_job(case, monkeypatch)
    except Exception as exc:  # noqa: BLE001 - dagster-k8s refuses the configuration
        try:
            manifest = podc_job(case)[0]
        except PodcError:
            return []
        containers = manifest["spec"]["template"]["spec"]["containers"]
        if str(exc).startswith("No image included") and all(c.get("image") for c in containers):
            return []  # image-without-job-image
        return [f"dagster-k8s refuses ({type(exc).__name__}: {exc}) but podc builds a Job"]
    try:
        manifest, provenance, _warnings, namespace = podc_job(case)
    except PodcError as err:
        invalid = invalid_reasons(reference)
        if invalid:
            return []  # refuses-invalid-jobs: dagster-k8s would submit a Job the API rejects
        return [f"podc refused a Job dagster-k8s builds validly: {err}"]
    invalid = invalid_reasons(reference)
    if invalid and not invalid_reasons(manifest) and "duplicate" not in " ".join(invalid) \
            and "two volume mounts" not in " ".join(invalid):
        return [f"dagster-k8s's Job is invalid ({invalid}) but podc built one"]
    problems = []
    ref_ns = reference["metadata"].pop("namespace", None)
    podc_ns = manifest.get("metadata", {}).get("namespace") or namespace or "default"
    if ref_ns != podc_ns:
        problems.append(f"namespace: dagster-k8s {ref_ns!r}, podc {podc_ns!r}")
    manifest = {k: v for k, v in manifest.items()}
    manifest["metadata"] = {k: v for k, v in manifest["metadata"].items() if k != "namespace"}
    ref, podc = normalized(reference, manifest, provenance)
    for path, a, b in diff(ref, podc):
        problems.append(f"{path}: dagster-k8s {a!r} != podc {b!r}")
    return problems


@pytest.fixture
def host_env(monkeypatch):
    for k, v in HOST_ENV.items():
        monkeypatch.setenv(k, v)


def test_generated_configurations_agree_with_dagster_k8s(monkeypatch, host_env):
    failures = []
    for i in range(CASES):
        case = generate(SEED + i)
        problems = _compare(case, monkeypatch)
        if problems:
            failures.append(f"case seed={case.seed}:\n  " + "\n  ".join(problems[:12])
                            + f"\nconfig:\n{case.describe()}")
        if len(failures) >= 3:
            break
    assert not failures, "\n\n".join(failures)


def _hand(executor=None, launcher=None, container_context=None, op_tags=None, op_name="train"):
    import json

    tags = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (op_tags or {}).items()}
    return Case(0, executor or {}, launcher or {}, container_context, tags, {}, op_name=op_name)


DB_ENV = [{"name": "DB_PASSWORD", "value_from": {"secret_key_ref": {"name": "db", "key": "password"}}},
          {"name": "DATABASE_URL", "value": "postgresql://etl:$(DB_PASSWORD)@db:5432/etl"}]
HAND_WRITTEN = {
    # env order kept: the reference after the secretKeyRef it names resolves
    "env-order": _hand({"job_image": "etl:1", "env_vars": ["LOG_LEVEL=info"],
                        "step_k8s_config": {"container_config": {"env": DB_ENV}}}),
    # job_metadata goes to the Job only (a Kueue queue label must not reach the Pod)
    "kueue-job-label": _hand({"job_image": "etl:1", "labels": {"team": "data"}},
                             op_tags={"dagster-k8s/config": {"job_metadata": {"labels": {
                                 "kueue.x-k8s.io/queue-name": "batch"}}}}),
    # SHALLOW on the op tag replaces the executor's env and tolerations whole
    "shallow-tag": _hand({"job_image": "etl:1", "env_vars": ["A=1", "B=2"],
                          "step_k8s_config": {"pod_spec_config": {"tolerations": [
                              {"key": "spot", "operator": "Exists"}]}}},
                         op_tags={"dagster-k8s/config": {
                             "container_config": {"env": [{"name": "C", "value": "3"}]},
                             "pod_spec_config": {"tolerations": [{"key": "gpu", "operator": "Exists"}]},
                             "merge_behavior": "SHALLOW"}}),
    # the legacy tag replaces the config tag's resources, as in dagster-k8s
    "legacy-resources-tag": _hand({"job_image": "etl:1", "resources": {"limits": {"cpu": "1"}}},
                                  op_tags={"dagster-k8s/config": {"container_config": {"resources": {
                                      "requests": {"memory": "1Gi"}}}},
                                      "dagster-k8s/resource_requirements": {"limits": {"memory": "2Gi"}}}),
    # an item identical to one a lower level set is dropped by dagster-k8s: MODE ends as prod
    "identical-item-dedupe": _hand({"job_image": "etl:1", "env_vars": ["MODE=dev"],
                                    "per_step_k8s_config": {"train": {"container_config": {"env": [
                                        {"name": "MODE", "value": "dev"}]}}}},
                                   op_tags={"dagster-k8s/config": {"container_config": {"env": [
                                       {"name": "MODE", "value": "prod"}]}}}),
    # container renamed: references to its old name follow it to `main`
    "renamed-container": _hand({"job_image": "etl:1"}, op_tags={"dagster-k8s/config": {"container_config": {
        "name": "worker", "env": [{"name": "MEM", "value_from": {"resource_field_ref": {
            "container_name": "worker", "resource": "limits.memory"}}}],
        "resources": {"limits": {"memory": "1Gi"}}}}}),
    # finalizers and owner references on the Job are honoured
    "job-metadata-kept": _hand({"job_image": "etl:1", "step_k8s_config": {"job_metadata": {
        "finalizers": ["example.com/audit"], "annotations": {"team": "data"},
        "owner_references": [{"api_version": "v1", "kind": "ConfigMap", "name": "owner", "uid": "u-1"}]}}}),
    # K8sRunLauncher + code location + executor + tag, as a Helm deployment has them
    "helm-deployment": _hand(
        {"env_vars": ["EXECUTOR=1", "DAGSTER_CLOUD_DEPLOYMENT_NAME=prod"], "job_namespace": "etl",
         "step_k8s_config": {"pod_spec_config": {"node_selector": {"pool": "batch"}}}},
        launcher={"image_pull_policy": "IfNotPresent", "service_account_name": "dagster",
                  "env_config_maps": ["dagster-env"], "env_secrets": ["dagster-secrets"],
                  "labels": {"app": "dagster"}, "job_namespace": "dagster"},
        container_context={"env_vars": ["SHARED=1"], "k8s": {
            "image_pull_policy": "Always", "namespace": "team-a", "resources": {"limits": {"memory": "2Gi"}},
            "volumes": [{"name": "cache", "empty_dir": {}}],
            "volume_mounts": [{"name": "cache", "mount_path": "/cache"}]}},
        op_tags={"dagster-k8s/config": {"container_config": {"resources": {"limits": {"cpu": "2"}}}}}),
}


@pytest.mark.parametrize("name", sorted(HAND_WRITTEN))
def test_hand_written_configurations_agree_with_dagster_k8s(name, monkeypatch):
    case = HAND_WRITTEN[name]
    assert _compare(case, monkeypatch) == [], case.describe()
    manifest = podc_job(case)[0]
    pod = manifest["spec"]["template"]["spec"]
    main = pod["containers"][0]
    env = {e["name"]: e for e in main.get("env") or []}
    names = [e["name"] for e in main.get("env") or []]
    if name == "env-order":
        assert names.index("DB_PASSWORD") < names.index("DATABASE_URL")
    elif name == "kueue-job-label":
        assert manifest["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "batch"
        assert "kueue.x-k8s.io/queue-name" not in manifest["spec"]["template"]["metadata"]["labels"]
    elif name == "shallow-tag":
        assert "A" not in env and "B" not in env and env["C"]["value"] == "3"
        assert [t["key"] for t in pod["tolerations"]] == ["gpu"]
    elif name == "legacy-resources-tag":
        assert main["resources"] == {"limits": {"cpu": "1", "memory": "2Gi"}}
    elif name == "identical-item-dedupe":
        assert env["MODE"]["value"] == "prod" and names.count("MODE") == 1
    elif name == "renamed-container":
        assert main["name"] == "main"
        assert env["MEM"]["valueFrom"]["resourceFieldRef"]["containerName"] == "main"
    elif name == "job-metadata-kept":
        assert manifest["metadata"]["finalizers"] == ["example.com/audit"]
        assert manifest["metadata"]["ownerReferences"][0]["name"] == "owner"
        assert "team" not in (manifest["spec"]["template"]["metadata"].get("annotations") or {})
    elif name == "helm-deployment":
        assert main["imagePullPolicy"] == "Always" and main["image"] == "loc/image:1"
        assert main["resources"]["limits"] == {"memory": "2Gi", "cpu": "2"}
        assert pod["serviceAccountName"] == "dagster"
        assert manifest["metadata"]["labels"]["dagster/deployment-name"] == "prod"
