"""Checking a podc project: compile its targets in memory, turn each into a Document located
through provenance, and read the project's ``policies`` section::

    policies:
      pss: restricted:v1.33          # or baseline, or none
      bestPractices: {disable: [image-digest], requiredLabels: [team]}   # or true / false
      custom: [policies/corp.yaml]   # relative to podc.yaml
      admission: [cluster/policies/] # ValidatingAdmissionPolicies (files or folders), relative to podc.yaml
      exceptions: [...]              # see podc.check.exceptions
      exceptionFiles: [...]          # who may declare exceptions: podc.check.exception_sources
      layerExceptions: false
      exceptionExpiry: {required: true, maxDays: 90}
      failOn: error                  # error | warning | info

Layers may carry their own ``exceptions:`` list only when the project opts in
(``layerExceptions``); those apply to targets built from that layer.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from podc._record import record
from podc.check.documents import Document, resolve
from podc.check.engine import CheckOptions, CheckResult, SEVERITY_RANK, check_documents, known_rule_ids
from podc.check.exception_sources import (exception_rules, layer_exceptions, read_exception_files,
                                          target_override_exceptions, validate_layer_opt_in)
from podc.check.exceptions import govern_expiry, read_exceptions
from podc.check.practices import PracticesConfig
from podc.errors import Diagnostic, Diagnostics, Pos, did_you_mean
from podc.render.compiled import DEFAULTS_LAYER
from podc.tree import MapNode, Node, SeqNode, to_plain

__all__ = ["CliOverrides", "project_options", "documents_from_jobs", "check_jobs", "check_compiled", "settle_fail_on"]

_POLICY_KEYS = ("pss", "bestPractices", "custom", "admission", "exceptions", "exceptionFiles", "layerExceptions",
                "exceptionExpiry", "failOn")


@record
class CliOverrides:
    """Command-line settings; None means "use the project's"."""

    pss: str | None = None
    kubernetes_version: str | None = None
    policy_files: tuple[str, ...] = ()
    admission_paths: tuple[str, ...] = ()
    fail_on: str | None = None
    today: Any = None


def _node_at(node: Node | None, keys: tuple) -> Node | None:
    for k in keys:
        if isinstance(node, MapNode):
            node = node.items.get(k)
        elif isinstance(node, SeqNode) and isinstance(k, int) and k < len(node.items):
            node = node.items[k]
        else:
            return None
    return node


def _pos_in(section: MapNode | None, fallback: Pos):
    def pos_of(keys: tuple) -> Pos:
        parent = _node_at(section, keys[:-1]) if keys else None
        if keys and isinstance(parent, MapNode) and keys[-1] in parent.key_pos:
            return parent.key_pos[keys[-1]]
        node = _node_at(section, keys)
        return node.origin.pos if node is not None else (section.origin.pos if section is not None else fallback)
    return pos_of


def project_options(project: Any, cli: CliOverrides, diags: Diagnostics, profile: str | None = None) -> CheckOptions:
    from podc.check.custom import load_policy_files
    from podc.check.practices import config_from_project

    root_node: MapNode | None = getattr(project, "node", None)
    project_file = str(getattr(project, "path", "podc.yaml"))
    base = Path(getattr(project, "root", Path(project_file).parent))
    section = _node_at(root_node, ("policies",))
    if section is not None and not isinstance(section, MapNode):
        diags.add("policy.shape", "policies must be a mapping", section.origin.pos)
        section = None
    pos_of = _pos_in(section, Pos(project_file))
    data = to_plain(section) if section is not None else {}
    for key in data:
        if key not in _POLICY_KEYS:
            guess = did_you_mean(key, _POLICY_KEYS)
            diags.add("policy.unknown-key", f"unknown key {key!r} in policies", pos_of((key,)),
                      hint=f"did you mean {guess!r}?" if guess else "keys: " + ", ".join(_POLICY_KEYS))
    opts = CheckOptions()
    opts.pss = cli.pss if cli.pss is not None else str(data.get("pss", "restricted"))
    opts.kubernetes_version = cli.kubernetes_version or getattr(project, "kubernetes_version", None)
    opts.practices = config_from_project(data.get("bestPractices"), pos_of_sub(pos_of, "bestPractices"), diags)
    fail_on = cli.fail_on or data.get("failOn", "error")
    if fail_on not in SEVERITY_RANK:
        diags.add("policy.fail-on", f"failOn must be error, warning or info, got {fail_on!r}", pos_of(("failOn",)))
        fail_on = "error"
    opts.fail_on = fail_on
    custom = data.get("custom") or []
    files: list[str] = []
    roots = getattr(project, "roots", None)
    for i, rel in enumerate(custom if isinstance(custom, list) else []):
        path = base / str(rel)
        if roots is not None and not roots.admit(path, pos_of(("custom", i)), "policy file", str(rel), diags):
            continue
        if not path.is_file():
            diags.add("policy.missing-file", f"policy file not found: {rel}", pos_of(("custom", i)),
                      hint="paths in policies.custom are relative to podc.yaml")
        else:
            files.append(os.fspath(path))
    files.extend(cli.policy_files)
    opts.custom = load_policy_files(files, diags)
    opts.admission = _admission(data.get("admission"), base, pos_of, cli, diags)
    opts.exceptions = read_exceptions(_node_at(section, ("exceptions",)), diags)
    opts.exceptions.extend(target_override_exceptions(root_node, diags, profile))
    opts.exceptions.extend(read_exception_files(data.get("exceptionFiles"), base, getattr(project, "roots", None),
                                                pos_of, diags))
    opts.exception_rules = exception_rules(data, pos_of, diags)
    opts.today = cli.today
    return opts


def _admission(listed: Any, base: Path, pos_of, cli: CliOverrides, diags: Diagnostics):
    """``policies.admission`` (relative to podc.yaml) plus ``--admission`` paths."""
    if not listed and not cli.admission_paths:
        return None  # the admission engine (CEL included) costs ~17 ms to import: only when used
    from podc.check.admission import expand_paths, load_admission

    paths: list[str] = []
    for i, rel in enumerate(listed if isinstance(listed, list) else []):
        paths.extend(expand_paths([os.fspath(base / str(rel))], diags, pos_of(("admission", i))))
    return load_admission(paths + list(cli.admission_paths), diags)


def pos_of_sub(pos_of, key: str):
    return lambda keys: pos_of((key,) + tuple(keys))


def documents_from_jobs(jobs: list, project: Any) -> list[Document]:
    project_file = str(getattr(project, "path", "podc.yaml"))
    docs: list[Document] = []
    for index, job in enumerate(jobs):
        provenance = getattr(job, "provenance", {}) or {}
        layers = provenance.layers() if hasattr(provenance, "layers") else frozenset(o.layer for o in provenance.values())
        root = provenance.get("")
        docs.append(Document(file=project_file, index=index, manifest=job.manifest, locator=_job_locator(job),
                             target=job.target, pos=root.pos if root is not None else Pos(project_file),
                             layers=layers))
    return docs


def _job_locator(job):
    key_pos = getattr(job, "key_pos", None) or {}
    provenance = getattr(job, "provenance", {}) or {}

    def locate(pointer: str):
        # Walk up to the nearest pointer a layer set; show it at its key, as for manifests.
        # A field nobody set is the user's to add: skip ancestors only podc's built-in defaults
        # created (pointing into podc's own install is no help) and fall back to where the target
        # is named (its metadata.name comes from the target's key in podc.yaml).
        p = pointer
        leaf = not isinstance(resolve(job.manifest, pointer), (dict, list))
        while p and (p not in provenance or ((p != pointer or not leaf) and _is_default(provenance[p]))):
            p = p[: p.rfind("/")]
        if not p and (p not in provenance or _is_default(provenance[p])) and "/metadata/name" in provenance:
            p = "/metadata/name"
        origin = provenance.get(p) or job.locate(pointer)
        if origin is None:
            return Pos(), ()
        related = tuple((pos, f"overrides the value set by {layer}") for layer, pos in
                        (_pair(o) for o in (getattr(origin, "overridden", ()) or ())))
        kp = key_pos.get(p)
        pos = kp if kp is not None and kp.file == origin.pos.file else origin.pos
        return pos, related
    return locate


def _is_default(origin) -> bool:
    return getattr(origin, "layer", None) == DEFAULTS_LAYER


def _pair(o) -> tuple[str, Pos]:
    if isinstance(o, tuple):
        return o[0], o[1]
    return o.layer, o.pos


def check_jobs(jobs: list, project: Any, cli: CliOverrides | None = None,
               notices: Diagnostics | None = None, layers: Mapping[str, Any] | None = None,
               profile: str | None = None) -> CheckResult:
    """Check compiled targets against the project's policies; ``layers`` (``CompileResult.layers``)
    supplies the layer files' ``exceptions:``, ``profile`` (``CompileResult.profile``) which
    target profile layers' ``exceptions:`` apply."""
    diags = notices if notices is not None else Diagnostics()
    opts = project_options(project, cli or CliOverrides(), diags, profile)
    rules = opts.exception_rules
    opts.exceptions.extend(layer_exceptions(jobs, str(getattr(project, "path", "")), layers, rules, diags))
    if not diags.errors:
        validate_layer_opt_in(rules, known_rule_ids(opts.custom), diags)
        govern_expiry(opts.exceptions, rules, opts.today, diags)
    diags.raise_if_errors()
    return check_documents(documents_from_jobs(jobs, project), opts, diags)


