"""The best-practices pack: rules as data (``policies/best-practices/pack.yaml``), one small
function per rule id here.

Every finding points at the most specific field: the offending value when it exists, else the
object that should have held it (so project findings land on the layer line that set it, or the
nearest ancestor a layer set).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Iterator

from podc._record import field, record
from podc.check.documents import Document, Violation, pod_parts
from podc.errors import Diagnostics, Pos, did_you_mean
from podc.kube.secrets import secret_names, value_match
from podc.tree import to_plain

__all__ = ["PracticeRule", "PracticesConfig", "load_pack", "evaluate", "rule_ids", "POLICY"]

POLICY = "best-practices"
SEVERITIES = ("error", "warning", "info")


@record(frozen=True)
class PracticeRule:
    id: str
    severity: str
    title: str
    rationale: str
    hint: str
    params: dict
    pos: Pos


@record
class PracticesConfig:
    """What a project (or the CLI) asks of the pack."""

    enabled: bool = True
    disabled: frozenset[str] = frozenset()
    params: dict[str, dict] = field(default_factory=dict)   # rule id -> param overrides
    severity: dict[str, str] = field(default_factory=dict)  # rule id -> severity override


@lru_cache(maxsize=None)
def load_pack() -> dict[str, PracticeRule]:
    from podc._data_cache import cached, file_digest
    from podc.resources import data_path

    path = data_path("policies") / "best-practices" / "pack.yaml"
    # Parsed once and cached by the file's bytes (:mod:`podc._data_cache`): the pack's YAML needs the
    # full loader, whose import and parse were a good part of the policy step's start-up.
    entries = cached("practices-pack", [file_digest(path)], lambda: _parse_pack(path))
    rules: dict[str, PracticeRule] = {}
    for raw, (line, col) in entries:
        rules[raw["id"]] = PracticeRule(raw["id"], raw["severity"], raw.get("title", ""), raw.get("rationale", ""),
                                        raw.get("hint", ""), dict(raw.get("params") or {}), Pos(str(path), line, col))
    missing = set(rules) - set(_RULES)
    if missing:  # a pack entry without an implementation is a podc bug, not user input
        raise RuntimeError(f"best-practices rules without implementation: {sorted(missing)}")
    return rules


def _parse_pack(path) -> list[tuple[dict, tuple[int, int]]]:
    """Each rule of the pack as plain data with the (line, column) where it starts."""
    from podc.source import load_single

    root = load_single(path, layer="podc:best-practices")
    items = root.items["rules"].items  # type: ignore[union-attr]
    return [(raw, (node.origin.pos.line, node.origin.pos.col)) for node, raw in zip(items, to_plain(root)["rules"])]


def rule_ids() -> list[str]:
    return sorted(load_pack())


# Shorthand keys allowed directly under `policies.bestPractices` -> (rule id, param).
SHORTHANDS = {"requiredLabels": ("required-labels", "labels")}


def config_from_project(section: Any, pos_of: Callable[[tuple], Pos], diags: Diagnostics) -> PracticesConfig:
    """Read ``policies.bestPractices`` (true | false | mapping) with located errors."""
    if section is None or section is True:
        return PracticesConfig()
    if section is False:
        return PracticesConfig(enabled=False)
    if not isinstance(section, dict):
        diags.add("policy.best-practices", "bestPractices must be true, false or a mapping", pos_of(()))
        return PracticesConfig()
    pack = load_pack()
    cfg = PracticesConfig()
    known = {"enabled", "disable", "params", "severity", *SHORTHANDS}
    for key, value in section.items():
        if key not in known:
            guess = did_you_mean(key, known)
            diags.add("policy.unknown-key", f"unknown key {key!r} in bestPractices", pos_of((key,)),
                      hint=f"did you mean {guess!r}?" if guess else "known keys: " + ", ".join(sorted(known)))
    if section.get("enabled") is False:
        cfg.enabled = False
    disabled = section.get("disable") or []
    for i, rid in enumerate(disabled if isinstance(disabled, list) else []):
        if not isinstance(rid, str):
            diags.add("policy.type", f"a rule id is a string, got {type(rid).__name__}", pos_of(("disable", i)))
        elif rid not in pack:
            unknown_rule(rid, pack, pos_of(("disable", i)), diags)
    cfg.disabled = frozenset(r for r in disabled if isinstance(r, str)) if isinstance(disabled, list) else frozenset()
    for short, (rid, param) in SHORTHANDS.items():
        if short in section and _param_ok(section[short], pack[rid].params.get(param), pos_of((short,)), diags):
            cfg.params.setdefault(rid, {})[param] = section[short]
    for rid, overrides in (section.get("params") or {}).items():
        if rid not in pack:
            unknown_rule(rid, pack, pos_of(("params", rid)), diags)
            continue
        for pname, pval in (overrides or {}).items():
            if pname not in pack[rid].params:
                diags.add("policy.unknown-param", f"rule {rid!r} has no parameter {pname!r}",
                          pos_of(("params", rid, pname)),
                          hint="parameters: " + (", ".join(sorted(pack[rid].params)) or "none"))
            elif _param_ok(pval, pack[rid].params[pname], pos_of(("params", rid, pname)), diags):
                cfg.params.setdefault(rid, {})[pname] = pval
    for rid, sev in (section.get("severity") or {}).items():
        if rid not in pack:
            unknown_rule(rid, pack, pos_of(("severity", rid)), diags)
        elif sev not in SEVERITIES:
            diags.add("policy.severity", f"severity must be one of {', '.join(SEVERITIES)}, got {sev!r}",
                      pos_of(("severity", rid)))
        else:
            cfg.severity[rid] = sev
    return cfg


def _param_ok(value: Any, default: Any, pos: Pos, diags: Diagnostics) -> bool:
    """A parameter must have its default's shape (a number ≥ 0, or a list of strings): the rules
    compare and iterate it, so anything else would fail deep inside a check."""
    if isinstance(default, int) and not isinstance(default, bool):
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return True
        diags.add("policy.param-type", f"expected a whole number (0 or more), got {value!r}", pos,
                  hint=f"the default is {default}")
        return False
    if isinstance(default, list):
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return True
        diags.add("policy.param-type", "expected a list of strings", pos,
                  hint=f"e.g. [{', '.join(map(str, default[:2])) or 'team'}]")
        return False
    return True


def unknown_rule(rid: Any, pack: dict, pos: Pos, diags: Diagnostics) -> None:
    guess = did_you_mean(str(rid), pack)
    diags.add("policy.unknown-rule", f"unknown best-practices rule {rid!r}", pos,
              hint=f"did you mean {guess!r}?" if guess else "rules: " + ", ".join(sorted(pack)))


def evaluate(doc: Document, cfg: PracticesConfig | None = None) -> list[Violation]:
    cfg = cfg or PracticesConfig()
    if not cfg.enabled:
        return []
    parts = pod_parts(doc)
    if parts is None:
        return []
    out: list[Violation] = []
    for rid, fn, params, severity, hint in _plan(cfg):
        for path, message in fn(doc, parts, params):
            out.append(doc.violation(POLICY, rid, severity, message, path, hint=hint))
    return out


def _plan(cfg: PracticesConfig) -> list[tuple]:
    """The enabled rules with their merged params, computed once per config (hot path)."""
    key = (cfg.disabled, repr(cfg.params), repr(cfg.severity))
    cached = getattr(cfg, "_plan_cache", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    plan = [(rid, _RULES[rid], {**rule.params, **cfg.params.get(rid, {})}, cfg.severity.get(rid, rule.severity),
             rule.hint) for rid, rule in load_pack().items() if rid not in cfg.disabled]
    object.__setattr__(cfg, "_plan_cache", (key, plan))
    return plan


Finding = Iterator[tuple[str, str]]


def _containers(parts) -> Iterator[tuple[str, dict]]:
    prefix, _, spec = parts
    for group in ("initContainers", "containers"):
        items = spec.get(group)
        if not isinstance(items, list):
            continue
        for i, c in enumerate(items):
            if isinstance(c, dict):
                yield f"{prefix}/spec/{group}/{i}", c


def _label(c: dict) -> str:
    return f"container {c.get('name', '?')!r}"


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def _memory_limit(doc, parts, params) -> Finding:
    for path, c in _containers(parts):
        if _get(c, "resources", "limits", "memory") is None:
            where = _deepest(c, path, ("resources", "limits"))
            yield where, f"{_label(c)} has no memory limit"


def _cpu_request(doc, parts, params) -> Finding:
    for path, c in _containers(parts):
        if _get(c, "resources", "requests", "cpu") is None:
            yield _deepest(c, path, ("resources", "requests")), f"{_label(c)} has no CPU request"


@lru_cache(maxsize=4096)
def _parse_image(image: str):
    from podc.kube.images import parse_image_reference

    try:
        return parse_image_reference(image)
    except ValueError:
        return None  # the schema check reports malformed references


def _image_refs(parts) -> Iterator[tuple[str, dict, Any]]:
    for path, c in _containers(parts):
        image = c.get("image")
        if not isinstance(image, str) or not image:
            continue
        ref = _parse_image(image)
        if ref is not None:
            yield f"{path}/image", c, ref


def _image_tag(doc, parts, params) -> Finding:
    for path, c, ref in _image_refs(parts):
        if ref.uses_latest:
            what = "the 'latest' tag" if ref.tag == "latest" else "no tag (which means 'latest')"
            yield path, f"{_label(c)} image {c['image']!r} uses {what}"


def _image_digest(doc, parts, params) -> Finding:
    for path, c, ref in _image_refs(parts):
        if not ref.is_pinned and not ref.uses_latest:
            yield path, f"{_label(c)} image {c['image']!r} is not pinned by digest"


def _job_spec(doc: Document) -> tuple[str, dict] | None:
    if doc.kind == "Job":
        return "/spec", _get(doc.manifest, "spec") or {}
    if doc.kind == "CronJob":
        return "/spec/jobTemplate/spec", _get(doc.manifest, "spec", "jobTemplate", "spec") or {}
    return None


def _bounded(field_name: str, param: str):
    def rule(doc, parts, params) -> Finding:
        js = _job_spec(doc)
        if js is None:
            return
        prefix, spec = js
        value = spec.get(field_name) if isinstance(spec, dict) else None
        limit = params.get(param)
        if value is None:
            yield prefix, f"{field_name} is not set"
        elif isinstance(value, int) and not isinstance(value, bool) and limit is not None and value > limit:
            yield f"{prefix}/{field_name}", f"{field_name} is {value}, above the maximum {limit}"
    return rule


def _literal_secret_env(doc, parts, params) -> Finding:
    names = secret_names(params)
    for path, c in _containers(parts):
        for i, name in _literal_env(c):
            hit = names.match(name)
            # Never echo the value: the whole point is that it may be a secret.
            if hit:
                yield (f"{path}/env/{i}/value",
                       f"{_label(c)} sets {name} to a literal value (the name contains {hit}, which looks secret)")
            elif (what := value_match(c["env"][i]["value"])) is not None:
                yield (f"{path}/env/{i}/value", f"{_label(c)} sets {name} to a literal value that looks like {what}")


def _literal_env(c: dict) -> Iterator[tuple[int, str]]:
    """(index, name) of the env vars of ``c`` that have a non-empty literal ``value``."""
    env = c.get("env")
    for i, var in enumerate(env if isinstance(env, list) else []):
        if isinstance(var, dict) and isinstance(var.get("name"), str) and var.get("value") not in (None, ""):
            yield i, var["name"]


def secret_literals(doc: Document, params: dict | None = None) -> list[str]:
    """Literal values of env vars whose names look secret, as text (for redacting messages).

    ``params`` are the ``literal-secret-env`` parameters (default: the pack's)."""
    parts = pod_parts(doc)
    if parts is None:
        return []
    names = secret_names(params if params is not None else load_pack()["literal-secret-env"].params)
    out = []
    for _, c in _containers(parts):
        for i, name in _literal_env(c):
            value = c["env"][i]["value"]
            if names.match(name) or value_match(value):
                out.append(str(value))
    return out


def _read_only_root(doc, parts, params) -> Finding:
    for path, c in _containers(parts):
        if _get(c, "securityContext", "readOnlyRootFilesystem") is not True:
            yield (_deepest(c, path, ("securityContext", "readOnlyRootFilesystem")),
                   f"{_label(c)} does not set readOnlyRootFilesystem: true")


def _non_root_without_user(doc, parts, params) -> Finding:
    """runAsNonRoot true (container or pod) with no runAsUser at either level."""
    prefix, _, spec = parts
    pod_sc = spec.get("securityContext") if isinstance(spec.get("securityContext"), dict) else {}
    if _get(pod_sc, "windowsOptions", "runAsUserName") is not None:
        return
    for path, c in _containers(parts):
        sc = c.get("securityContext") if isinstance(c.get("securityContext"), dict) else {}
        non_root = sc["runAsNonRoot"] if sc.get("runAsNonRoot") is not None else pod_sc.get("runAsNonRoot")
        user = sc["runAsUser"] if sc.get("runAsUser") is not None else pod_sc.get("runAsUser")
        if non_root is True and user is None:
            where = (f"{path}/securityContext/runAsNonRoot" if sc.get("runAsNonRoot") is not None
                     else f"{prefix}/spec/securityContext/runAsNonRoot")
            yield where, (f"{_label(c)} must run as non-root but names no runAsUser: the kubelet refuses to start "
                          "it if the image's USER is root, unset or not numeric")


def _automount(doc, parts, params) -> Finding:
    prefix, _, spec = parts
    if spec.get("automountServiceAccountToken") is False:
        return
    account = spec.get("serviceAccountName") or spec.get("serviceAccount")
    if account and account != "default":
        return
    where = f"{prefix}/spec/automountServiceAccountToken" if "automountServiceAccountToken" in spec else f"{prefix}/spec"
    yield where, "the service account token is mounted but the pod uses the default service account"


def _required_labels(doc, parts, params) -> Finding:
    required = params.get("labels") or []
    labels = doc.labels
    missing = [name for name in required if name not in labels]
    if missing:
        where = "/metadata/labels" if "labels" in doc.metadata else "/metadata"
        yield where, "missing required label" + ("s " if len(missing) > 1 else " ") + ", ".join(missing)


def _deepest(obj: dict, base: str, keys: tuple[str, ...]) -> str:
    """Pointer to the deepest existing key along ``keys`` under ``obj``."""
    path, cur = base, obj
    for k in keys:
        if not isinstance(cur, dict) or k not in cur:
            break
        path, cur = f"{path}/{k}", cur[k]
    return path


_RULES: dict[str, Callable[..., Finding]] = {
    "memory-limit": _memory_limit,
    "cpu-request": _cpu_request,
    "image-tag": _image_tag,
    "image-digest": _image_digest,
    "ttl-after-finished": _bounded("ttlSecondsAfterFinished", "maxSeconds"),
    "backoff-limit": _bounded("backoffLimit", "max"),
    "active-deadline": _bounded("activeDeadlineSeconds", "maxSeconds"),
    "literal-secret-env": _literal_secret_env,
    "read-only-root-filesystem": _read_only_root,
    "automount-service-account-token": _automount,
    "run-as-non-root-without-user": _non_root_without_user,
    "required-labels": _required_labels,
}
