"""Process mode: run a container's ``command`` + ``args`` as a local subprocess.

* env = PATH + ``LocalCluster(process_env=..., pass_env=[names])`` + the container's env/envFrom
  resolved from the store; the parent's environment (its credentials too) only with
  ``inherit_env=True``
  (Secrets base64-decoded, ConfigMaps, fieldRef, resourceFieldRef);
* ``$(VAR)`` in command/args is expanded from the container env, as Kubernetes does;
* volumes become temporary directories (secret/configMap ones populated with their files); the
  process cannot see them at their ``mountPath``, so each mount is exposed as an env var
  ``PODC_EMULATOR_MOUNT_<MOUNT_PATH_UPPERCASED>`` (``/etc/db`` -> ``PODC_EMULATOR_MOUNT_ETC_DB``);
* stdout and stderr are interleaved into the container log; the exit code becomes the
  terminated state (killed by signal N -> 128+N);
* ``workingDir`` is used when it exists on this machine, else the current directory.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from podc.testing._util import dig
from podc.testing.logbuffer import LogBuffer
from podc.testing.podenv import ConfigError, expand, resolve_env, volume_files
from podc.testing.store import Store


def mount_env_name(mount_path: str) -> str:
    return "PODC_EMULATOR_MOUNT_" + re.sub(r"[^A-Za-z0-9]+", "_", mount_path).strip("_").upper()


class _Proc:
    def __init__(self, popen: subprocess.Popen[bytes], reader: threading.Thread) -> None:
        self.popen = popen
        self.reader = reader


class ProcessRunner:
    def __init__(self, store: Store, volume_root: str, process_env: dict[str, str], inherit_env: bool,
                 max_grace_seconds: float) -> None:
        self.store = store
        self.volume_root = volume_root
        self.process_env = process_env
        self.inherit_env = inherit_env
        self.max_grace = max_grace_seconds
        self._procs: dict[str, dict[str, _Proc]] = {}
        self._lock = threading.Lock()

    def _volumes(self, pod: dict[str, Any]) -> dict[str, str]:
        uid = pod["metadata"]["uid"]
        paths: dict[str, str] = {}
        for vol in dig(pod, "spec", "volumes", default=[]):
            if "hostPath" in vol:
                paths[vol["name"]] = vol["hostPath"].get("path", "/")
                continue
            path = os.path.join(self.volume_root, uid, vol["name"])
            os.makedirs(path, exist_ok=True)
            for rel, content in volume_files(self.store, pod, vol).items():
                target = os.path.join(path, rel)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "w", encoding="utf-8") as f:
                    f.write(content)
            paths[vol["name"]] = path
        return paths

    def _env(self, pod: dict[str, Any], container: dict[str, Any], volumes: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        base = dict(os.environ) if self.inherit_env else {"PATH": os.environ.get("PATH", "")}
        # Commands like `python` or `dagster` resolve to this interpreter's environment even when
        # it was started as .venv/bin/python without activating the venv.
        bindir = os.path.dirname(sys.executable)
        if bindir not in base.get("PATH", "").split(os.pathsep):
            base["PATH"] = os.pathsep.join(p for p in (bindir, base.get("PATH", "")) if p)
        base.update(self.process_env)
        node = self.store.peek("nodes", None, dig(pod, "spec", "nodeName", default=""))
        k8s_env = resolve_env(self.store, pod, container, dig(node, "status", "allocatable", default={}))
        base["HOSTNAME"] = pod["metadata"]["name"]
        for mount in container.get("volumeMounts") or []:
            if mount.get("name") in volumes:
                host = volumes[mount["name"]]
                if mount.get("subPath"):
                    host = os.path.join(host, mount["subPath"])
                base[mount_env_name(mount["mountPath"])] = host
        base.update(k8s_env)
        return base, k8s_env

    def start_pod(self, pod: dict[str, Any], logs: dict[str, LogBuffer], pod_ip: str) -> str | None:
        """Start every container; an error message (the kubelet's StartError) on failure."""
        uid = pod["metadata"]["uid"]
        pod = dict(pod, status=dict(pod.get("status") or {}, podIP=pod_ip))
        volumes = self._volumes(pod)
        procs: dict[str, _Proc] = {}
        for c in dig(pod, "spec", "containers", default=[]):
            try:
                env, k8s_env = self._env(pod, c, volumes)
            except ConfigError as e:
                return str(e)
            argv = [expand(str(a), k8s_env) for a in (c.get("command") or []) + (c.get("args") or [])]
            if not c.get("command"):
                return ("podc emulator (process mode): container has no command; the image entrypoint is unknown "
                        "here, so set command explicitly")
            cwd = c.get("workingDir") if c.get("workingDir") and os.path.isdir(c["workingDir"]) else None
            try:
                popen = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, start_new_session=True)
            except OSError as e:
                self._kill(procs, 0)
                return (f"failed to create containerd task: failed to create shim task: OCI runtime create failed: "
                        f'runc create failed: unable to start container process: exec: "{argv[0]}": {e.strerror}: unknown')
            buf = logs[c["name"]]
            reader = threading.Thread(target=self._pump, args=(popen, buf), name=f"podc-emulator-log-{c['name']}",
                                      daemon=True)
            reader.start()
            procs[c["name"]] = _Proc(popen, reader)
        with self._lock:
            self._procs[uid] = procs
        return None

    @staticmethod
    def _pump(popen: subprocess.Popen[bytes], buf: LogBuffer) -> None:
        assert popen.stdout is not None
        fd = popen.stdout.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf.write(chunk)
        popen.stdout.close()

    def poll_pod(self, uid: str) -> dict[str, int] | None:
        """Exit codes once every container exited and its output was read; None while running."""
        with self._lock:
            procs = self._procs.get(uid)
        if procs is None:
            return None
        results = {}
        for name, proc in procs.items():
            code = proc.popen.poll()
            if code is None or proc.reader.is_alive():
                return None
            results[name] = 128 - code if code < 0 else code
        return results

    def _kill(self, procs: dict[str, _Proc], grace: float) -> None:
        for proc in procs.values():
            if proc.popen.poll() is None:
                try:
                    os.killpg(proc.popen.pid, signal.SIGTERM if grace > 0 else signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        deadline = time.monotonic() + min(grace, self.max_grace)
        for proc in procs.values():
            remaining = deadline - time.monotonic()
            try:
                proc.popen.wait(timeout=max(0.0, remaining))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.popen.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                proc.popen.wait()

    def kill_pod(self, uid: str, grace: float) -> None:
        with self._lock:
            procs = self._procs.pop(uid, None)
        if procs:
            self._kill(procs, grace)

    def kill_all(self) -> None:
        with self._lock:
            uids = list(self._procs)
        for uid in uids:
            self.kill_pod(uid, 0)
