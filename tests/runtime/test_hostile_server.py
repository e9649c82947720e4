"""``podc submit`` against API servers that answer slowly, wrongly or hugely (tests/runtime/hostile.py).

Each case runs the real command in a fresh process and asserts the bound: ``--timeout 3``
finishes well within 10 s, memory stays far below what the server sends, no credential is
printed, and the failure is one clear line.
"""

from __future__ import annotations

import sys

import pytest

from hostile import JOB_YAML, TOKEN, Hostile, podc

BOUND = 10.0  # seconds for a `--timeout 3` command, process start-up included (on a quiet machine)


def submit(tmp_path, kubeconfig, *extra, timeout="3", rss=False):
    job = tmp_path / "job.yaml"
    job.write_text(JOB_YAML)
    return podc("submit", str(job), "--kubeconfig", kubeconfig, "--wait", "--timeout", timeout,
                *extra, rss=rss)


def bound(tmp_path, seconds: float = BOUND) -> float:
    """``seconds``, or more on a machine so loaded that starting Python and importing the
    Kubernetes client alone takes seconds: the same command failing before any request
    (a kubeconfig without server) measures that, and the bound is what it took plus the rest."""
    with Hostile() as srv:
        _, _, _, startup = submit(tmp_path, srv.kubeconfig(tmp_path / "kc-startup", cluster={}))
    return max(seconds, startup + seconds - 1.5)


def one_clear_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err and "Warning" not in err and "ERROR:root" not in err
    return lines[0]


def _drip_everything(h):
    h.drip(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{}", 2.0)
    h.close_connection = True
    return True


def _drip_body(h):
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", "400")
    h.end_headers()
    h.drip(b" " * 400, 2.0)
    return True


@pytest.mark.parametrize("behave", [_drip_everything, _drip_body], ids=["headers", "body"])
def test_a_dripping_server_is_bounded_by_timeout(tmp_path, behave):
    with Hostile(behave) as srv:
        code, out, err, took = submit(tmp_path, srv.kubeconfig(tmp_path / "kc"))
    assert code == 1 and took < bound(tmp_path), (took, err)
    line = one_clear_line(err)
    # Which layer notices first depends on the machine's load: the read watchdog ("no complete
    # answer") or the command's deadline between requests ("timed out after 3s"); both are the
    # same bounded failure, told in one line.
    assert "no complete answer before the deadline" in line or "timed out after 3s (--timeout)" in line, line


@pytest.mark.parametrize("retry_after", ["30", "100"])
def test_429_retry_after_stays_inside_the_timeout(tmp_path, retry_after):
    def busy(h):
        h.body()
        h.send_status(429, "TooManyRequests", "slow down", {"Retry-After": retry_after})
        return True

    with Hostile(busy) as srv:
        # 5 s: room for a loaded machine to start Python and send the first request
        code, out, err, took = submit(tmp_path, srv.kubeconfig(tmp_path / "kc"), timeout="5")
    assert code == 1 and took < bound(tmp_path, BOUND + 2), (took, err)
    line = one_clear_line(err)
    assert "429" in line and f"asked to retry in {retry_after}s, past the deadline" in line


def test_500_forever_gets_bounded_retries_then_fails(tmp_path):
    def broken(h):
        h.body()
        h.send_status(500, "InternalError", "etcdserver: request timed out")
        return True

    with Hostile(broken) as srv:
        code, out, err, took = submit(tmp_path, srv.kubeconfig(tmp_path / "kc"), timeout="30")
        lists = [s for s in srv.seen if s[0] == "GET"]
    assert code == 1 and took < bound(tmp_path, 20), (took, err)  # the retry policy ends it, not the 30 s timeout
    line = one_clear_line(err)
    assert "500 InternalError" in line and "gave up after" in line
    assert 2 <= len(lists) <= 14  # bounded retries (two list calls of at most 6 attempts)


@pytest.mark.parametrize("status", [401, 403])
def test_401_403_fail_at_once(tmp_path, status):
    def deny(h):
        h.body()
        h.send_status(status, "Unauthorized" if status == 401 else "Forbidden",
                      "Unauthorized" if status == 401 else 'jobs.batch is forbidden: User "ci" cannot list resource "jobs"')
        return True

    with Hostile(deny) as srv:
        code, out, err, took = submit(tmp_path, srv.kubeconfig(tmp_path / "kc"), timeout="60")
        requests = len(srv.seen)
    assert code == 1 and took < bound(tmp_path), (took, err)
    line = one_clear_line(err)
    assert f"({status})" in line or f"{status} " in line
    assert requests <= 2  # the first request of each watch, no retries


@pytest.mark.parametrize("user", [{"token": TOKEN}, {"username": "ci", "password": TOKEN}],
                         ids=["bearer", "basic"])
def test_error_body_echoing_headers_never_prints_the_token(tmp_path, user):
    import base64

    def echo(h):
        h.body()
        page = ("<html><body><h1>502 Bad Gateway</h1><pre>" + "\n".join(
            f"{k}: {v}" for k, v in h.headers.items()) + f"\nraw: Bearer {TOKEN}</pre></body></html>").encode()
        h.send_response(502)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(len(page)))
        h.end_headers()
        h.wfile.write(page)
        return True

    with Hostile(echo) as srv:
        code, out, err, took = submit(tmp_path, srv.kubeconfig(tmp_path / "kc", user=user))
        sent = " ".join(s[2].get("authorization") or s[2].get("Authorization") or "" for s in srv.seen)
    basic = base64.b64encode(f"ci:{TOKEN}".encode()).decode()
    assert TOKEN in sent or basic in sent  # the credential was sent, and echoed back
    assert code == 1 and took < bound(tmp_path)
    assert TOKEN not in out + err and TOKEN[:12] not in out + err and basic[:16] not in out + err
    assert "502" in one_clear_line(err) and "***" in err


