"""``podc submit`` input handling: bad files and usage exit 2 with positions, no traceback."""

from __future__ import annotations

import subprocess
import sys

from podc.cli.submit import load_manifests, run_submit


def _run(tmp_path, *argv):
    return run_submit([str(a) for a in argv])


def test_yaml_error_has_file_line_col(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: batch/v1\nkind: Job\nmetadata: {name: [x\n")
    assert _run(tmp_path, bad, "--kubeconfig", tmp_path / "none") == 2
    err = capsys.readouterr().err
    # the same reader, codes and positions as podc compile and podc check
    assert "bad.yaml:4:1" in err and "yaml.syntax" in err and "Traceback" not in err


def test_not_a_job_and_duplicates_reported_together(tmp_path, capsys):
    f = tmp_path / "jobs.yaml"
    f.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n---\n"
                 "apiVersion: batch/v1\nkind: Job\nmetadata: {name: a}\n---\n"
                 "apiVersion: batch/v1\nkind: Job\nmetadata: {name: a}\n")
    assert _run(tmp_path, f) == 2
    err = capsys.readouterr().err
    assert "submit.not-a-job" in err and "submit.duplicate" in err
    assert "jobs.yaml:9:1" in err  # the second `a` starts on line 9


def test_missing_file_and_usage(tmp_path, capsys):
    assert _run(tmp_path, tmp_path / "nope.yaml") == 2
    assert "nope.yaml: error[input.missing-file]: file not found" in capsys.readouterr().err
    assert run_submit([]) == 2
    assert run_submit(["x.yaml", "--timeout", "soon"]) == 2


def test_json_and_list_documents_load(tmp_path):
    f = tmp_path / "jobs.json"
    f.write_text('{"apiVersion": "v1", "kind": "List", "items": ['
                 '{"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "a"}},'
                 '{"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "b"}}]}')
    docs = load_manifests([str(f)])
    assert [d["metadata"]["name"] for _, d in docs] == ["a", "b"]
    assert type(docs[0][1]["metadata"]) is dict


def test_missing_kubeconfig_is_a_usage_error(tmp_path, capsys):
    f = tmp_path / "job.yaml"
    f.write_text("apiVersion: batch/v1\nkind: Job\nmetadata: {name: a, namespace: x}\n")
    assert _run(tmp_path, f, "--kubeconfig", tmp_path / "missing-kubeconfig") == 2
    err = capsys.readouterr().err
    assert "kubeconfig file not found" in err and "Traceback" not in err


def test_imports_stay_light():
    code = ("import sys, podc, podc.cli.submit; a = 'kubernetes' in sys.modules; "
            "b = 'podc.runtime' in sys.modules; import podc.runtime; "
            "print(a, b, 'kubernetes' in sys.modules, 'ruamel.yaml' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # podc and the submit command module load neither the runtime nor kubernetes; even
    # podc.runtime defers kubernetes until connect() builds a client.
    assert out.stdout.split() == ["False", "False", "False", "False"]


def test_add_parser_registers_a_submit_subcommand(tmp_path, capsys):
    import argparse

    from podc.cli.submit import add_parser

    root = argparse.ArgumentParser(prog="podc")
    add_parser(root.add_subparsers(dest="command"))
    args = root.parse_args(["submit", str(tmp_path / "missing.yaml"), "--wait", "-n", "ns"])
    assert args.wait and args.namespace == "ns"
    assert args.handler(args) == 2
    assert "file not found" in capsys.readouterr().err


def test_a_3000_deep_document_is_a_located_error_not_a_recursion_error(tmp_path, capsys):
    depth = 3000
    deep = tmp_path / "deep.yaml"
    deep.write_text("apiVersion: batch/v1\nkind: Job\nmetadata: {name: deep}\nspec:\n"
                    + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(depth)) + "  " * (depth + 1) + "v\n")
    assert _run(tmp_path, deep, "--kubeconfig", tmp_path / "none") == 2
    err = capsys.readouterr().err
    assert "deep.yaml:" in err and "nesting deeper than 100 levels" in err
    assert "RecursionError" not in err and "Traceback" not in err
