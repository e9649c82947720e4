"""Benchmark podc.runtime on the local emulator: N Jobs submitted, watched to completion.

Prints (not a test):
- API requests per Job over its life (target <= 2, plus the run's shared list+watch), beside
  dagster-k8s's polling model 1 + ceil(T / 20 s) for the same Job duration T;
- completion-detection latency: from the emulator writing the Complete condition (a store
  listener in the emulator process) to the runtime reporting succeeded (target <= 1 s);
- time to submit all Jobs (target <= 5 s for 1,000);
- peak RSS of the runtime process (target <= 100 MB). The runtime runs in a child process so
  the emulator's memory is not counted; both use the same wall clock (time.time()).

    .venv/bin/python bench/bench_runtime.py --jobs 200

``--hostile`` instead runs podc and the official client (the peer) against a misbehaving server:
a list answer of ``--list-mb`` MB that ignores ``limit`` (peak RSS, how it ends) and an answer
dripping one byte every 2 s (how long ``podc submit --timeout 3`` and a client call with the
usual (5 s, 30 s) timeouts take; the peer is cut off after 30 s).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time


def _manifest(i: int, after: float) -> dict:
    return {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": f"step-{i:05d}"},
        "spec": {"backoffLimit": 0, "template": {
            "metadata": {"annotations": {"podc.dev/emulator-outcome": f"succeed:after={after}"}},
            "spec": {"restartPolicy": "Never", "containers": [{
                "name": "main", "image": "busybox:1.36",
                "resources": {"requests": {"cpu": "1m", "memory": "1Mi"},
                              "limits": {"memory": "16Mi"}}}]}}},
    }


def child(args: argparse.Namespace) -> int:
    """The runtime side: submit, wait, report timings and peak RSS as JSON on stdout."""
    from concurrent.futures import ThreadPoolExecutor

    import psutil

    from podc.runtime import ExponentialBackoff, Runtime, connect

    proc = psutil.Process()
    peak = [proc.memory_info().rss]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            peak[0] = max(peak[0], proc.memory_info().rss)

    threading.Thread(target=sample, daemon=True).start()
    noticed: dict[str, float] = {}

    def on_change(state) -> None:
        if state.terminal:
            noticed.setdefault(state.name, time.time())

    transport = connect(kubeconfig=args.kubeconfig, retry=ExponentialBackoff(base=0.05, cap=1.0))
    rt = Runtime(transport, run_id="bench", namespace="default", on_change=on_change)
    rt.start()
    shared_before = transport.request_count
    manifests = [_manifest(i, args.after) for i in range(args.jobs)]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as pool:
        names = [s.name for s in pool.map(lambda m: rt.submit(m), manifests)]
    submit_s = time.perf_counter() - t0
    final = rt.wait(names, timeout=max(60.0, args.jobs * 0.1))
    wall = time.perf_counter() - t0
    requests_after = transport.request_count
    rt.close()
    stop.set()
    peak[0] = max(peak[0], proc.memory_info().rss)
    json.dump({"names": names, "noticed": noticed, "submit_s": submit_s, "wall": wall,
               "ok": sum(1 for s in final.values() if s.succeeded),
               "client_requests": requests_after - shared_before,
               "peak_rss": peak[0]}, sys.stdout)
    return 0


class _Hostile(threading.Thread):
    """The misbehaving server of ``--hostile``: a huge list, or one byte every 2 s."""

    def __init__(self, mode: str, list_mb: int) -> None:
        import socket

        super().__init__(daemon=True, name="bench-hostile")
        self.mode, self.list_mb = mode, list_mb
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn) -> None:
        try:
            conn.recv(65536)
            if self.mode == "drip":
                for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n{}":
                    conn.sendall(bytes([byte]))
                    time.sleep(2.0)
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
                         b'{"kind":"List","metadata":{"resourceVersion":"1"},"items":[')
            item = b'{"metadata":{"name":"x"},"spec":{"pad":"' + b"x" * 4000 + b'"}}'
            chunk = b",".join([item] * 256)
            for i in range(self.list_mb * 2**20 // len(chunk)):
                conn.sendall((b"," if i else b"") + chunk)
            conn.sendall(b"]}")
        except OSError:
            pass
        finally:
            conn.close()


_PROBE = """
import resource, sys, time
mode, who, url = sys.argv[1:4]
t0 = time.monotonic()
try:
    if who == "podc":
        from podc.cli.main import main
        kc = sys.argv[4]
        rc = main(["runs" if mode == "list" else "submit", *([] if mode == "list" else [sys.argv[5]]),
                   "--kubeconfig", kc, "--timeout", "3" if mode == "drip" else "60"])
        outcome = f"exit {rc}"
    else:
        from kubernetes import client
        cfg = client.Configuration(); cfg.host = url
        api = client.BatchV1Api(client.ApiClient(cfg))
        if mode == "list":
            api.list_namespaced_job("default", _request_timeout=(5, 30), _preload_content=True)
        else:
            api.list_namespaced_job("default", _request_timeout=(5, 30))
        outcome = "returned"
