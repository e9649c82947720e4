"""podc's built-in Pod Security Standards pack (levels baseline and restricted, v1.0 - latest).

The checks are data (``policies/pod-security/pack.yaml``); :mod:`podc.check.pss_kinds` holds one
small function per rule kind.  The pack is loaded once, on first use, and for every
(level, version) asked for the applicable check variants are resolved once and cached as a flat
plan of (function, rule) pairs, so evaluating a pod is one pass over that plan.

Public API::

    evaluate_pod(metadata, pod_spec, level="restricted", version="latest") -> list[PssFinding]
    parse_level_version("restricted:v1.30") -> ("restricted", "v1.30")

Finding paths are JSON pointers relative to the pod spec (``/containers/0/securityContext``);
paths into the pod's metadata start with ``/metadata`` (``/metadata/annotations/<key>`` with
``/`` in the key escaped as ``~1``).
"""

from __future__ import annotations

import _thread  # its lock is threading.Lock; importing threading costs ~1.5 ms per run
import re
from typing import Any, Callable

from podc._record import record
from podc.check.pss_kinds import KINDS
from podc.check.pss_model import PackError, PodView, PssFinding, Rule
from podc.errors import Diagnostic, PodcError, did_you_mean

__all__ = [
    "PssFinding",
    "evaluate_pod",
    "parse_level_version",
    "check_ids",
    "check_info",
    "applicable_checks",
    "replaced_checks",
    "compile_pack",
    "load_pack",
    "LEVELS",
    "PackError",
]

LEVELS = ("privileged", "baseline", "restricted")
_LEVEL_RANK = {name: rank for rank, name in enumerate(LEVELS)}
_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)$")

Plan = tuple[tuple[Callable[[PodView, Rule, list], None], Rule], ...]


@record(frozen=True, slots=True)
class _Variant:
    since: int                       # minor version (major is always 1)
    overrides: tuple[str, ...]
    rules: tuple[tuple[Callable, Rule], ...]


@record(frozen=True, slots=True)
class _Check:
    id: str
    level: str
    rationale: str
    hint: str
    variants: tuple[_Variant, ...]   # sorted by since


@record(frozen=True, slots=True)
class _Pack:
    latest: int
    checks: tuple[_Check, ...]


_lock = _thread.allocate_lock()
_pack: _Pack | None = None
_plans: dict[tuple[int, int], Plan] = {}            # (level rank, minor) -> plan
_plans_by_text: dict[tuple[str, str], Plan] = {}    # (level, version) as given -> plan


# ------------------------------------------------------------------------------- public API

def evaluate_pod(metadata: dict | None, pod_spec: dict | None, level: str = "restricted",
                 version: str = "latest") -> list[PssFinding]:
    """Every Pod Security Standards violation of one pod at ``level`` and policy ``version``.

    ``level`` restricted includes every baseline check (except those a restricted check
    replaces, as upstream does).  Raises :class:`PodcError` for an unknown level or version.
    """
    plan = _plan_for(level, version)
    out: list[PssFinding] = []
    if not plan:
        return out
    pod = PodView(metadata, pod_spec)
    windows, user_namespace = pod.windows, pod.user_namespace
    for evaluate, rule in plan:
        if (windows and rule.windows_exempt) or (user_namespace and rule.user_namespace_exempt):
            continue
        evaluate(pod, rule, out)
    return out


def parse_level_version(text: str) -> tuple[str, str]:
    """Split ``"<level>[:<version>]"`` into (level, version); version defaults to ``"latest"``.

    Versions are normalised to ``"v1.<minor>"`` (``1.30`` is accepted for ``v1.30``).
    """
    if not isinstance(text, str) or not text.strip():
        raise _error("pss.bad-level", "empty Pod Security level", "use baseline or restricted, "
                     "optionally with a version: restricted:v1.30")
    level, sep, version = text.strip().partition(":")
    _check_level(level.strip())
    if not sep:
        return level.strip(), "latest"
    minor = _parse_version(version.strip())
    return level.strip(), "latest" if minor is None else f"v1.{minor}"


def check_ids() -> list[str]:
    """The ids of every check in the pack, in pack order."""
    return [c.id for c in _load().checks]


