"""Benchmark `podc check`: prints figures, asserts nothing.

    .venv/bin/python bench/bench_check.py [--jobs 2000]

1. In-process throughput of schema + PSS restricted + best practices on N generated Jobs
   (a mix of clean and violating), documents already parsed (target >= 5,000 Jobs/s), with the
   cost of each part measured alone.
2. Reading alone: plain data with lazy positions (what `podc check` uses) vs positioned trees.
3. The CLI's wall and CPU time on one N-document YAML file, parse included (target < 1 s), with
   the load average (other work on the machine inflates wall time).
4. When installed, kubernetes-validate on the same Jobs: its validate() API, and one reused
   jsonschema validator built from its bundled schema.
5. Custom-policy CEL cost per object: podc's CEL, and common-expression-language / cel-python
   when installed.
6. Offline ValidatingAdmissionPolicy evaluation: Jobs/s through 20 admission policies (half on
   jobs, half on the Pods the Job controller creates; variables, params, messageExpressions),
   alone and together with the built-in packs.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def make_jobs(n: int, seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    jobs = []
    for i in range(n):
        c = {
            "name": "main",
            "image": f"registry.corp/team{i % 7}/etl:{1 + i % 5}.{i % 10}.0@sha256:{i:064x}",
            "command": ["python", "-m", "etl.run"],
            "args": ["--date", "2026-11-24", "--shard", str(i)],
            "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "SHARD", "value": str(i)},
                    {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}],
            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
            "volumeMounts": [{"name": "scratch", "mountPath": "/tmp"}],
            "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]}},
        }
        job = {
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": f"etl-{i:05d}", "namespace": "batch",
                         "labels": {"team": f"team{i % 7}", "app.kubernetes.io/name": "etl"}},
            "spec": {
                "backoffLimit": 2, "activeDeadlineSeconds": 7200, "ttlSecondsAfterFinished": 86400,
                "template": {
                    "metadata": {"labels": {"team": f"team{i % 7}"}},
                    "spec": {"restartPolicy": "Never", "automountServiceAccountToken": False,
                             "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                             "containers": [c], "volumes": [{"name": "scratch", "emptyDir": {}}]},
                },
            },
        }
        kind = rnd.random()
        if kind < 0.15:
            c["securityContext"]["privileged"] = True
        elif kind < 0.3:
            c["image"] = "busybox:latest"
        elif kind < 0.4:
            c["env"].append({"name": "API_TOKEN", "value": "literal"})
        elif kind < 0.5:
            del c["resources"]["limits"]
        elif kind < 0.55:
            job["spec"]["template"]["spec"]["hostNetwork"] = True
        elif kind < 0.6:
            job["spec"]["template"]["spec"]["restartPolicy"] = "Always"  # schema/API error for a Job
        jobs.append(job)
    return jobs


def block_yaml(jobs: list[dict]) -> str:
    """The Jobs as one block-style multi-document YAML file (what kubectl and humans write)."""
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=False)
    yaml.default_flow_style = False
    buf = io.StringIO()
    yaml.dump_all(jobs, buf)
    return buf.getvalue()


def documents(jobs: list[dict]):
    from podc.check.documents import load_manifest_documents
    from podc.errors import Diagnostics

    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(block_yaml(jobs))
    try:
        return load_manifest_documents([f.name], Diagnostics())
    finally:
        os.unlink(f.name)


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>9,.0f} Jobs/s  ({seconds * 1e6 / n:7.1f} us/Job)"


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def cpu_timed(fn, repeat: int = 3) -> float:
    """Best process CPU time: on a shared, loaded machine wall time mostly measures the others."""
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def bench_in_process(jobs: list[dict]) -> None:
    from podc.check import practices
    from podc.check.engine import CheckOptions, check_documents
    from podc.check.pss import evaluate_pod
    from podc.check.documents import pod_parts
    from podc.check.schema import validator_for

    docs = documents(jobs)
    n = len(docs)
    check_documents(docs, CheckOptions())  # warm caches (schema predicates, pack)
    total = timed(lambda: check_documents(docs, CheckOptions()))
    result = check_documents(docs, CheckOptions())
    bad = sum(1 for d in result.documents if d.violations)
    print(f"in-process, {n} Jobs ({bad} with violations, {len(result.violations())} violations)")
    print(f"  schema + PSS restricted + best practices + locate: {rate(n, total)}   target >= 5,000 Jobs/s")
    print(f"    … by CPU time:                                  "
          f"{rate(n, cpu_timed(lambda: check_documents(docs, CheckOptions())))}")
    v = validator_for("1.37")
    print(f"    schema (podc.check.schema, other helper):   {rate(n, timed(lambda: [v.validate(d.manifest) for d in docs]))}")
    parts = [pod_parts(d) for d in docs]
    print(f"    PSS restricted (podc.check.pss, other):     "
          f"{rate(n, timed(lambda: [evaluate_pod(m, s, 'restricted', 'latest') for _, m, s in parts]))}")
    print(f"    best practices (podc.check.practices):      {rate(n, timed(lambda: [practices.evaluate(d) for d in docs]))}")


def bench_parse(jobs: list[dict]) -> None:
    """The reading alone: the fast reader (plain data, lazy positions) vs the full positioned loader."""
    from podc import source
    from podc.source import reader
    from podc.source.documents import load_documents

    text = block_yaml(jobs)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(text)
    try:
        n = len(jobs)
        fast = timed(lambda: load_documents(f.name), 3)
        trees = timed(lambda: source.load_text(text, f.name), 1)
        full = timed(lambda: reader._load_slow(text, f.name, reader._Builder(f.name, f.name, reader.DEFAULT_LIMITS)), 1)
    finally:
        os.unlink(f.name)
    print(f"  read only, plain data + lazy positions (podc check): {rate(n, fast)}")
    print(f"  read only, positioned trees via the fast reader (load_text): {rate(n, trees)}")
    print(f"  read only, positioned trees via ruamel's composer (the full loader): {rate(n, full)}")


def bench_cli(jobs: list[dict]) -> None:
    import resource

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "jobs.yaml"
        path.write_text(block_yaml(jobs))
        cmd = [sys.executable, "-m", "podc.cli.check", str(path), "--format", "json", "--output", str(Path(tmp) / "r.json")]
        walls, cpus = [], []
        for _ in range(5):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run(cmd, check=False, capture_output=True)
            walls.append(time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import podc.cli.check"], check=True)
        start = time.perf_counter() - t
        size = path.stat().st_size / 1e6
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"CLI, one {len(jobs)}-document file ({size:.1f} MB): best {min(walls):.2f} s, "
              f"median {sorted(walls)[2]:.2f} s wall (CPU best {min(cpus):.2f} s)   target < 1 s  "
              f"(interpreter start + import {start:.2f} s; load average {load:.1f} on {os.cpu_count()} CPUs)")


def bench_kubernetes_validate(jobs: list[dict]) -> None:
    try:
        import kubernetes_validate
        from kubernetes_validate import utils as kv
    except ImportError:
        print("kubernetes-validate: not installed (pip install kubernetes-validate to compare)")
        return
    version = "1.33.0"
    sample = jobs[:200]
    t = time.perf_counter()
    for j in sample:
        try:
            kubernetes_validate.validate(j, version, strict=True)
        except kubernetes_validate.ValidationError:
            pass
    api = time.perf_counter() - t
    print(f"kubernetes-validate validate() (reloads its schema per call), {len(sample)} Jobs: {rate(len(sample), api)}")
    import jsonschema
    from referencing import Registry, Resource

    # The same schema and registry validate() builds, built once and reused.
    folder = "kubernetes-json-schema/v1.33.0-local-strict"
    schema = kv.schema_contents(f"{folder}/job-batch-v1.json", version)
    defs = kv.schema_contents(f"{folder}/_definitions.json", version)
    registry = Resource.from_contents(defs) @ (Resource.from_contents(schema) @ Registry())
    validator = jsonschema.validators.Draft202012Validator(schema, registry=registry)
    t = time.perf_counter()
    invalid = sum(1 for j in jobs if next(validator.iter_errors(j), None) is not None)
    reused = time.perf_counter() - t
    print(f"kubernetes-validate schema, one reused validator, {len(jobs)} Jobs ({invalid} invalid): {rate(len(jobs), reused)}"
          "  (schema only: no names/labels/quantities, no PSS, no best practices)")


def bench_cel(jobs: list[dict]) -> None:
    from podc.check.cel import compile_program

    expr = "object.spec.backoffLimit <= params.max && object.spec.template.spec.containers.all(c, c.image.startsWith('registry.corp/'))"
    params = {"max": 3}
    sample = jobs[:500]
    ours = compile_program(expr)
    t = time.perf_counter()
    for j in sample:
        ours.run({"object": j, "params": params})
    print(f"CEL (podc.check.cel) compile once, run per Job: {(time.perf_counter() - t) / len(sample) * 1e6:.0f} us/Job")
    try:
        import cel
    except ImportError:
        print("CEL (common-expression-language): not installed; not compared")
        return
    program = cel.compile(expr)
    t = time.perf_counter()
    for j in sample:
        program.execute({"object": j, "params": params})
    per = (time.perf_counter() - t) / len(sample)
    print(f"CEL (common-expression-language {getattr(cel, '__version__', '')}) compile once, run per Job: "
          f"{per * 1e6:.0f} us/Job")
    try:
        import celpy  # cel-python
    except ImportError:
        print("CEL (cel-python): not installed; not compared")
        return
    env = celpy.Environment()
    prog = env.program(env.compile(expr))
    t = time.perf_counter()
    for j in sample[:100]:
        prog.evaluate({"object": celpy.json_to_cel(j), "params": celpy.json_to_cel(params)})
    print(f"CEL (cel-python) per Job: {(time.perf_counter() - t) / 100 * 1e6:.0f} us/Job")


ADMISSION_VALIDATIONS = [
    # (resource, validation expression, extra spec YAML)
    ("jobs", "object.spec.backoffLimit <= 6", ""),
    ("jobs", "has(object.spec.activeDeadlineSeconds) && object.spec.activeDeadlineSeconds <= 86400", ""),
    ("jobs", "!has(object.spec.ttlSecondsAfterFinished) || object.spec.ttlSecondsAfterFinished <= 604800", ""),
    ("jobs", "'team' in object.metadata.labels", ""),
    ("jobs", "object.metadata.name.matches('^[a-z0-9-]+$')", ""),
    ("jobs", "variables.images.all(i, i.startsWith('registry.corp/'))",
     "variables:\n  - name: images\n    expression: object.spec.template.spec.containers.map(c, c.image)\n"),
    ("jobs", "object.spec.parallelism <= int(params.data.maxParallelism)", "paramKind: {apiVersion: v1, kind: ConfigMap}\n"),
    ("jobs", "object.spec.template.spec.restartPolicy in ['Never', 'OnFailure']", ""),
    ("jobs", "object.spec.?completions.orValue(1) <= 100", ""),
    ("jobs", "namespaceObject.metadata.name == object.metadata.namespace", ""),
    ("pods", "!object.spec.containers.exists(c, has(c.securityContext) && has(c.securityContext.privileged) && "
             "c.securityContext.privileged == true)", ""),
    ("pods", "object.spec.containers.all(c, has(c.resources.limits) && has(c.resources.limits.memory))", ""),
    ("pods", "object.spec.containers.all(c, !has(c.resources.limits.memory) || "
             "quantity(c.resources.limits.memory).isLessThan(quantity('64Gi')))", ""),
    ("pods", "object.spec.containers.all(c, c.imagePullPolicy != 'Never')", ""),
    ("pods", "!has(object.spec.hostNetwork) || object.spec.hostNetwork == false", ""),
    ("pods", "object.spec.containers.all(c, !c.image.endsWith(':latest'))", ""),
    ("pods", "object.metadata.labels['batch.kubernetes.io/job-name'].size() > 0", ""),
    ("pods", "object.spec.containers.all(c, !has(c.env) || c.env.all(e, !e.name.contains('PASSWORD') || "
             "has(e.valueFrom)))", ""),
    ("pods", "object.spec.?securityContext.?runAsNonRoot.orValue(false) == true", ""),
    ("pods", "object.spec.containers.all(c, c.name.size() <= 63)", ""),
]


def admission_files(folder: Path) -> None:
    """20 ValidatingAdmissionPolicies + bindings, a ConfigMap param and the batch Namespace."""
    docs = []
    for i, (resource, expr, extra) in enumerate(ADMISSION_VALIDATIONS):
        group = "batch" if resource == "jobs" else ""
        docs.append(f"""apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: p{i:02d}}}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - {{apiGroups: ["{group}"], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [{resource}]}}
  {extra.replace(chr(10), chr(10) + "  ").rstrip() + chr(10) + "  " if extra else ""}validations:
  - expression: "{expr}"
    messageExpression: "'policy p{i:02d} failed for ' + object.metadata.name"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: p{i:02d}}}