def test_huge_list_is_a_clear_error_with_bounded_memory(tmp_path):
    def huge(h):
        if h.command != "GET" or h.is_watch:
            return False
        h.stream_start()
        h.wfile.write(b'{"kind":"List","metadata":{"resourceVersion":"1"},"items":[')
        chunk = (b'{"metadata":{"name":"x"},"spec":{"pad":"' + b"x" * 4000 + b'"}},') * 256
        sent = 0
        while sent < 600 * 2 ** 20 and not h.stopping:  # 600 MB, ignoring `limit`
            h.wfile.write(chunk)
            sent += len(chunk)
        return True

    with Hostile(huge) as srv:
        code, out, err, took = submit(tmp_path, srv.kubeconfig(tmp_path / "kc"), timeout="30", rss=True)
    assert code == 1 and took < bound(tmp_path, 20), (took, err)
    maxrss = int(err.rsplit("maxrss=", 1)[1].split()[0])
    assert maxrss < 350, maxrss  # MiB; before: 1.4 GB and an empty MemoryError()
    assert "more than 32 MiB" in err and "MemoryError" not in err


def test_kubeconfig_cluster_without_server_is_one_line_exit_2(tmp_path):
    with Hostile() as srv:
        kc = srv.kubeconfig(tmp_path / "kc", cluster={})
        code, out, err, took = submit(tmp_path, kc)
        assert not srv.seen
    assert code == 2 and took < bound(tmp_path)
    assert "has no `server`" in one_clear_line(err)
    assert "FutureWarning" not in err


@pytest.mark.parametrize("server", ["127.0.0.1:6443", "ftp://x"])
def test_kubeconfig_server_without_scheme_is_refused(tmp_path, server):
    with Hostile() as srv:
        code, out, err, took = submit(tmp_path, srv.kubeconfig(tmp_path / "kc", cluster={"server": server}))
    assert code == 2 and "must be a URL starting with https://" in one_clear_line(err)


