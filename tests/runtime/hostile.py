"""A small Kubernetes-API-shaped HTTP(S) server that misbehaves on purpose.

By default it answers just enough for ``podc submit`` (empty lists, watches that stay silent,
creates echoed back). A test passes ``behave(handler) -> bool`` to take over any request: drip a
response, answer 429 forever, send a huge list, stream a watch without newlines, echo the
request's headers in an error page, fail with 500/401/403. :meth:`Hostile.kubeconfig` writes a
kubeconfig (with a bearer token, optionally TLS settings or a credential plugin) pointing at it.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

TOKEN = "hostile-bearer-token-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[2]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True

    # -- helpers for behaviours ---------------------------------------------------------------
    @property
    def is_watch(self) -> bool:
        return "watch=true" in self.path or "watch=1" in self.path

    @property
    def stopping(self) -> bool:
        return self.server.stopping.is_set()

    def body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_status(self, code: int, reason: str, message: str,
                    headers: dict[str, str] | None = None) -> None:
        self.send_json(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                              "reason": reason, "message": message, "code": code}, headers)

    def stream_start(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def drip(self, data: bytes, every: float) -> None:
        """Write ``data`` one byte at a time, ``every`` seconds apart (headers included)."""
        for i in range(len(data)):
            if self.stopping:
                return
            self.wfile.write(data[i:i + 1])
            self.wfile.flush()
            self.server.stopping.wait(every)

    # -- dispatch -----------------------------------------------------------------------------
    def _answer(self) -> None:
        self.server.seen.append((self.command, self.path, dict(self.headers)))
        behave = self.server.behave
        if behave is not None and behave(self):
            return
        self.default()

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _answer

    def default(self) -> None:
        if self.command == "POST":
            job = json.loads(self.body() or b"{}")
            meta = job.setdefault("metadata", {})
            meta.update(uid=f"uid-{meta.get('name')}", resourceVersion="2",
                        creationTimestamp="2026-11-24T05:00:00Z")
            self.send_json(201, job)
        elif self.command == "DELETE":
            self.body()
            self.send_json(200, {"kind": "Status", "status": "Success"})
        elif self.is_watch:
            self.stream_start()
            while not self.stopping:  # a silent watch, until podc or the test closes it
                self.server.stopping.wait(0.1)
        elif self.path.split("?")[0].rstrip("/").endswith(("/jobs", "/pods", "/events")):
            self.send_json(200, {"kind": "List", "apiVersion": "v1",
                                 "metadata": {"resourceVersion": "1"}, "items": []})
        else:
            self.send_status(404, "NotFound", "not found")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, behave: Callable[[Handler], bool] | None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.behave = behave
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.stopping = threading.Event()


class Hostile:
    def __init__(self, behave: Callable[[Handler], bool] | None = None, *, tls_dir: Path | None = None):
        self.server = _Server(behave)
        self.scheme = "http"
        if tls_dir is not None:
            cert, key = self_signed(tls_dir)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                        name="hostile-server")
        self._thread.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}"

    @property
    def seen(self) -> list[tuple[str, str, dict[str, str]]]:
        return self.server.seen

    def kubeconfig(self, path: Path, *, cluster: dict[str, Any] | None = None,
                   user: dict[str, Any] | None = None) -> str:
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "hostile",
            "clusters": [{"name": "hostile", "cluster": cluster if cluster is not None else {"server": self.url}}],
            "users": [{"name": "hostile", "user": user if user is not None else {"token": TOKEN}}],
            "contexts": [{"name": "hostile", "context": {"cluster": "hostile", "user": "hostile",
                                                         "namespace": "default"}}],
        }
        path.write_text(json.dumps(config))
        return str(path)

    def close(self) -> None:
        self.server.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    def __enter__(self) -> "Hostile":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def self_signed(folder: Path) -> tuple[str, str]:
    cert, key = folder / "server.crt", folder / "server.key"
    if not cert.exists():
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(key), "-out", str(cert)],
                       check=True, capture_output=True, timeout=60)
    return str(cert), str(key)


JOB_YAML = ("apiVersion: batch/v1\nkind: Job\nmetadata: {name: hello}\nspec:\n  template:\n    spec:\n"
            "      restartPolicy: Never\n      containers:\n      - name: main\n        image: busybox:1.36\n")


def podc(*argv: str, timeout: float = 60.0, stdin: Any = None, env: dict[str, str] | None = None,
         rss: bool = False) -> tuple[int, str, str, float]:
    """Run ``podc`` in a fresh process: (exit code, stdout, stderr, seconds). With ``rss``, the
    process's peak RSS (MiB) is printed last on stderr as ``maxrss=N``."""
    code = "import sys; from podc.cli.main import main; rc = main(sys.argv[1:])\n"
    if rss:
        # VmHWM is this program's own peak: ru_maxrss also counts the forking pytest worker's
        # memory (Linux keeps the pre-exec peak), so it reported 350 MB after heavy tests ran.
        code += ("import resource\n"
                 "try:\n"
                 "    peak = int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM:')).split()[1])\n"
                 "except (OSError, StopIteration, ValueError):\n"
                 "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
                 "print(f'maxrss={peak // 1024}', file=sys.stderr)\n")
    code += "sys.exit(rc)\n"
    full_env = {**os.environ, "PYTHONPATH": str(ROOT / "compiler"), **(env or {})}
    full_env.pop("KUBECONFIG", None)
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                          timeout=timeout, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                          env=full_env)
    return done.returncode, done.stdout, done.stderr, time.monotonic() - t0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