spec:
  policyName: p{i:02d}
  validationActions: [{"Deny" if i % 3 else "Warn"}]
  {"paramRef: {name: limits, parameterNotFoundAction: Deny}" if "params" in expr else ""}
""")
    docs.append("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: limits, namespace: batch}\n"
                "data: {maxParallelism: '10'}\n")
    docs.append("apiVersion: v1\nkind: Namespace\nmetadata: {name: batch, labels: {environment: prod}}\n")
    (folder / "policies.yaml").write_text("---\n".join(docs))


def bench_admission(jobs: list[dict]) -> None:
    from podc.check.admission import load_admission
    from podc.check.engine import CheckOptions, check_documents
    from podc.errors import Diagnostics

    docs = documents(jobs)
    n = len(docs)
    with tempfile.TemporaryDirectory() as tmp:
        admission_files(Path(tmp))
        diags = Diagnostics()
        checker = load_admission([tmp], diags)
        assert not diags.errors, [d.message for d in diags.errors]
    alone = timed(lambda: [checker.evaluate(d) for d in docs])
    found = sum(len(checker.evaluate(d)) for d in docs)
    print(f"admission, {len(checker.policies)} ValidatingAdmissionPolicies on {n} Jobs ({found} violations): "
          f"{rate(n, alone)}  (CPU time: {rate(n, cpu_timed(lambda: [checker.evaluate(d) for d in docs]))})")
    total = timed(lambda: check_documents(docs, CheckOptions(admission=checker)))
    cpu = cpu_timed(lambda: check_documents(docs, CheckOptions(admission=checker)))
    print(f"  schema + PSS restricted + best practices + 20 admission policies + locate: {rate(n, total)}"
          f"  (CPU time: {rate(n, cpu)})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2000)
    args = ap.parse_args()
    jobs = make_jobs(args.jobs)
    bench_in_process(jobs)
    bench_admission(jobs)
    bench_parse(jobs)
    bench_cli(jobs)
    bench_kubernetes_validate(jobs)
    bench_cel(jobs)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "compiler"))
    main()
