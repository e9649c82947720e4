"""`podc check` on plain manifests: locations, kinds, exit codes, --fail-on, --pss, --output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _checkutil import clean_job, container, line_of, run_cli, write_yaml

PRIVILEGED_YAML = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: risky
spec:
  backoffLimit: 1
  activeDeadlineSeconds: 600
  ttlSecondsAfterFinished: 600
  template:
    spec:
      restartPolicy: Never
      automountServiceAccountToken: false
      containers:
        - name: main
          image: registry.corp/etl:1.0@sha256:{digest}
          resources: {{requests: {{cpu: 100m}}, limits: {{memory: 64Mi}}}}
          securityContext:
            privileged: true
            readOnlyRootFilesystem: true
""".format(digest="b" * 64)


def report(*args, cwd):
    code, out, err = run_cli(*args, "--format", "json", cwd=cwd)
    return code, (json.loads(out) if out else None), err


def test_clean_manifest_exits_zero(tmp_path):
    write_yaml(tmp_path / "job.yaml", clean_job())
    code, data, err = report("job.yaml", cwd=tmp_path)
    assert code == 0, data
    assert data["documents"][0]["violations"] == []
    assert data["summary"]["failed"] is False


def test_violations_are_located_at_the_manifest_line(tmp_path):
    path = tmp_path / "risky.yaml"
    path.write_text(PRIVILEGED_YAML)
    code, data, _ = report("risky.yaml", cwd=tmp_path)
    assert code == 1
    vs = {(v["policy"], v["rule"]): v for v in data["documents"][0]["violations"]}
    priv = vs[("pod-security", "privileged")]
    assert priv["path"] == "/spec/template/spec/containers/0/securityContext/privileged"
    assert priv["source"] == {"file": "risky.yaml", "line": line_of(path, "privileged: true"), "column": 13}
    # an absent field points at the nearest ancestor that exists (the container's securityContext)
    ape = vs[("pod-security", "allowPrivilegeEscalation")]
    assert ape["source"]["line"] == line_of(path, "securityContext:")


def test_second_document_located_in_its_own_lines(tmp_path):
    job = clean_job("second")
    container(job)["image"] = "busybox"
    path = write_yaml(tmp_path / "multi.yaml", clean_job("first"), job)
    code, data, _ = report(str(path), cwd=tmp_path)
    assert code == 1
    first, second = data["documents"]
    assert (first["index"], first["name"], first["violations"]) == (0, "first", [])
    (v,) = second["violations"]
    assert v["rule"] == "image-tag" and v["source"]["line"] == line_of(path, '"image": "busybox"')


def test_json_input_is_supported(tmp_path):
    (tmp_path / "job.json").write_text(json.dumps(clean_job()))
    code, data, _ = report("job.json", cwd=tmp_path)
    assert code == 0 and data["documents"][0]["kind"] == "Job"


def test_kinds_without_pod_template_are_skipped_with_info(tmp_path):
    write_yaml(tmp_path / "all.yaml", clean_job(),
               {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}},
               {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "c"}})
    code, data, _ = report("all.yaml", cwd=tmp_path)
    assert code == 0
    assert len(data["documents"]) == 1
    skipped = [n for n in data["notices"] if n["code"] == "check.skipped-kind"]
    assert [n["severity"] for n in skipped] == ["info", "info"]


def test_typo_kind_is_a_located_error_with_suggestion(tmp_path):
    path = write_yaml(tmp_path / "typo.yaml", dict(clean_job(), kind="Jbo"))
    code, out, err = run_cli("typo.yaml", cwd=tmp_path)
    assert code == 2 and out == ""
    assert f"typo.yaml:{line_of(path, 'Jbo')}:" in err
    assert "unknown kind 'Jbo'" in err and "did you mean 'Job'?" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("content, fragment", [
    ("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: a\n   bad: [\nspec: {}\n", "invalid YAML"),
    ("a: 1\na: 2\n", "duplicate key"),
])
def test_bad_yaml_exits_2_with_position(tmp_path, content, fragment):
    (tmp_path / "bad.yaml").write_text(content)
    code, out, err = run_cli("bad.yaml", cwd=tmp_path)
    assert code == 2 and fragment in err and "bad.yaml:" in err and "Traceback" not in err