def applicable_checks(level: str = "restricted", version: str = "latest") -> list[str]:
    """Ids of the checks evaluated at ``level`` and ``version`` (after overrides)."""
    seen: list[str] = []
    for _, rule in _plan_for(level, version):
        if rule.check_id not in seen:
            seen.append(rule.check_id)
    return seen


def replaced_checks(level: str = "restricted", version: str = "latest") -> dict[str, str]:
    """Checks replaced at ``level``/``version`` by a stricter one: {replaced id: replacing id}.

    Upstream's OverrideCheckIDs: e.g. at restricted v1.22+ ``capabilities_restricted`` replaces
    ``capabilities_baseline``, so a forbidden capability is reported once, by the former.
    """
    _check_level(level)
    minor = _parse_version(version)
    pack = _load()
    minor = pack.latest if minor is None else minor
    out: dict[str, str] = {}
    for check in pack.checks:
        if _LEVEL_RANK[check.level] > _LEVEL_RANK[level]:
            continue
        chosen = _variant_at(check, minor)
        if chosen is not None:
            out.update({cid: check.id for cid in chosen.overrides})
    return out


# ----------------------------------------------------------------------- level and version

def _error(code: str, message: str, hint: str) -> PodcError:
    return PodcError([Diagnostic(code, message, hint=hint)])


def _check_level(level: str) -> None:
    if level in _LEVEL_RANK:
        return
    guess = did_you_mean(level, LEVELS)
    hint = f'did you mean "{guess}"?' if guess else "use one of: " + ", ".join(LEVELS)
    raise _error("pss.bad-level", f'unknown Pod Security level "{level}" '
                 f"(expected one of {', '.join(LEVELS)})", hint)


def _parse_version(version: str) -> int | None:
    """The minor version number, or None for "latest"."""
    if version == "latest":
        return None
    latest = _load().latest
    m = _VERSION_RE.match(version)
    if m is None:
        guess = did_you_mean(version, ["latest"]) if version.isalpha() else None
        hint = f'did you mean "{guess}"?' if guess else f'use "latest" or a version like "v1.{latest}"'
        raise _error("pss.bad-version", f'invalid Pod Security version "{version}" '
                     f'(expected "latest" or "v1.<minor>")', hint)
    major, minor = int(m.group(1)), int(m.group(2))
    if major != 1:
        raise _error("pss.bad-version", f'unknown Pod Security version "{version}": only v1.x exists',
                     f'use "latest" or a version from v1.0 to v1.{latest}')
    if minor > latest:
        raise _error("pss.bad-version", f'Pod Security version "{version}" is newer than the newest '
                     f"version this podc knows (v1.{latest})",
                     f'use "latest" (= v1.{latest}) or upgrade podc')
    return minor


def _plan_for(level: str, version: str) -> Plan:
    try:  # fast path: a plan already resolved for exactly these strings
        return _plans_by_text[(level, version)]
    except KeyError:
        pass
    _check_level(level)
    minor = _parse_version(version)
    pack = _load()
    key = (_LEVEL_RANK[level], pack.latest if minor is None else minor)
    with _lock:
        plan = _plans.get(key)
        if plan is None:
            plan = _plans[key] = _resolve(pack, *key)
        _plans_by_text[(level, version)] = plan
    return plan


def _resolve(pack: _Pack, level_rank: int, minor: int) -> Plan:
    active: list[tuple[_Check, _Variant]] = []
    for check in pack.checks:
        if _LEVEL_RANK[check.level] > level_rank:
            continue
        chosen = _variant_at(check, minor)
        if chosen is not None:
            active.append((check, chosen))
    overridden = {cid for _, v in active for cid in v.overrides}
    return tuple(pair for check, v in active if check.id not in overridden for pair in v.rules)


def _variant_at(check: _Check, minor: int) -> _Variant | None:
    """The newest variant of ``check`` that applies at v1.<minor>, if any."""
    chosen = None
    for variant in check.variants:
        if variant.since <= minor:
            chosen = variant
    return chosen


# ---------------------------------------------------------------------------- pack loading

