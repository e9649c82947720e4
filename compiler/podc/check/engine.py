"""The policy engine: runs schema validation, Pod Security Standards, the best-practices pack
and custom policies over :class:`~podc.check.documents.Document` values, then applies
exceptions.

Inputs come from :mod:`podc.check.documents` (plain manifests) and :mod:`podc.check.projects`
(podc projects); reporters in :mod:`podc.check.report` turn a :class:`CheckResult` into text,
JSON, SARIF or JUnit. Compiled targets are checked through
:mod:`podc.check.projects`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from podc._record import field, record
from podc.check.custom import CustomPolicy
from podc.check.documents import Document, Violation, pod_parts
from podc.check.exceptions import PolicyException, apply_exceptions, validate_ids
from podc.check.practices import PracticesConfig
from podc.errors import Diagnostic, Diagnostics, PodcError

if TYPE_CHECKING:
    import datetime as _dt

__all__ = ["CheckOptions", "CheckResult", "check_documents", "check_manifests", 
           "SEVERITY_RANK", "PSS_POLICY", "SCHEMA_POLICY", "known_rule_ids"]

SEVERITY_RANK = {"error": 3, "warning": 2, "info": 1}
PSS_POLICY = "pod-security"
SCHEMA_POLICY = "schema"
PODC_POLICY = "podc"  # findings about the check itself (expired exceptions)


@record
class CheckOptions:
    pss: str | None = "restricted"          # "level[:version]"; None or "none" disables
    kubernetes_version: str | None = None   # None -> latest supported
    schema: bool = True
    practices: PracticesConfig = field(default_factory=PracticesConfig)
    custom: list[CustomPolicy] = field(default_factory=list)
    exceptions: list[PolicyException] = field(default_factory=list)
    fail_on: str = "error"
    today: _dt.date | None = None
    admission: Any = None                   # podc.check.admission.AdmissionChecker (ValidatingAdmissionPolicies)
    exception_rules: Any = None  # podc.check.exceptions.ExceptionRules (projects only)


@record
class CheckResult:
    documents: list[Document]
    notices: list[Diagnostic]   # not tied to one object: skipped kinds, expired exceptions
    suppressed: int
    fail_on: str
    kubernetes_version: str | None = None
    pss: str | None = None
    rules: dict[tuple[str, str], dict] = field(default_factory=dict)  # (policy, rule) -> metadata

    def violations(self) -> list[Violation]:
        return [v for d in self.documents for v in d.violations]

    def suppressed_violations(self) -> list:
        """Every (document, :class:`~podc.check.exceptions.Suppressed`): what exceptions accepted."""
        return [(d, s) for d in self.documents for s in d.suppressed]

    def counts(self) -> dict[str, int]:
        out = {"error": 0, "warning": 0, "info": 0}
        for v in self.violations():
            out[v.severity] = out.get(v.severity, 0) + 1
        return out

    @property
    def failed(self) -> bool:
        bar = SEVERITY_RANK[self.fail_on]
        return any(SEVERITY_RANK.get(v.severity, 0) >= bar for v in self.violations())

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def resolve_pss(text: str | None) -> tuple[str, str] | None:
    if text is None or str(text).strip().lower() in ("none", "off", "false", "privileged"):
        return None
    from podc.check.pss import parse_level_version

    return parse_level_version(str(text))


def resolve_kubernetes_version(version: str | None) -> str:
    from podc.check.schema import normalize_version, supported_versions

    return normalize_version(version) if version else supported_versions()[-1]


def known_rule_ids(custom: list[CustomPolicy]) -> dict[str, list[str]]:
    """policy id -> rule ids (an empty list means "any rule": schema codes are open-ended)."""
    from podc.check.practices import rule_ids
    from podc.check.pss import check_ids

    known: dict[str, list[str]] = {PSS_POLICY: check_ids(), "best-practices": rule_ids(), SCHEMA_POLICY: []}
    for policy in custom:
        known[policy.name] = policy.rule_ids()
    return known


def check_documents(documents: list[Document], options: CheckOptions, notices: Diagnostics | None = None) -> CheckResult:
    """Evaluate every policy on every document (in place), apply exceptions, return the result.

    Raises :class:`PodcError` for bad options (unknown PSS level, Kubernetes version, exception ids).
    """
    from podc.check import custom as custom_mod
    from podc.check import practices

    notices = notices if notices is not None else Diagnostics()
    setup = Diagnostics()
    pss = _safely(setup, resolve_pss, options.pss)
    version = _safely(setup, resolve_kubernetes_version, options.kubernetes_version) if options.schema else None
    known = known_rule_ids(options.custom)
    if options.admission is not None:
        known.update(options.admission.rule_ids())
    validate_ids(options.exceptions, known, setup)
    setup.raise_if_errors()
    validator = None
    if version is not None:
        from podc.check.schema import validator_for

        validator = validator_for(version)
    for doc in documents:
        found: list[Violation] = []
        if validator is not None:
            for issue in validator.validate(doc.manifest):
                found.append(doc.violation(SCHEMA_POLICY, issue.code, issue.severity, issue.message, issue.path,
                                           issue.hint))
        if pss is not None:
            found.extend(_pss_violations(doc, pss))
        found.extend(practices.evaluate(doc, options.practices))
        found.extend(custom_mod.evaluate(doc, options.custom))
        if options.admission is not None:
            found.extend(options.admission.evaluate(doc, notices))
        doc.violations = sorted(_scrub_secrets(doc, found), key=Violation.sort_key)
    suppressed = apply_exceptions(documents, options.exceptions, notices, options.today)
    result = CheckResult(documents, sorted(notices.items, key=Diagnostic.sort_key), suppressed, options.fail_on,
                         version, f"{pss[0]}:{pss[1]}" if pss else None)
    result.rules = _rule_metadata(result, options)
    return result


def _scrub_secrets(doc: Document, found: list[Violation]) -> list[Violation]:
    """Messages never show the literal value of a secret-looking env var, nor any secret-looking
    value (a token, a password in a URL: :mod:`podc.kube.secrets`), whichever check wrote them
    (schema messages quote offending values)."""
    from podc._record import replace

    from podc.check.practices import secret_literals
    from podc.kube.secrets import redact_text

    secrets = [s for s in secret_literals(doc) if len(s) >= 3]
    out = []
    for v in found:
        message, hint = redact_text(v.message), redact_text(v.hint) if v.hint else v.hint
        for secret in secrets:
            message = message.replace(secret, "<redacted>")
            hint = hint.replace(secret, "<redacted>") if hint else hint
        out.append(v if (message, hint) == (v.message, v.hint) else replace(v, message=message, hint=hint))
    return out


def _safely(diags: Diagnostics, fn, arg):
    try:
        return fn(arg)
    except PodcError as e:
        diags.extend(e.diagnostics)
        return None


def _pss_violations(doc: Document, pss: tuple[str, str]) -> list[Violation]:
    from podc.check.pss import evaluate_pod

    parts = pod_parts(doc)
    if parts is None:
        return []
    prefix, meta, spec = parts
    out = []
    for f in evaluate_pod(meta, spec, pss[0], pss[1]):
        path = prefix + (f.path if f.path.startswith("/metadata") else "/spec" + f.path)
        hint = f.hint
        if f.check_id == "allowPrivilegeEscalation" and getattr(doc, "target", None) is not None:
            path, hint = _escalation_of_privileged(doc, path, hint)
        out.append(doc.violation(PSS_POLICY, f.check_id, "error", f.message, path, hint))
    return out


def _escalation_of_privileged(doc: Document, path: str, hint: str | None) -> tuple[str, str | None]:
    """In a podc target, a privileged container cannot set allowPrivilegeEscalation: false (the API
    server rejects the pair, so podc leaves its default out): the finding belongs to the `privileged: true` line,
    not to whichever layer last touched the securityContext, and the fix is to drop privileged."""
    from podc.check.documents import resolve

    cut = path.find("/securityContext")
    container = resolve(doc.manifest, path[:cut]) if cut > 0 else None
    context = container.get("securityContext") if isinstance(container, dict) else None
    if not isinstance(context, dict) or context.get("privileged") is not True:
        return path, hint
    return (path[:cut] + "/securityContext/privileged",
            "remove `privileged: true` (podc then sets allowPrivilegeEscalation: false); a privileged "
            "container cannot set allowPrivilegeEscalation to false")


def _rule_metadata(result: CheckResult, options: CheckOptions) -> dict[tuple[str, str], dict]:
    """Descriptions of every rule that fired (SARIF needs them in tool.driver.rules)."""
    from podc.check.practices import load_pack

    pack = load_pack()
    custom = {(p.name, r.id): (p, r) for p in options.custom for r in p.rules}
    out: dict[tuple[str, str], dict] = {}
    for v in [*result.violations(), *(s.violation for _, s in result.suppressed_violations())]:
        key = (v.policy, v.rule)
        if key in out:
            continue
        meta: dict[str, Any] = {"severity": v.severity}
        if v.policy == "best-practices" and v.rule in pack:
            r = pack[v.rule]
            meta.update(title=r.title, rationale=r.rationale, hint=r.hint, severity=r.severity)
        elif key in custom:
            p, r = custom[key]
            meta.update(title=p.description or r.id, hint=r.hint, severity=r.severity)
        elif v.policy == PSS_POLICY:
            meta.update(title=f"Pod Security Standards check {v.rule}", hint=v.hint)
        elif options.admission is not None and options.admission.describe(v.policy, v.rule):
            meta.update(options.admission.describe(v.policy, v.rule), hint=v.hint)
        else:
            meta.update(title=f"{v.policy} rule {v.rule}", hint=v.hint)
        out[key] = meta
    return out


def check_manifests(paths: list[str], options: CheckOptions, notices: Diagnostics | None = None) -> CheckResult:
    """Check plain Kubernetes manifest files. Raises PodcError for unreadable input or unknown kinds.
    ``notices`` (e.g. from loading the policies) are reported with the result."""
    from podc.check.documents import load_manifest_documents

    diags = notices if notices is not None else Diagnostics()
    docs = load_manifest_documents(paths, diags)
    diags.raise_if_errors()
    return check_documents(docs, options, diags)