def test_missing_file_and_usage_errors_exit_2(tmp_path):
    code, _, err = run_cli("nope.yaml", cwd=tmp_path)
    assert code == 2 and "nope.yaml" in err and "not found" in err
    code, _, err = run_cli("--format", "xml", "x.yaml", cwd=tmp_path)
    assert code == 2 and "invalid choice" in err
    code, _, err = run_cli(cwd=tmp_path)  # no project in an empty folder
    assert code == 2 and "podc.yaml" in err
    write_yaml(tmp_path / "job.yaml", clean_job())
    code, _, err = run_cli("job.yaml", "--kubernetes-version", "1.2", cwd=tmp_path)
    assert code == 2 and "supported versions" in err
    code, _, err = run_cli("job.yaml", "--pss", "restrictd", cwd=tmp_path)
    assert code == 2 and "Traceback" not in err


def test_fail_on_levels(tmp_path):
    job = clean_job()
    container(job)["image"] = "registry.corp/etl:1.2.3"  # image-digest: info only
    job["spec"]["backoffLimit"] = 20                      # backoff-limit: warning
    write_yaml(tmp_path / "job.yaml", job)
    assert run_cli("job.yaml", cwd=tmp_path)[0] == 0
    assert run_cli("job.yaml", "--fail-on", "warning", cwd=tmp_path)[0] == 1
    job["spec"]["backoffLimit"] = 2
    write_yaml(tmp_path / "job.yaml", job)
    assert run_cli("job.yaml", "--fail-on", "warning", cwd=tmp_path)[0] == 0
    assert run_cli("job.yaml", "--fail-on", "info", cwd=tmp_path)[0] == 1


def test_pss_level_option(tmp_path):
    job = clean_job()
    sc = container(job)["securityContext"]
    del sc["runAsNonRoot"], sc["seccompProfile"]  # restricted-only requirements
    write_yaml(tmp_path / "job.yaml", job)
    code, data, _ = report("job.yaml", cwd=tmp_path)
    assert code == 1 and {v["rule"] for v in data["documents"][0]["violations"]} == {"runAsNonRoot",
                                                                                     "seccompProfile_restricted"}
    assert report("job.yaml", "--pss", "baseline", cwd=tmp_path)[0] == 0
    code, data, _ = report("job.yaml", "--pss", "none", cwd=tmp_path)
    assert code == 0 and data["summary"]["pss"] is None


def test_schema_errors_are_reported_at_their_line(tmp_path):
    job = clean_job()
    job["spec"]["template"]["spec"]["restartPolicy"] = "Sometimes"
    job["spec"]["bogusField"] = 1
    path = write_yaml(tmp_path / "job.yaml", job)
    code, data, _ = report("job.yaml", cwd=tmp_path)
    assert code == 1
    schema = [v for v in data["documents"][0]["violations"] if v["policy"] == "schema"]
    lines = {v["source"]["line"] for v in schema}
    assert line_of(path, '"bogusField"') in lines and line_of(path, '"Sometimes"') in lines


def test_custom_policy_via_cli_and_its_errors(tmp_path):
    write_yaml(tmp_path / "job.yaml", clean_job())
    (tmp_path / "pol.yaml").write_text(
        "policy: no-etl\nrules:\n  - id: name\n    message: no etl jobs\n    pattern: {metadata: {name: '!etl'}}\n")
    code, data, _ = report("job.yaml", "--policy", "pol.yaml", cwd=tmp_path)
    assert code == 1
    (v,) = data["documents"][0]["violations"]
    assert (v["policy"], v["rule"], v["path"]) == ("no-etl", "name", "/metadata/name")
    (tmp_path / "bad.yaml").write_text("policy: p\nrules:\n  - id: r\n    cel: \"1 +\"\n")
    code, out, err = run_cli("job.yaml", "--policy", "bad.yaml", cwd=tmp_path)
    assert code == 2 and "bad.yaml:4:" in err and out == ""


def test_output_file_is_written_and_stdout_stays_empty(tmp_path):
    write_yaml(tmp_path / "job.yaml", clean_job())
    code, out, _ = run_cli("job.yaml", "--format", "json", "--output", "report.json", cwd=tmp_path)
    assert code == 0 and out == ""
    assert json.loads((tmp_path / "report.json").read_text())["version"] == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".podc-check-")] == []


def test_directory_argument_checks_every_manifest(tmp_path):
    write_yaml(tmp_path / "k8s" / "a.yaml", clean_job("a"))
    bad = clean_job("b")
    container(bad)["image"] = "busybox"
    write_yaml(tmp_path / "k8s" / "sub" / "b.yml", bad)
    code, data, _ = report("k8s", cwd=tmp_path)
    assert code == 1
    assert [(d["file"], d["name"]) for d in data["documents"]] == [("k8s/a.yaml", "a"), ("k8s/sub/b.yml", "b")]


