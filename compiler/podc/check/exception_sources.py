"""Where a project's exceptions come from, and who may declare them.

The job author a policy guards must not be able to switch it off, so by default exceptions are
read only from ``podc.yaml`` (``policies.exceptions``) and from the exception files it lists
(``policies.exceptionFiles``: files a platform team can own through CODEOWNERS)::

    policies:
      exceptionFiles: [security/exceptions.yaml]     # each holds `exceptions: [...]`
      layerExceptions: [best-practices]              # opt in: layers may except these policies
                                                     # (or policy/rule ids); true = any; default false
      exceptionExpiry: {required: true, maxDays: 90} # every exception expires, at most 90 days ahead

An ``exceptions:`` block in a layer file is an error at its line unless ``layerExceptions`` allows
it, and each of its entries must name a policy (or rule) the opt-in lists.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Mapping

from podc._record import replace
from podc.check.exceptions import ExceptionRules, PolicyException, canonical_policy, layer_may_except, read_exceptions
from podc.errors import Diagnostics, Pos, did_you_mean
from podc.tree import MapNode, Node, SeqNode

__all__ = ["exception_rules", "read_exception_files", "layer_exceptions", "validate_layer_opt_in",
           "target_override_exceptions"]

PosOf = Callable[[tuple], Pos]


def exception_rules(data: Mapping[str, Any], pos_of: PosOf, diags: Diagnostics) -> ExceptionRules:
    """The governance keys of ``policies`` (shapes are already checked by the project model)."""
    layers = data.get("layerExceptions", False)
    if isinstance(layers, list):
        layers = tuple(_canonical(str(x)) for x in layers)
    elif not isinstance(layers, bool):
        diags.add("policy.layer-exceptions", "layerExceptions is true, false or a list of policy or policy/rule ids",
                  pos_of(("layerExceptions",)))
        layers = False
    expiry = data.get("exceptionExpiry") or {}
    return ExceptionRules(layers=layers, layers_pos=pos_of(("layerExceptions",)),
                          require_expiry=expiry.get("required") is True, max_days=expiry.get("maxDays"),
                          expiry_pos=pos_of(("exceptionExpiry",)))


def _canonical(entry: str) -> str:
    policy, slash, rule = entry.partition("/")
    return canonical_policy(policy) + slash + rule


def validate_layer_opt_in(rules: ExceptionRules, known: dict[str, list[str]], diags: Diagnostics) -> None:
    """Every ``layerExceptions`` entry names a known policy or policy/rule."""
    if isinstance(rules.layers, bool):
        return
    for i, entry in enumerate(rules.layers):
        policy, _, rule = entry.partition("/")
        if policy not in known:
            guess = did_you_mean(policy, known)
            diags.add("policy.layer-exceptions", f"unknown policy {policy!r} in layerExceptions", rules.layers_pos,
                      hint=f"did you mean {guess!r}?" if guess else "policies: " + ", ".join(sorted(known)))
        elif rule and known[policy] and rule not in known[policy]:
            guess = did_you_mean(rule, known[policy])
            diags.add("policy.layer-exceptions", f"policy {policy!r} has no rule {rule!r} (layerExceptions)",
                      rules.layers_pos, hint=f"did you mean {guess!r}?" if guess else None)


def read_exception_files(files: Any, base: Path, roots: Any, pos_of: PosOf, diags: Diagnostics) -> list[PolicyException]:
    """The exceptions of every file in ``policies.exceptionFiles`` (relative to podc.yaml)."""
    from podc.errors import PodcError
    from podc.source.reader import load_single

    out: list[PolicyException] = []
    for i, rel in enumerate(files if isinstance(files, list) else []):
        where = pos_of(("exceptionFiles", i))
        path = Path(os.path.normpath(base / str(rel)))
        if roots is not None and not roots.admit(path, where, "exception file", str(rel), diags):
            continue
        if not path.is_file():
            diags.add("policy.missing-file", f"exception file not found: {rel}", where,
                      hint="paths in policies.exceptionFiles are relative to podc.yaml")
            continue
        try:
            node = load_single(path, layer=str(rel))
        except PodcError as e:
            diags.extend(e.diagnostics)
            continue
        out.extend(_file_exceptions(node, diags))
    return out


def _file_exceptions(node: Node, diags: Diagnostics) -> list[PolicyException]:
    if isinstance(node, SeqNode):
        return read_exceptions(node, diags)
    if not isinstance(node, MapNode) or set(node.items) - {"exceptions"}:
        diags.add("exception.file-shape", "an exception file holds `exceptions:` (a list of exceptions) and "
                  "nothing else", node.origin.pos, hint="exceptions: [{policy: …, rule: …, reason: …, expires: …}]")
        return []
    return read_exceptions(node.items.get("exceptions"), diags)


def target_override_exceptions(project_node: Node | None, diags: Diagnostics,
                               profile: str | None = None) -> list[PolicyException]:
    """``exceptions:`` in a target's inline layers in podc.yaml (the platform team's file, so they
    are allowed): ``overrides``, and ``profiles.<profile>`` for the compiled ``profile``. They
    apply to that target only; those of other profiles are read (their errors reported) but not
    applied."""
    import fnmatch

    targets = project_node.items.get("targets") if isinstance(project_node, MapNode) else None
    out: list[PolicyException] = []
    for name, target in (targets.items.items() if isinstance(targets, MapNode) else []):
        if not isinstance(target, MapNode):
            continue
        profiles = target.items.get("profiles")
        inline = [(target.items.get("overrides"), True)]
        if isinstance(profiles, MapNode):
            inline.extend((layer, pname == profile) for pname, layer in profiles.items.items())
        for layer, applies in inline:
            if not isinstance(layer, MapNode):
                continue
            for exc in read_exceptions(layer.items.get("exceptions"), diags):
                if applies and (exc.targets is None or any(fnmatch.fnmatchcase(name, t) for t in exc.targets)):
                    out.append(replace(exc, targets=(name,)))
    return out


def layer_exceptions(jobs: list, project_file: str, layers: Mapping[str, Any] | None, rules: ExceptionRules,
                     diags: Diagnostics) -> list[PolicyException]:
    """``exceptions:`` lists in the layer files the targets were built from, read from the
    compile's loaded layers (``CompileResult.layers``), not from the files again; each one the
    project does not allow is an error at its line."""
    if not layers:
        return []
    project_abs = os.path.abspath(project_file)
    out = []
    for path in sorted({s for job in jobs for s in getattr(job, "sources", ()) if s in layers}):
        if os.path.abspath(path) == project_abs:
            continue
        layer = layers[path]
        found, notes = _exceptions_of(layer)
        diags.extend(notes)
        if rules.layers is False:
            if "exceptions" in layer.node.items:
                diags.add("exception.not-allowed", f"layer {layer.name} declares exceptions, which this project does "
                          "not allow in layers", layer.node.key_pos.get("exceptions", layer.node.origin.pos),
                          hint="exceptions belong in podc.yaml (policies.exceptions) or a file it lists "
                               "(policies.exceptionFiles); a project can opt in with policies.layerExceptions",
                          related=_where(rules.layers_pos))
            continue
        for exc in found:
            if layer_may_except(rules, exc):
                out.append(replace(exc))  # a fresh object: apply_exceptions counts uses on it
            else:
                allowed = ", ".join(rules.layers) if not isinstance(rules.layers, bool) else "none"
                diags.add("exception.not-allowed", f"layer {layer.name} may not except {exc.policy}/{exc.rule}",
                          exc.pos, hint=f"podc.yaml lets layers except only: {allowed} (policies.layerExceptions); "
                          "ask the platform team to add the exception to podc.yaml or an exception file",
                          related=_where(rules.layers_pos))
    return out


def _where(pos: Pos | None) -> tuple:
    return ((pos, "layerExceptions is set here"),) if pos is not None and pos.file and pos.line else ()


def _exceptions_of(layer: Any) -> tuple[tuple, tuple]:
    """(exceptions, diagnostics) of one loaded layer, read once per loaded layer: a Dagster run
    checks one Job per step against the same layers."""
    cached = getattr(layer, "_podc_exceptions", None)
    if cached is None:
        local = Diagnostics()
        found = read_exceptions(layer.node.items.get("exceptions"), local, layer=layer.name)
        cached = (tuple(found), tuple(local.items))
        try:
            layer._podc_exceptions = cached
        except AttributeError:
            pass
    return cached