except BaseException as exc:
    outcome = f"{type(exc).__name__}: {str(exc)[:60]}"
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(f"{time.monotonic() - t0:.1f}\t{rss}\t{outcome}", file=sys.stderr)
"""


def hostile(list_mb: int) -> int:
    import tempfile

    folder = tempfile.mkdtemp(prefix="podc-bench-")
    job = os.path.join(folder, "job.json")
    with open(job, "w") as fh:
        json.dump(_manifest(0, 0.1), fh)
    env = {**os.environ, "PYTHONPATH": os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "compiler")}
    print(f"{'case':<28}{'who':<22}{'seconds':>8}{'peak RSS MB':>13}  outcome")
    for mode in ("list", "drip"):
        server = _Hostile(mode, list_mb)
        server.start()
        kc = os.path.join(folder, "kubeconfig")
        with open(kc, "w") as fh:
            json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "c",
                       "clusters": [{"name": "c", "cluster": {"server": server.url}}],
                       "users": [{"name": "u", "user": {"token": "t"}}],
                       "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}, fh)
        for who in ("podc", "kubernetes client"):
            argv = [sys.executable, "-c", _PROBE, mode, "podc" if who == "podc" else "client", server.url, kc, job]
            try:
                done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=30)
                took, rss, outcome = done.stderr.strip().splitlines()[-1].split("\t")
            except subprocess.TimeoutExpired:
                took, rss, outcome = ">30", "?", "still waiting, killed"
            case = f"{list_mb} MB list (ignores limit)" if mode == "list" else "1 byte / 2 s (--timeout 3)"
            print(f"{case:<28}{who:<22}{took:>8}{rss:>13}  {outcome}")
        server.sock.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=1000)
    ap.add_argument("--after", type=float, default=1.0, help="seconds each Job runs in the emulator")
    ap.add_argument("--workers", type=int, default=8, help="parallel creates")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--kubeconfig", help=argparse.SUPPRESS)
    ap.add_argument("--hostile", action="store_true", help="podc vs the official client against a misbehaving server")
    ap.add_argument("--list-mb", type=int, default=200, help="size of the huge list (--hostile)")
    args = ap.parse_args(argv)
    if args.child:
        return child(args)
    if args.hostile:
        return hostile(args.list_mb)

    from podc.testing import LocalCluster, SimNode

    n = args.jobs
    completed_at: dict[str, float] = {}

    def on_store_event(ev) -> None:  # the emulator's own moment of the status change
        if ev.resource != "jobs" or ev.type == "DELETED":
            return
        conds = (ev.obj.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Complete" and c.get("status") == "True" for c in conds):
            completed_at.setdefault(ev.obj["metadata"]["name"], time.time())

    nodes = [SimNode("n1", allocatable={"cpu": "4000", "memory": "4000Gi", "pods": str(n + 10)})]
    with LocalCluster(mode="scripted", nodes=nodes, service_accounts={"default"}) as cluster:
        cluster.store.add_listener(on_store_event)
        cmd = [sys.executable, os.path.abspath(__file__), "--child", "--kubeconfig",
               cluster.kubeconfig_path, "--jobs", str(n), "--after", str(args.after),
               "--workers", str(args.workers)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return 1
        report = json.loads(out.stdout)
        time.sleep(0.2)  # closed watches are logged when their streams end
        log = list(cluster.request_log)

    shared = [r for r in log if r.is_watch or r.verb == "list"]
    per_job = [r for r in log if not (r.is_watch or r.verb == "list")]
    names = report["names"]
    noticed = report["noticed"]
    lat = sorted(noticed[k] - completed_at[k] for k in names if k in completed_at and k in noticed)
    lifetime = args.after + 0.5
    dagster = 1 + math.ceil(lifetime / 20.0)
    print(f"jobs: {n} submitted, {report['ok']} succeeded, wall {report['wall']:.2f}s")
    print(f"time to submit all: {report['submit_s']:.2f}s "
          f"({n / report['submit_s']:.0f} creates/s, {args.workers} workers)")
    print(f"API requests per Job: {len(per_job) / n:.2f} (+ {len(shared)} shared list/watch "
          f"requests for the whole run); dagster-k8s model 1 + ceil(T/20 s) = {dagster} per Job "
          f"for T={lifetime:.1f}s ({dagster * n} for the run; 1 + ceil(600/20) = 31 for a 10-minute Job)")
    if lat:
        p99 = lat[min(len(lat) - 1, int(math.ceil(0.99 * len(lat))) - 1)]
        print(f"completion-detection latency: p50 {statistics.median(lat) * 1000:.1f} ms, "
              f"p99 {p99 * 1000:.1f} ms, max {lat[-1] * 1000:.1f} ms ({len(lat)} Jobs)")
    print(f"peak RSS of the runtime process: {report['peak_rss'] / 2**20:.1f} MB")
    return 0 if report["ok"] == n else 1


if __name__ == "__main__":
    sys.exit(main())