def test_text_report_groups_by_file_and_has_no_colour_when_not_a_tty(tmp_path):
    path = tmp_path / "risky.yaml"
    path.write_text(PRIVILEGED_YAML)
    code, out, _ = run_cli("risky.yaml", cwd=tmp_path)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "risky.yaml"
    assert any(f"{line_of(path, 'privileged: true')}:13  error" in l and "pod-security/privileged" in l for l in lines)
    assert "\x1b[" not in out
    assert "FAILED" in lines[-1]


def _big_manifest(n: int) -> tuple[str, list[tuple[int, int, int]]]:
    """n Jobs in one file, every 5th privileged, in the shapes people write (block style,
    kubectl's indentless lists, a flow mapping, an anchor read the full way, a literal script).
    Returns the text and, for each privileged Job, (document index, line, column) of the
    `privileged` key found by scanning the text itself."""
    docs, expected = [], []
    for i in range(n):
        privileged = "true" if i % 5 == 0 else "false"
        if i % 50 == 10:     # flow style securityContext
            sc = f"        securityContext: {{readOnlyRootFilesystem: true, privileged: {privileged}}}\n"
        else:
            sc = f"        securityContext:\n          readOnlyRootFilesystem: true\n          privileged: {privileged}\n"
        anchor = " &img" if i % 50 == 35 else ""
        docs.append(
            f"# job {i}\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: job-{i}\nspec:\n"
            "  backoffLimit: 1\n  activeDeadlineSeconds: 600\n  ttlSecondsAfterFinished: 600\n"
            "  template:\n    spec:\n      restartPolicy: Never\n      automountServiceAccountToken: false\n"
            "      containers:\n      - name: main\n"
            f"        image:{anchor} registry.corp/etl:1.0@sha256:{'b' * 64}\n"
            "        command:\n        - sh\n        - -c\n        - |\n          echo 'a: b'\n          exit 0\n"
            "        resources:\n          requests: {cpu: 100m}\n          limits:\n            memory: 64Mi\n"
            + sc)
    text = "---\n".join(docs)
    lines = text.split("\n")
    doc_index = -1
    for number, line in enumerate(lines, 1):
        if line.startswith("# job "):
            doc_index += 1
        col = line.find("privileged: true")
        if col >= 0:
            expected.append((doc_index, number, col + 1))
    return text, expected


def test_violations_in_a_large_multi_document_file_are_located_exactly(tmp_path):
    text, expected = _big_manifest(400)
    path = tmp_path / "jobs.yaml"
    path.write_text(text)
    code, data, _ = report("jobs.yaml", cwd=tmp_path)
    assert code == 1 and data["summary"]["documents"] == 400
    found = []
    for doc in data["documents"]:
        for v in doc["violations"]:
            if (v["policy"], v["rule"]) == ("pod-security", "privileged"):
                assert v["path"] == "/spec/template/spec/containers/0/securityContext/privileged"
                found.append((doc["index"], v["source"]["line"], v["source"]["column"]))
                assert v["source"]["file"] == "jobs.yaml"
    assert found == expected and len(found) == 80
    # the shapes that are not read the fast way (flow mapping, anchor) are in the list too
    assert {i % 50 for i, _, _ in found} >= {10, 35}
    # and every other finding of the whole file agrees with the full positioned loader
    from podc.check.documents import node_locator
    from podc.source import load_file

    roots = load_file(path)
    for doc in data["documents"]:
        locate = node_locator(roots[doc["index"]])
        for v in doc["violations"]:
            pos, _ = locate(v["path"])
            assert (v["source"]["line"], v["source"]["column"]) == (pos.line, pos.col), v


def test_empty_documents_are_skipped_like_kubectl_does(tmp_path):
    path = tmp_path / "helm.yaml"
    path.write_text("---\n" + PRIVILEGED_YAML + "---\n# Source: chart/templates/empty.yaml\n---\n")
    code, data, err = report("helm.yaml", cwd=tmp_path)
    assert code == 1 and len(data["documents"]) == 1 and "not-an-object" not in err
    priv = [v for v in data["documents"][0]["violations"] if v["rule"] == "privileged"]
    assert priv[0]["source"]["line"] == 1 + PRIVILEGED_YAML.splitlines().index("            privileged: true") + 1
