"""``podc compile --jobs N``: worker processes change how fast, never what is written or printed.

Each case compiles the same project serially (``-j 1``) and with 2 and 3 processes and compares
exit code, stdout, stderr and every output file byte for byte: warnings, notes, exceptions that
suppress (and one that expired: a notice every share reports), ``failOn: warning``, a policy
error in one target, bad input in one target (the parallel run falls back to one process), the
pre-commit ``--check`` mode and a target list with repeats.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from cli_helpers import REPO, podc

sys.path.insert(0, str(REPO / "bench"))
from bench_compile import write_podc  # noqa: E402

sys.path.remove(str(REPO / "bench"))

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")

N = 60


def _project(root: Path, policies: str = "", job_edits: dict[int, str] | None = None) -> Path:
    write_podc(root, N)
    if policies:
        (root / "podc.yaml").write_text((root / "podc.yaml").read_text() + policies)
    for i, text in (job_edits or {}).items():
        path = root / "jobs" / f"job-{i}.yaml"
        path.write_text(path.read_text() + text)
    return root


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


def _same_with_workers(root: Path, *args: str) -> tuple[int, str]:
    runs = []
    for jobs in ("1", "2", "3"):
        out = root.parent / f"out-{root.name}-{jobs}"
        done = podc("compile", str(root), "--out", str(out), "-j", jobs, *args, cwd=root.parent)
        runs.append((done.returncode, done.stdout, done.stderr.replace(str(out), "OUT").replace(out.name, "OUT"),
                     _files(out)))
    assert runs[1] == runs[0] and runs[2] == runs[0]
    return runs[0][0], runs[0][2]


EXCEPTIONS = """policies:
  failOn: {fail_on}
  exceptions:
    - {{policy: best-practices, rule: image-digest, reason: pinned by the release process, targets: ["job-1*"]}}
    - {{policy: best-practices, rule: active-deadline, reason: an old waiver, expires: 2020-01-01}}
"""


def test_warnings_notes_and_exceptions_are_reported_as_one_process_reports_them(tmp_path):
    root = _project(tmp_path / "p", EXCEPTIONS.format(fail_on="error"))
    code, err = _same_with_workers(root)
    assert code == 0 and "121 policy warnings" in err  # 2 per target and the expired exception, once
    code, err = _same_with_workers(root, "-v")
    assert code == 0  # -v: every warning and note printed, not only counted
    assert "suppressed by exceptions" in err and err.count("expired on 2020-01-01") == 1
    assert "(target job-0)" in err and "(target job-59)" in err  # from the first and the last share


def test_fail_on_warning_fails_once(tmp_path):
    code, err = _same_with_workers(_project(tmp_path / "p", EXCEPTIONS.format(fail_on="warning")))
    assert code == 1 and err.count("failOn=warning") == 1


def test_fail_on_warning_with_a_policy_error_in_another_share(tmp_path):
    """The first share has warnings only (so its check says `failOn`), the last one an error: one
    process reports the error alone."""
    root = _project(tmp_path / "p", EXCEPTIONS.format(fail_on="warning"),
                    job_edits={58: "raw:\n  podSpec:\n    hostNetwork: true\n"})
    code, err = _same_with_workers(root)
    assert code == 1 and "failOn=warning" not in err and "job-58" in err


def test_a_policy_error_in_one_target_writes_nothing(tmp_path):
    code, err = _same_with_workers(_project(tmp_path / "p", job_edits={57: "raw:\n  podSpec:\n    hostNetwork: true\n"}))
    assert code == 1 and "nothing written" in err and "job-57" in err


def test_bad_input_in_one_target_reads_as_the_serial_error(tmp_path):
    code, err = _same_with_workers(_project(tmp_path / "p", job_edits={3: "backoffLimit: lots\n", 50: "imagee: x\n"}))
    assert code == 2 and "job-3.yaml" in err and "job-50.yaml" in err


def test_check_mode_and_a_target_list(tmp_path):
    root = _project(tmp_path / "p")
    assert podc("compile", str(root), cwd=tmp_path).returncode == 0
    code, _ = _same_with_workers(root, "--check")
    assert code == 1  # the folders of the comparison runs are empty: out of date
    targets = [a for i in (5, 40, 5, 59, 0) for a in ("-t", f"job-{i}")]
    code, _ = _same_with_workers(root, *targets)
    assert code == 0


def test_jobs_must_be_a_positive_number(tmp_path):
    done = podc("compile", str(_project(tmp_path / "p")), "-j", "0", cwd=tmp_path)
    assert done.returncode == 2 and "expected a number of processes" in done.stderr


# ---- the worker machinery itself ---------------------------------------------------------------

def _no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_shares_come_back_in_order_and_every_worker_is_reaped():
    from podc.cli.workers import run_shares

    names = [f"t{i}" for i in range(10)]
    parts = run_shares(names, 3, lambda share: (os.getpid(), share), lambda part: part)
    assert [n for _pid, share in parts for n in share] == names
    assert parts[0][0] == os.getpid() and len({pid for pid, _ in parts}) == 3
    assert _no_children_left()


@pytest.mark.parametrize("failure", ["crash", "raise", "parent-input-error"])
def test_a_failed_share_means_a_serial_run(failure):
    from podc.cli.workers import run_shares
    from podc.errors import PodcError

    def work(share):
        if failure == "crash" and "t9" in share:
            os._exit(3)  # a worker killed mid-run
        if failure == "raise" and "t9" in share:
            raise RuntimeError("a bug in a worker")
        if failure == "parent-input-error" and "t0" in share:
            raise PodcError("bad input in the first share")
        return share

    assert run_shares([f"t{i}" for i in range(10)], 2, work, lambda part: part) is None
    assert _no_children_left()


def test_worker_count():
    from podc.cli import workers

    assert workers.worker_count(1, 1000) == 1
    assert workers.worker_count(4, 3) == 3  # never more processes than targets
    assert workers.worker_count(None, workers.MIN_SHARE) == 1  # small projects: one process
    auto = workers.worker_count(None, 100 * workers.MIN_SHARE)
    assert 1 <= auto <= workers._cpus()
