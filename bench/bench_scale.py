"""Scaling benchmark: cost per layer and per target must stay flat as projects grow. Prints figures.

1. Layers: one target stacking L named layers (each adds an env var, a toleration and a volume
   with its mount, so keyed lists grow with L). Prints the compile time per layer.
2. Targets: T targets (base + team + env + job file each, as in ``bench_compile.py``), through
   ``podc compile --no-policy``, ``podc compile`` (policies on) -- both in one process (``-j 1``) --,
   ``podc compile`` with its default worker processes, and ``podc check``. Prints time and peak RSS
   per target (peak RSS of the largest process: with workers, of one of them).

Every measurement is a fresh process (``podc`` imported, bytecode cached); the median of
``--repeat`` runs is shown, with CPU time (user+sys of the child), which is steadier than wall
time on a shared machine. Peak RSS per target is (peak RSS - RSS of ``import podc``) / T.

    .venv/bin/python bench/bench_scale.py [--layers 100,500,1000,2500,5000] [--targets 1000,5000,10000]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_compile import report_load, write_podc  # noqa: E402

# Runs in the child: the in-process time of the compile, after a one-layer compile has done the
# imports and start-up work (so the figure per layer is not the fixed cost spread over L).
_LAYERS_CHILD = """
import sys, time, podc
from podc.pipeline import compile_project
compile_project(sys.argv[2])
t0 = time.process_time(); w0 = time.perf_counter()
result = compile_project(sys.argv[1])
assert len(result.jobs) == 1, result.diagnostics
print(time.process_time() - t0, time.perf_counter() - w0)
"""


def write_layers(root: Path, n: int) -> Path:
    (root / "layers").mkdir(parents=True)
    names = []
    for i in range(n):
        (root / "layers" / f"l{i}.yaml").write_text(
            f"env:\n  VAR_{i}: value-{i}\n"
            f"tolerations:\n  - key: pool-{i}\n    operator: Exists\n    effect: NoSchedule\n"
            f"volumes:\n  v{i}:\n    emptyDir: {{}}\n    mountPath: /mnt/v{i}\n")
        names.append(f"l{i}")
    (root / "podc.yaml").write_text(
        "kind: Project\nnamespace: batch\nlayers:\n" + "".join(f"  {n}: layers/{n}.yaml\n" for n in names)
        + "targets:\n  big:\n    file: job.yaml\n    layers: [" + ", ".join(names) + "]\n")
    (root / "job.yaml").write_text("image: registry.example.com/app:1\n")
    return root


def run(cmd: list[str]) -> tuple[float, float, int, str]:
    """Wall, CPU (user+sys of the child) and peak RSS (KiB) of one cold process, and its stdout."""
    import time

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: measure each run in a wrapper.
    wrapped = [sys.executable, "-c",
               "import resource, subprocess, sys; p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, "
               "stderr=subprocess.DEVNULL); sys.stdout.write(p.stdout.decode()); "
               "print('RSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(p.returncode)", *cmd]
    out = subprocess.run(wrapped, check=False, stdout=subprocess.PIPE, text=True).stdout
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    lines = out.strip().splitlines()
    rss = int(lines[-1].split()[1]) if lines and lines[-1].startswith("RSS") else 0
    return wall, cpu, rss, "\n".join(lines[:-1])


def median_runs(cmd: list[str], repeat: int) -> tuple[float, float, int, str]:
    runs = [run(cmd) for _ in range(repeat)]
    return (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs),
            max(r[2] for r in runs), runs[-1][3])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", default="100,500,1000,2500,5000")
    ap.add_argument("--targets", default="1000,5000,10000")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    py = sys.executable
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    base_rss = median_runs([py, "-c", "import podc"], 3)[2]
    with tempfile.TemporaryDirectory(prefix="podc-scale-") as tmp:
        if args.layers:
            print("\nLayers: one target with L layers (in-process compile time, median)")
            print(f"{'L':>6} {'CPU s':>8} {'wall s':>8} {'CPU µs/layer':>13} {'wall µs/layer':>14}")
            warm = write_layers(Path(tmp) / "layers-warm-up", 1)
            for n in [int(s) for s in args.layers.split(",")]:
                proj = write_layers(Path(tmp) / f"layers{n}", n)
                runs = []
                for _ in range(args.repeat):
                    out = run([py, "-c", _LAYERS_CHILD, str(proj), str(warm)])[3].split()
                    runs.append((float(out[0]), float(out[1])))
                cpu = statistics.median(r[0] for r in runs)
                wall = statistics.median(r[1] for r in runs)
                print(f"{n:>6} {cpu:8.3f} {wall:8.3f} {cpu / n * 1e6:13.0f} {wall / n * 1e6:14.0f}")
        if args.targets:
            print(f"\nTargets: T Jobs (cold CLI processes, median; RSS over `import podc` = {base_rss / 1024:.0f} MiB)")
            print(f"{'T':>6} {'command':<22} {'wall s':>8} {'CPU s':>8} {'peak MiB':>9} {'CPU ms/target':>14} "
                  f"{'KiB/target':>11}")
            for n in [int(s) for s in args.targets.split(",")]:
                proj = write_podc(Path(tmp) / f"targets{n}", n)
                out = Path(tmp) / f"out{n}"
                # -j 1: CPU and RSS per target of one process (workers would split the RSS);
                # the default (workers on a multi-CPU Linux machine) is shown for its wall time.
                commands = {
                    "compile --no-policy": [py, "-m", "podc", "compile", str(proj), "--no-policy", "--out", str(out),
                                            "-j", "1"],
                    "compile (policies)": [py, "-m", "podc", "compile", str(proj), "--out", str(out), "-j", "1"],
                    "compile, workers": [py, "-m", "podc", "compile", str(proj), "--out", str(out)],
                    "check": [py, "-m", "podc", "check", str(proj)],
                }
                for label, cmd in commands.items():
                    wall, cpu, rss, _ = median_runs(cmd, args.repeat)
                    print(f"{n:>6} {label:<22} {wall:8.2f} {cpu:8.2f} {rss / 1024:9.0f} {cpu / n * 1000:14.3f} "
                          f"{(rss - base_rss) / n:11.1f}")
    return report_load()


if __name__ == "__main__":
    raise SystemExit(main())
