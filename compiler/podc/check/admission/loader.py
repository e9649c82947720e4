"""Load ValidatingAdmissionPolicies, their bindings, param objects and Namespaces from files and
folders, validated as the API server validates them (after its defaulting): every problem is a
located error (``admission.*``), every expression is compiled and cost-checked at load.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from podc.check.admission.model import Binding, ParamObject, Policy
from podc.check.admission.reading import read_binding, read_policy
from podc.errors import Diagnostics, PodcError, Pos
from podc.tree import MapNode, Node, ScalarNode, SeqNode, to_plain

__all__ = ["load_admission_inputs", "AdmissionInputs", "expand_paths"]

_SUFFIXES = (".yaml", ".yml", ".json")
_ADMISSION_GROUP = re.compile(r"admissionregistration\.k8s\.io/v1(beta1|alpha1)?\Z")


class AdmissionInputs:
    """Everything read from ``--admission`` paths and ``policies.admission``."""

    def __init__(self) -> None:
        self.policies: dict[str, Policy] = {}
        self.bindings: list[Binding] = []
        self.namespaces: dict[str, dict] = {}
        self.params: list[ParamObject] = []


def expand_paths(paths: list[str], diags: Diagnostics, where: Pos | None = None) -> list[str]:
    """Files as given; folders as their *.yaml / *.yml / *.json files (sorted, recursive)."""
    out: list[str] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(str(f) for f in p.rglob("*") if f.is_file() and f.suffix in _SUFFIXES)
            if not found:
                diags.add("admission.empty-folder", f"{raw}: no .yaml/.yml/.json files in this folder", where or Pos(raw))
            out.extend(found)
        elif p.is_file():
            out.append(str(p))
        else:
            diags.add("admission.missing-file", f"admission policy file not found: {raw}", where or Pos(raw),
                      hint="pass a file or a folder of ValidatingAdmissionPolicy manifests")
    return out


def load_admission_inputs(paths: list[str], diags: Diagnostics) -> AdmissionInputs:
    from podc.source import load_file

    inputs = AdmissionInputs()
    seen_bindings: dict[str, Pos] = {}
    for path in paths:
        try:
            roots = load_file(path, layer=f"admission:{path}")
        except PodcError as e:
            diags.extend(e.diagnostics)
            continue
        for root in roots:
            for node in _objects(root):
                _read_object(node, os.fspath(path), inputs, seen_bindings, diags)
    _attach_bindings(inputs, diags)
    return inputs


def _objects(root: Node):
    """The documents of a file, with `kind: List` unpacked."""
    if isinstance(root, MapNode):
        kind = root.items.get("kind")
        items = root.items.get("items")
        if isinstance(kind, ScalarNode) and kind.value == "List" and isinstance(items, SeqNode):
            for item in items.items:
                yield from _objects(item)
            return
    if root is not None and not (isinstance(root, ScalarNode) and root.value is None):
        yield root


def _read_object(node: Node, file: str, inputs: AdmissionInputs, seen_bindings: dict[str, Pos],
                 diags: Diagnostics) -> None:
    if not isinstance(node, MapNode):
        diags.add("admission.not-an-object", "expected a Kubernetes object (a mapping with apiVersion and kind)",
                  node.origin.pos)
        return
    data = to_plain(node)
    api_version, kind = data.get("apiVersion"), data.get("kind")
    if not isinstance(kind, str) or not isinstance(api_version, str):
        diags.add("admission.missing-kind", "object has no apiVersion or kind", node.origin.pos,
                  hint="admission inputs are ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding, "
                       "Namespace and the param objects bindings refer to (ConfigMaps, custom resources)")
        return
    is_admission = _ADMISSION_GROUP.match(api_version) is not None
    if is_admission and kind == "ValidatingAdmissionPolicy":
        policy = read_policy(node, file, diags)
        if policy is None:
            return
        if policy.name in inputs.policies:
            diags.add("admission.duplicate", f"ValidatingAdmissionPolicy {policy.name!r} is defined twice", policy.pos,
                      related=[(inputs.policies[policy.name].pos, "first defined here")])
            return
        inputs.policies[policy.name] = policy
    elif is_admission and kind == "ValidatingAdmissionPolicyBinding":
        binding = read_binding(node, file, diags)
        if binding is None:
            return
        if binding.name in seen_bindings:
            diags.add("admission.duplicate", f"ValidatingAdmissionPolicyBinding {binding.name!r} is defined twice",
                      binding.pos, related=[(seen_bindings[binding.name], "first defined here")])
            return
        seen_bindings[binding.name] = binding.pos
        inputs.bindings.append(binding)
    elif is_admission:
        diags.add("admission.unsupported-kind", f"{kind} is not evaluated offline (only ValidatingAdmissionPolicy "
                  "and its bindings are)", node.origin.pos, severity="info")
    elif kind == "Namespace" and api_version == "v1":
        name = (data.get("metadata") or {}).get("name") if isinstance(data.get("metadata"), dict) else None
        if not isinstance(name, str) or not name:
            diags.add("admission.namespace-name", "a Namespace needs metadata.name", node.origin.pos)
            return
        inputs.namespaces[name] = data
    else:
        param = _param_object(data, node, diags)
        if param is not None:
            inputs.params.append(param)


def _param_object(data: dict, node: MapNode, diags: Diagnostics) -> ParamObject | None:
    meta = data.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    if not isinstance(name, str) or not name:
        diags.add("admission.param-name", f"{data['kind']} needs metadata.name to be used as a policy param",
                  node.origin.pos)
        return None
    labels = meta.get("labels") if isinstance(meta.get("labels"), dict) else {}
    namespace = meta.get("namespace") if isinstance(meta.get("namespace"), str) else ""
    return ParamObject(data["apiVersion"], data["kind"], name, namespace, labels, data, node.origin.pos)


def _attach_bindings(inputs: AdmissionInputs, diags: Diagnostics) -> None:
    for binding in inputs.bindings:
        policy = inputs.policies.get(binding.policy_name)
        if policy is None:
            from podc.errors import did_you_mean

            guess = did_you_mean(binding.policy_name, inputs.policies)
            diags.add("admission.unknown-policy", f"binding {binding.name!r} refers to ValidatingAdmissionPolicy "
                      f"{binding.policy_name!r}, which is not among the admission inputs; it is not evaluated",
                      binding.pos, severity="warning", hint=f"did you mean {guess!r}?" if guess else None)
            continue
        policy.bindings.append(binding)
    for policy in inputs.policies.values():
        if not policy.bindings:
            diags.add("admission.unbound-policy", f"ValidatingAdmissionPolicy {policy.name!r} has no binding among "
                      "the admission inputs; it is not evaluated (the API server needs a binding too)",
                      policy.pos, severity="info")
