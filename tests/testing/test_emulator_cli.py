"""``python -m podc.testing`` / ``podc.testing.cli:main``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from podc.testing.cli import main, parse_node
from emulator_helpers import job_body


def _wait_for_file(path, proc, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the emulator never wrote its kubeconfig"
        time.sleep(0.05)


def test_module_serves_until_interrupted(tmp_path):
    from kubernetes import client, config

    kubeconfig = tmp_path / "kc.yaml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "podc.testing", "--kubeconfig", str(kubeconfig),
         "--node", "n1,cpu=4,label/pool=a", "--service-account", "default", "--service-account", "robot"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_file(kubeconfig, proc)
        api = config.new_client_from_config(config_file=str(kubeconfig))
        batch = client.BatchV1Api(api)
        body = job_body("cli", pod_spec={"serviceAccountName": "robot"})
        batch.create_namespaced_job("default", body)
        deadline = time.monotonic() + 5
        while not (batch.read_namespaced_job_status("cli", "default").status.succeeded or 0):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        [node] = client.CoreV1Api(api).list_node().items
        assert node.metadata.name == "n1" and node.metadata.labels["pool"] == "a"
        assert node.status.allocatable["cpu"] == "4"
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "export KUBECONFIG=" in err and "stopped" in err


def test_kubeconfig_on_stdout(capsys):
    proc = subprocess.Popen([sys.executable, "-m", "podc.testing"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        text = ""
        deadline = time.monotonic() + 15
        while not text.startswith("}", text.rfind("\n", 0, len(text) - 1) + 1):
            assert time.monotonic() < deadline
            text += proc.stdout.readline()
        cfg = json.loads(text)
        assert cfg["current-context"] == "podc-local"
        assert cfg["contexts"][0]["context"]["namespace"] == "default"
        assert cfg["clusters"][0]["cluster"]["server"].startswith("http://127.0.0.1:")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    assert proc.returncode == 0


@pytest.mark.parametrize("argv,needle", [
    (["--node", "n1,gpu=2"], "unknown key 'gpu'"),
    (["--node", "n1,taint/x=y"], "needs ':NoSchedule'"),
    (["--default-outcome", "explode"], "unknown emulator outcome 'explode'"),
    (["--mode", "docker"], "invalid choice"),
    (["--node", "???"], "--node '???': invalid node name '???'"),
    (["--node", "Node_1"], "invalid node name 'Node_1'"),
    (["--node", "n1,cpu=abc"], "cpu='abc' is not a quantity"),
    (["--node", "n1,memory=-1Gi"], "memory='-1Gi' must be a non-negative quantity"),
    (["--node", "n1,pods=1.5"], "pods='1.5' must be a non-negative whole number"),
    (["--node", "n1,label/???=x"], "invalid label key '???'"),
    (["--node", "n1,label/pool=a b"], "invalid label value 'a b'"),
    (["--node", "n1,taint/bad key=v:NoSchedule"], "invalid taint key 'bad key'"),
    (["--node", "n1,example.com/bad res!=1"], "invalid resource name"),
    (["--node", "n1,cpu"], "'cpu' is not KEY=VALUE"),
    (["--service-account", "???"], "--service-account '???': invalid service account name"),
    (["--namespace", "Team A"], "--namespace 'Team A': invalid namespace"),
    (["--default-outcome", "exit:code=x"], "--default-outcome 'exit:code=x': bad emulator outcome option"),
    (["--default-outcome", "exit"], "'exit' needs a code"),
    (["--env", "NOVALUE"], "--env 'NOVALUE': expected NAME=VALUE"),
])
def test_usage_errors_exit_2(capsys, argv, needle):
    assert main(argv) == 2
    assert needle in capsys.readouterr().err


def test_malformed_node_through_podc_is_a_usage_error():
    proc = subprocess.run([sys.executable, "-c", "import sys; from podc.cli.main import main; sys.exit(main())",
                           "local-cluster", "--node", "???"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    assert "invalid node name '???'" in proc.stderr and "expected NAME[,cpu=8]" in proc.stderr


def test_parse_node():
    node = parse_node("gpu-1,cpu=8,memory=32Gi,nvidia.com/gpu=2,label/pool=gpu,taint/gpu=true:NoSchedule")
    assert node.name == "gpu-1" and node.labels == {"pool": "gpu"}
    assert node.allocatable == {"cpu": "8", "memory": "32Gi", "nvidia.com/gpu": "2"}
    assert node.taints == [{"key": "gpu", "value": "true", "effect": "NoSchedule"}]


def test_imports_stay_light():
    code = ("import sys, podc; assert not [m for m in sys.modules if m.startswith('podc.testing')]; "
            "import podc.testing; assert 'kubernetes' not in sys.modules and 'pydantic' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