def _load() -> _Pack:
    global _pack
    if _pack is None:
        with _lock:
            if _pack is None:
                from podc.resources import data_path

                path = data_path("policies") / "pod-security" / "pack.yaml"
                try:
                    _pack = load_pack(path)
                except Exception as exc:  # PackError, OSError, YAML errors: a broken install
                    raise _error("pss.bad-pack", f"the built-in Pod Security pack {path} cannot be "
                                 f"loaded: {exc}", "reinstall podc; this is a packaging bug") from exc
    return _pack


def load_pack(path: Any) -> _Pack:
    """Read and compile a pack file. Raises :class:`PackError` naming the bad entry.

    The parsed YAML is cached by the file's bytes (:mod:`podc._data_cache`): parsing it (and
    importing the YAML library) was most of the policy step's start-up."""
    from podc._data_cache import cached, file_digest

    return compile_pack(cached("pss-pack", [file_digest(path)], lambda: _parse_pack(path)), str(path))


def _parse_pack(path: Any) -> Any:
    from ruamel.yaml import YAML

    with open(path, encoding="utf-8") as fh:
        return YAML(typ="safe", pure=False).load(fh)


def compile_pack(raw: Any, source: str = "<pack>") -> _Pack:
    if not isinstance(raw, dict) or not isinstance(raw.get("checks"), list):
        raise PackError(f"{source}: expected a mapping with a 'checks' list")
    latest = _minor_of(str(raw.get("latest", "")), f"{source}: latest")
    checks: list[_Check] = []
    seen: set[str] = set()
    for entry in raw["checks"]:
        cid = entry.get("id") if isinstance(entry, dict) else None
        where = f"{source}: check {cid!r}"
        if not isinstance(cid, str) or cid in seen:
            raise PackError(f"{where}: missing or duplicate id")
        seen.add(cid)
        level = entry.get("level")
        if level not in ("baseline", "restricted"):
            raise PackError(f"{where}: level must be baseline or restricted")
        for field in ("reason", "rationale", "hint"):
            if not isinstance(entry.get(field), str) or not entry[field].strip():
                raise PackError(f"{where}: missing {field}")
        variants = []
        for v in entry.get("variants") or []:
            since = _minor_of(str(v.get("since", "")), f"{where}: since")
            rules = []
            for r in v.get("rules") or []:
                kind = r.get("kind") if isinstance(r, dict) else None
                if kind not in KINDS:
                    raise PackError(f"{where}: unknown rule kind {kind!r} (known: {', '.join(sorted(KINDS))})")
                compile_kind, evaluate = KINDS[kind]
                try:
                    params = compile_kind(r)
                except (KeyError, TypeError, PackError) as exc:
                    raise PackError(f"{where}: bad {kind} rule: {exc}") from None
                rules.append((evaluate, Rule(cid, level, entry["reason"].strip(), entry["hint"].strip(),
                                             bool(v.get("windows_exempt")),
                                             bool(v.get("user_namespace_exempt")), params)))
            if not rules:
                raise PackError(f"{where}: variant since {since} has no rules")
            variants.append(_Variant(since, tuple(v.get("overrides") or ()), tuple(rules)))
        if not variants:
            raise PackError(f"{where}: no variants")
        variants.sort(key=lambda v: v.since)
        checks.append(_Check(cid, level, " ".join(entry["rationale"].split()), entry["hint"].strip(),
                             tuple(variants)))
    for check in checks:
        for v in check.variants:
            unknown = set(v.overrides) - seen
            if unknown:
                raise PackError(f"{source}: check {check.id!r} overrides unknown checks {sorted(unknown)}")
    return _Pack(latest, tuple(checks))


def _minor_of(text: str, where: str) -> int:
    m = _VERSION_RE.match(text)
    if m is None or m.group(1) != "1":
        raise PackError(f"{where}: expected a version like 1.30, got {text!r}")
    return int(m.group(2))


def check_info(check_id: str) -> dict[str, Any]:
    """Rationale, hint, level and versions of one check (for docs and ``podc explain``)."""
    for c in _load().checks:
        if c.id.lower() == check_id.lower():
            return {"id": c.id, "level": c.level, "rationale": c.rationale, "hint": c.hint,
                    "since": [f"v1.{v.since}" for v in c.variants]}
    guess = did_you_mean(check_id, check_ids())
    raise _error("pss.unknown-check", f'unknown Pod Security check "{check_id}"',
                 f'did you mean "{guess}"?' if guess else "see docs/pss.md for the list of checks")
