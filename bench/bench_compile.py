"""Compile benchmark: podc vs ``kubectl kustomize`` on equivalent layered Jobs. Prints figures.

For N Jobs, each = base + team + environment + job layer:

* base: one toleration, two env vars (plus the same secure defaults podc applies);
* team: one more toleration and env var;
* environment: two volumes with mounts, an env var and a toleration;
* job: pod and container securityContext, resources, image.

The kustomize tree is one kustomization with N job overlays; each overlay uses the base and the
team/env components (their tolerations repeat the earlier ones, because strategic merge replaces
toleration lists). Cold processes (a fresh one each run) with bytecode and podc's data cache warm
(one untimed run of each tool first); the MEDIAN of ``--repeat`` runs is shown, wall and CPU
(user+sys of the child, the steadier figure on a shared machine). The ratio and its target are
for ``podc compile`` as pre-commit runs it, policies on; ``--no-policy`` is shown alongside.

    .venv/bin/python bench/bench_compile.py [--sizes 1,200,1000] [--repeat 5] [--no-precompile]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOL_BASE = {"key": "dedicated", "operator": "Equal", "value": "batch", "effect": "NoSchedule"}
TOL_TEAM = {"key": "team", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}
TOL_ENV = {"key": "pool", "operator": "Equal", "value": "prod", "effect": "NoSchedule"}


def _tol_yaml(tols: list[dict], indent: str) -> str:
    out = []
    for t in tols:
        out.append(f"{indent}- key: {t['key']}\n{indent}  operator: {t['operator']}\n"
                   f"{indent}  value: {t['value']}\n{indent}  effect: {t['effect']}\n")
    return "".join(out)


def write_podc(root: Path, n: int) -> Path:
    (root / "jobs").mkdir(parents=True)
    (root / "base.yaml").write_text("env:\n  TZ: UTC\n  LOG_FORMAT: json\ntolerations:\n" + _tol_yaml([TOL_BASE], "  "))
    (root / "team.yaml").write_text("extends: [base.yaml]\nenv:\n  TEAM: ml\ntolerations:\n" + _tol_yaml([TOL_TEAM], "  "))
    (root / "env.yaml").write_text(
        "env:\n  ENVIRONMENT: prod\ntolerations:\n" + _tol_yaml([TOL_ENV], "  ") +
        "volumes:\n  cache:\n    emptyDir: {}\n    mountPath: /cache\n"
        "  data:\n    persistentVolumeClaim: {claimName: data}\n    mountPath: /data\n")
    targets = []
    for i in range(n):
        (root / "jobs" / f"job-{i}.yaml").write_text(
            f"image: registry.example.com/app:{i}\nresources:\n  requests: {{cpu: 500m, memory: 1Gi}}\n"
            "  limits: {memory: 2Gi}\nsecurityContext:\n  readOnlyRootFilesystem: true\n"
            "podSecurityContext:\n  runAsUser: 1000\n  fsGroup: 2000\n")
        targets.append(f"  job-{i}:\n    layers: [team, env]\n    file: jobs/job-{i}.yaml\n")
    (root / "podc.yaml").write_text("kind: Project\nnamespace: batch\nlayers:\n  team: team.yaml\n  env: env.yaml\n"
                                    "targets:\n" + "".join(targets))
    return root


BASE_JOB = """apiVersion: batch/v1
kind: Job
metadata:
  name: job
  namespace: batch
spec:
  backoffLimit: 0
  ttlSecondsAfterFinished: 86400
  template:
    spec:
      restartPolicy: Never
      securityContext:
        runAsNonRoot: true
        seccompProfile:
          type: RuntimeDefault
      tolerations:
{tolerations}      containers:
        - name: main
          image: placeholder
          env:
            - name: TZ
              value: UTC
            - name: LOG_FORMAT
              value: json
          securityContext:
            allowPrivilegeEscalation: false
            capabilities:
              drop: [ALL]
