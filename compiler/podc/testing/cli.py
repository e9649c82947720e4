"""``python -m podc.testing`` / ``podc local-cluster``: run the emulator until interrupted."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from podc.kube import names
from podc.kube.quantity import parse_quantity
from podc.testing.api_errors import ApiError
from podc.testing.cluster import LocalCluster, SimNode
from podc.testing.kubeconfig import kubeconfig_text

_NODE_HELP = (
    "a simulated node: NAME[,cpu=8][,memory=32Gi][,pods=110][,label/KEY=VALUE][,taint/KEY=VALUE:EFFECT]; "
    "repeatable (default: one node 'emulator-node-1')"
)


class UsageError(Exception):
    pass


_NODE_FORM = "expected NAME[,cpu=8][,memory=32Gi][,pods=110][,label/KEY=VALUE][,taint/KEY=VALUE:EFFECT]"


def _node_error(text: str, problem: str) -> UsageError:
    return UsageError(f"--node {text!r}: {problem}; {_NODE_FORM}")


def _require(errs: list[str], text: str, what: str, value: str) -> None:
    """A usage error when a Kubernetes name/value check found problems (the API server would refuse it)."""
    if errs:
        raise _node_error(text, f"invalid {what} {value!r}: {errs[0]}")


def parse_node(text: str) -> SimNode:
    name, *items = [p.strip() for p in text.split(",")]
    if not name:
        raise UsageError(f"--node {text!r}: the node needs a name first, e.g. 'gpu-1,cpu=8,label/pool=gpu'")
    _require(names.dns1123_subdomain(name), text, "node name", name)
    node = SimNode(name)
    for item in items:
        key, eq, value = item.partition("=")
        if not eq:
            raise _node_error(text, f"{item!r} is not KEY=VALUE")
        if key.startswith("label/"):
            _require(names.qualified_name(key[6:]), text, "label key", key[6:])
            _require(names.label_value(value), text, "label value", value)
            node.labels[key[6:]] = value
        elif key.startswith("taint/"):
            tvalue, colon, effect = value.rpartition(":")
            if not colon or effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
                raise UsageError(f"--node {text!r}: taint {item!r} needs ':NoSchedule', ':PreferNoSchedule' or ':NoExecute'")
            _require(names.qualified_name(key[6:]), text, "taint key", key[6:])
            if tvalue:
                _require(names.label_value(tvalue), text, "taint value", tvalue)
            node.taints.append({"key": key[6:], "value": tvalue, "effect": effect})
        elif key in ("cpu", "memory", "pods", "ephemeral-storage") or "/" in key:
            if "/" in key:
                _require(names.qualified_name(key), text, "resource name", key)
            try:
                amount = parse_quantity(value)
            except ValueError:
                raise _node_error(text, f"{key}={value!r} is not a quantity (like 8, 500m or 32Gi)") from None
            if amount < 0 or (key == "pods" and amount != int(amount)):
                raise _node_error(text, f"{key}={value!r} must be a non-negative "
                                  + ("whole number" if key == "pods" else "quantity"))
            node.allocatable[key] = value
        else:
            raise UsageError(f"--node {text!r}: unknown key {key!r} (cpu, memory, pods, label/KEY, taint/KEY, or an extended resource like nvidia.com/gpu)")
    return node


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="podc local-cluster",
                                description="Run the podc local Kubernetes API emulator until interrupted.")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: an ephemeral port)")
    p.add_argument("--kubeconfig", metavar="PATH",
                   help="write the kubeconfig here (default: print it on stdout)")
    p.add_argument("--mode", choices=("scripted", "process"), default="scripted",
                   help="scripted: outcomes from annotations; process: run container commands locally")
    p.add_argument("--node", action="append", default=[], metavar="SPEC", help=_NODE_HELP)
    p.add_argument("--service-account", action="append", default=[], metavar="NAME",
                   help="a service account that exists in every namespace (default: just 'default')")
    p.add_argument("--namespace", default="default", help="the kubeconfig context's namespace")
    p.add_argument("--default-outcome", metavar="SPEC", help="scripted outcome for pods nothing else matches")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="process mode: set this variable for every command (repeatable); commands otherwise "
                        "start with a clean environment (PATH and the pod's own env only)")
    p.add_argument("--pass-env", action="append", default=[], metavar="NAME",
                   help="process mode: copy this variable from podc's own environment (repeatable)")
    return p


def _env_pairs(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name:
            raise UsageError(f"--env {item!r}: expected NAME=VALUE")
        out[name] = value
    return out


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    try:
        nodes = [parse_node(n) for n in args.node] or None
        for account in args.service_account:
            if names.dns1123_subdomain(account):
                raise UsageError(f"--service-account {account!r}: invalid service account name: "
                                 f"{names.dns1123_subdomain(account)[0]}; expected a name like 'builder'")
        if names.dns1123_label(args.namespace):
            raise UsageError(f"--namespace {args.namespace!r}: invalid namespace: "
                             f"{names.dns1123_label(args.namespace)[0]}; expected a name like 'batch'")
        cluster = LocalCluster(mode=args.mode, nodes=nodes, port=args.port,
                               service_accounts=args.service_account or ("default",),
                               kubeconfig_path=args.kubeconfig, namespace=args.namespace,
                               default_outcome=args.default_outcome, process_env=_env_pairs(args.env),
                               pass_env=args.pass_env)
    except UsageError as e:
        print(f"podc local-cluster: error: {e}", file=sys.stderr)
        return 2
    except ValueError as e:  # the --default-outcome parser: its message lists the accepted forms
        print(f"podc local-cluster: error: --default-outcome {args.default_outcome!r}: {e}", file=sys.stderr)
        return 2
    try:
        cluster.start()
    except OSError as e:
        print(f"podc local-cluster: error: cannot listen on 127.0.0.1:{args.port}: {e.strerror}", file=sys.stderr)
        return 2
    except ApiError as e:  # the emulator refused a node or account the checks above let through
        print(f"podc local-cluster: error: {e}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:  # noqa: ARG001
        stop.set()
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        if args.kubeconfig:
            print(f"podc local-cluster: serving {cluster.url} ({args.mode} mode); kubeconfig written to "
                  f"{args.kubeconfig}\n  export KUBECONFIG={args.kubeconfig}", file=sys.stderr, flush=True)
        else:
            sys.stdout.write(kubeconfig_text(cluster.url, args.namespace, token=cluster.token))
            sys.stdout.flush()
            print(f"podc local-cluster: serving {cluster.url} ({args.mode} mode); press Ctrl-C to stop",
                  file=sys.stderr, flush=True)
        while not stop.wait(0.2):
            pass
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        cluster.stop()
    print("podc local-cluster: stopped", file=sys.stderr, flush=True)
    return 0
