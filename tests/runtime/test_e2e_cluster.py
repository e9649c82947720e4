"""Smoke test against a real cluster (kind in CI): opt-in with PODC_E2E_KUBECONFIG.

Also runs against the emulator in process mode (``python -m podc.testing --mode process
--kubeconfig /tmp/kc``), which executes the container commands locally.
"""

from __future__ import annotations

import os
import uuid

import pytest

pytestmark = pytest.mark.e2e

KUBECONFIG = os.environ.get("PODC_E2E_KUBECONFIG")
NAMESPACE = os.environ.get("PODC_E2E_NAMESPACE", "default")
needs_cluster = pytest.mark.skipif(not KUBECONFIG, reason="set PODC_E2E_KUBECONFIG to run against a real cluster")


def _job(name: str, command: list[str], memory: str = "64Mi", image: str = "busybox:1.36") -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"backoffLimit": 0, "ttlSecondsAfterFinished": 600, "template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "main", "image": image, "command": command,
                                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"},
                                              "limits": {"memory": memory}}}]}}}}


@needs_cluster
def test_real_cluster_smoke():
    from podc.runtime import ExponentialBackoff, Runtime, Timeouts, connect

    transport = connect(kubeconfig=KUBECONFIG, retry=ExponentialBackoff(base=0.2, cap=2.0))
    run_id = f"e2e-{uuid.uuid4().hex[:8]}"
    timeouts = Timeouts(start=240, pending=60, image_pull=30, config_error=20, failed_create=20)
    with Runtime(transport, run_id=run_id, namespace=NAMESPACE, timeouts=timeouts) as rt:
        try:
            ok = rt.submit(_job("ok", ["sh", "-c", "echo hello; exit 0"]), step_key="ok")
            bad = rt.submit(_job("bad", ["sh", "-c", "echo boom; exit 3"]), step_key="bad")
            pull_job = _job("pull", ["true"], image="registry.invalid/podc/none:0")
            # Real clusters ignore this annotation; the emulator (process mode) needs it to fail the pull.
            pull_job["spec"]["template"]["metadata"] = {
                "annotations": {"podc.dev/emulator-outcome": "image-pull-error"}}
            pull = rt.submit(pull_job, step_key="pull")
            final = rt.wait([ok.name, bad.name, pull.name], timeout=300)
            assert final[ok.name].succeeded, final[ok.name].describe()
            assert final[bad.name].reason.code == "ExitCode" and final[bad.name].reason.exit_code == 3
            assert any("boom" in line for line in final[bad.name].reason.log_tail)
            assert final[pull.name].reason.code in ("ErrImagePull", "ImagePullBackOff")
        finally:
            result = rt.cancel_run(confirm_timeout=120)
        assert result.clean, result