"""


def _component(path: Path, patch: str) -> None:
    path.mkdir(parents=True)
    (path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n  - path: patch.yaml\n"
        "    target: {kind: Job}\n")
    (path / "patch.yaml").write_text(patch)


def write_kustomize(root: Path, n: int) -> Path:
    base = root / "base"
    base.mkdir(parents=True)
    (base / "job.yaml").write_text(BASE_JOB.format(tolerations=_tol_yaml([TOL_BASE], "        ")))
    (base / "kustomization.yaml").write_text("resources: [job.yaml]\n")
    head = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: job\n  namespace: batch\nspec:\n  template:\n    spec:\n"
    _component(root / "components" / "team", head + "      tolerations:\n" + _tol_yaml([TOL_BASE, TOL_TEAM], "        ") +
               "      containers:\n        - name: main\n          env:\n            - name: TEAM\n              value: ml\n")
    _component(root / "components" / "env", head + "      tolerations:\n" +
               _tol_yaml([TOL_BASE, TOL_TEAM, TOL_ENV], "        ") +
               "      volumes:\n        - name: cache\n          emptyDir: {}\n"
               "        - name: data\n          persistentVolumeClaim: {claimName: data}\n"
               "      containers:\n        - name: main\n          env:\n            - name: ENVIRONMENT\n"
               "              value: prod\n          volumeMounts:\n            - name: cache\n"
               "              mountPath: /cache\n            - name: data\n              mountPath: /data\n")
    resources = []
    for i in range(n):
        d = root / "jobs" / f"job-{i}"
        d.mkdir(parents=True)
        (d / "kustomization.yaml").write_text(
            f"resources: [../../base]\ncomponents: [../../components/team, ../../components/env]\n"
            f"nameSuffix: \"-{i}\"\npatches:\n  - path: patch.yaml\n")
        (d / "patch.yaml").write_text(
            head + "      securityContext:\n        runAsUser: 1000\n        fsGroup: 2000\n"
            f"      containers:\n        - name: main\n          image: registry.example.com/app:{i}\n"
            "          resources:\n            requests: {cpu: 500m, memory: 1Gi}\n            limits: {memory: 2Gi}\n"
            "          securityContext:\n            readOnlyRootFilesystem: true\n")
        resources.append(f"  - jobs/job-{i}\n")
    (root / "kustomization.yaml").write_text("resources:\n" + "".join(resources))
    return root


def timed(cmd: list[str], repeat: int, cwd: Path | None = None) -> tuple[float, float]:
    """Median wall time and median CPU time (user+sys of the child) over ``repeat`` cold runs."""
    import resource

    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def _precompile(py: str) -> bool:
    """Byte-compile the podc package, as ``pip install`` does: an installed podc never compiles its
    sources at start-up, but a source checkout run with PYTHONDONTWRITEBYTECODE=1 would on every run."""
    code = "import compileall, os, podc; compileall.compile_dir(os.path.dirname(podc.__file__), quiet=1)"
    return subprocess.run([py, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1,200,1000")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-precompile", action="store_true",
                    help="do not byte-compile podc first (runs then include compiling podc's sources when "
                         "PYTHONDONTWRITEBYTECODE is set)")
    args = ap.parse_args()
    py = sys.executable
    precompiled = False if args.no_precompile else _precompile(py)
    kubectl = shutil.which("kubectl")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, kubectl: {kubectl or 'not found'}, "
          f"load average {os.getloadavg()[0]:.2f}, podc bytecode {'precompiled' if precompiled else 'as found'}, "
          f"median of {args.repeat}")
    startup = timed([py, "-c", "pass"], 5)[0]
    imp = timed([py, "-c", "import podc"], 5)[0]
    ver = timed([py, "-m", "podc", "--version"], 5)[0]
    print(f"python startup          {startup * 1000:7.1f} ms")
    print(f"import podc             {imp * 1000:7.1f} ms wall ({(imp - startup) * 1000:.1f} ms over startup; target <= 80)")
    print(f"podc --version          {ver * 1000:7.1f} ms wall (target <= 120)")
    print()
    print("wall seconds (CPU seconds); ratio = podc / kustomize")
    print(f"{'N':>6} {'podc --no-policy':>17} {'podc (policies)':>17} {'kustomize':>17} "
          f"{'ratio policies':>18} {'ratio no-policy':>18}  target (policies, wall and CPU)")
    targets = {1: 0.6, 200: 0.15, 1000: 0.08}
    fmt = lambda t: f"{t[0]:7.3f} ({t[1]:6.3f})" if t else "n/a"  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="podc-bench-") as tmp:
        for n in [int(s) for s in args.sizes.split(",")]:
            work = Path(tmp) / f"n{n}"
            proj = write_podc(work / "podc", n)
            out = str(work / "out")
            plain = [py, "-m", "podc", "compile", str(proj), "--no-policy", "--out", out]
            policy = [py, "-m", "podc", "compile", str(proj), "--out", out]
            timed(policy, 1)  # warm: bytecode, podc's data cache, the file system
            results = {"plain": [], "policy": [], "kust": []}
            kdir = write_kustomize(work / "kustomize", n) if kubectl else None
            if kdir:
                timed([kubectl, "kustomize", str(kdir)], 1)
            for _ in range(args.repeat):  # interleaved, so a burst of load hits all three alike
                results["plain"].append(timed(plain, 1))
                results["policy"].append(timed(policy, 1))
                if kdir:
                    results["kust"].append(timed([kubectl, "kustomize", str(kdir)], 1))
            med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v)) if v else None
                   for k, v in results.items()}
            goal = targets.get(n)
            if med["kust"]:
                k = med["kust"]
                r_pol = (med["policy"][0] / k[0], med["policy"][1] / k[1])
                r_plain = (med["plain"][0] / k[0], med["plain"][1] / k[1])
                text_pol, text_plain = f"{r_pol[0]:6.3f}x ({r_pol[1]:.3f}x)", f"{r_plain[0]:6.3f}x ({r_plain[1]:.3f}x)"
                ok = "" if goal is None else ("ok" if max(r_pol) <= goal else
                                              "cpu ok, wall MISSED" if r_pol[1] <= goal else "MISSED")
            else:
                text_pol = text_plain = "n/a"
                ok = ""
            print(f"{n:>6} {fmt(med['plain']):>17} {fmt(med['policy']):>17} {fmt(med['kust']):>17} "
                  f"{text_pol:>18} {text_plain:>18}  {'<= ' + str(goal) + 'x ' + ok if goal else ''}")
    return report_load()


def report_load() -> int:
    """Benchmarks end with the load average: other work on the machine inflates every figure."""
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