def check_schema(jobs: list, project: Any) -> CheckResult:
    """The Kubernetes schema and API-server rules only (what ``podc compile --no-policy`` still
    runs): no policy pack, no exception. A Job these reject, the API server rejects too."""
    diags = Diagnostics()
    opts = CheckOptions(pss=None, kubernetes_version=getattr(project, "kubernetes_version", None),
                        practices=PracticesConfig(enabled=False))
    return check_documents(documents_from_jobs(jobs, project), opts, diags)


def check_compiled(jobs: list, project: Any, layers: Mapping[str, Any] | None = None,
                   policies: bool = True, profile: str | None = None) -> list[Diagnostic]:
    """The check step of a compile (``podc.compile_project(check=True)``, ``podc compile``): the project's policies on its compiled
    targets, after exceptions, as diagnostics located at the layer lines (code
    ``check.<policy>.<rule>``, the violation's own severity). Expired exceptions come back as
    warnings at the exception. When the project's ``failOn`` is warning or info and something at
    that level fired, one extra error (``check.failed``) at the ``failOn`` key fails the compile.

    With ``policies=False`` only the schema and API-server rules run (never skipped: the API
    server would reject what they reject). Suppressed violations come back as ``info``
    diagnostics (code ``check.suppressed``) naming the exception, so a compile can count them."""
    result = check_jobs(jobs, project, layers=layers, profile=profile) if policies else check_schema(jobs, project)
    out = [n for n in result.notices if n.severity != "info"]
    for doc in result.documents:
        for s in doc.suppressed:
            out.append(suppressed_diagnostic(doc, s))
        for v in doc.violations:
            subject = f"target {doc.target}" if doc.target is not None else f"{doc.kind}/{doc.name}"
            out.append(Diagnostic(f"check.{v.policy}.{v.rule}", f"{v.message} ({subject})", v.pos, v.hint,
                                  v.path or "/", v.related, v.severity))
    if result.failed and result.fail_on != "error":
        out.append(Diagnostic("check.failed", f"policy findings at or above failOn={result.fail_on}",
                              _fail_on_pos(project), "fix them, add an exception, or raise policies.failOn"))
    return settle_fail_on(out)