def test_tls_verification_failure_fails_at_once(tmp_path):
    with Hostile(tls_dir=tmp_path) as srv:
        code, out, err, took = submit(tmp_path, srv.kubeconfig(tmp_path / "kc"), timeout="60")
    assert code == 1 and took < bound(tmp_path), (took, err)
    line = one_clear_line(err)
    assert "TLS: cannot verify the API server" in line and "self-signed certificate" in line


def test_insecure_skip_tls_verify_is_said_once_in_podcs_voice(tmp_path):
    with Hostile(tls_dir=tmp_path) as srv:
        kc = srv.kubeconfig(tmp_path / "kc", cluster={"server": srv.url, "insecure-skip-tls-verify": True})
        job = tmp_path / "job.yaml"
        job.write_text(JOB_YAML)
        code, out, err, took = podc("submit", str(job), "--kubeconfig", kc, "--timeout", "20")
    assert code == 0, err
    assert "submitted hello" in out
    assert err.count("TLS certificate verification is off") == 1
    assert err.startswith("podc submit: warning:") and "InsecureRequestWarning" not in err
    assert "urllib3" not in err and len(err.strip().splitlines()) == 1


def _plugin(tmp_path, code: str, env=None) -> dict:
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": sys.executable,
                     "args": ["-c", code], **({"env": env} if env else {})}}


def test_a_hung_credential_plugin_is_bounded(tmp_path):
    with Hostile() as srv:
        kc = srv.kubeconfig(tmp_path / "kc", user=_plugin(tmp_path, "import time; time.sleep(600)"))
        code, out, err, took = submit(tmp_path, kc)
        assert not srv.seen
    assert code == 2 and took < bound(tmp_path), (took, err)
    assert "did not answer within" in one_clear_line(err)


def test_a_failing_credential_plugin_shows_its_stderr_and_fails(tmp_path):
    failing = ("import sys; print('error: SSO session expired; run aws sso login', file=sys.stderr); "
               "sys.exit(3)")
    env = [{"name": "AWS_SECRET_ACCESS_KEY", "value": "plugin-env-secret-value"}]
    with Hostile() as srv:
        kc = srv.kubeconfig(tmp_path / "kc", user=_plugin(tmp_path, failing, env))
        code, out, err, took = submit(tmp_path, kc)
        assert not srv.seen  # no unauthenticated request and no misleading 401
    assert code == 2 and took < bound(tmp_path)
    line = one_clear_line(err)
    assert "credential plugin `python" in line and "failed (exit 3" in line
    assert "SSO session expired" in line and "plugin-env-secret-value" not in err


def test_a_working_credential_plugin_authenticates(tmp_path):
    ok = ("import json; print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1beta1', "
          "'kind': 'ExecCredential', 'status': {'token': 'plugin-token-abcdef123456'}}))")
    with Hostile() as srv:
        kc = srv.kubeconfig(tmp_path / "kc", user=_plugin(tmp_path, ok))
        job = tmp_path / "job.yaml"
        job.write_text(JOB_YAML)
        code, out, err, took = podc("submit", str(job), "--kubeconfig", kc, "--timeout", "20")
        auth = {s[2].get("authorization") for s in srv.seen}
    assert code == 0, err
    assert auth == {"Bearer plugin-token-abcdef123456"}


def test_missing_runtime_extra_is_exit_2_with_the_install_line(tmp_path):
    job = tmp_path / "job.yaml"
    job.write_text(JOB_YAML)
    block = "import sys; sys.modules['kubernetes'] = None\n"
    import os
    import subprocess

    from hostile import ROOT

    for argv in (["submit", str(job)], ["runs"], ["cancel", "r1"], ["logs", "r1"]):
        code = block + "from podc.cli.main import main; raise SystemExit(main(sys.argv[1:]))"
        done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60,
                              env={**os.environ, "PYTHONPATH": str(ROOT / "compiler")})
        assert done.returncode == 2, (argv, done.stderr)
        assert "pip install 'podc[runtime]'" in done.stderr and "internal error" not in done.stderr