def settle_fail_on(findings: list[Diagnostic]) -> list[Diagnostic]:
    """The ``failOn`` error (``check.failed``) kept once, and only when no other error already fails
    the run. ``podc compile`` also applies it to the findings its worker processes return."""
    marks = [d for d in findings if d.code == "check.failed"]
    out = [d for d in findings if d.code != "check.failed"]
    if marks and not any(d.severity == "error" for d in out):
        out.append(marks[0])
    return out


def suppressed_diagnostic(doc: Document, s: Any) -> Diagnostic:
    """An ``info`` diagnostic (code ``check.suppressed``) for a violation an exception accepted."""
    v, exc = s.violation, s.exception
    subject = f"target {doc.target}" if doc.target is not None else f"{doc.kind}/{doc.name}"
    return Diagnostic("check.suppressed", f"{v.policy}/{v.rule} suppressed by the exception at {exc.pos}: "
                      f"{v.message} ({subject})", v.pos, f"reason: {exc.reason}", v.path or "/",
                      ((exc.pos, "the exception"),), "info")


def _fail_on_pos(project: Any) -> Pos:
    node = getattr(project, "node", None)
    section = node.items.get("policies") if node is not None and hasattr(node, "items") else None
    if section is not None and hasattr(section, "key_pos") and "failOn" in section.key_pos:
        return section.key_pos["failOn"]
    return Pos(str(getattr(project, "path", "podc.yaml")))
