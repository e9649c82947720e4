"""Custom policies: YAML files in the user's repository (``policies.custom`` in podc.yaml, or
``podc check --policy FILE``).

A file holds one policy per YAML document::

    policy: corp-images              # the policy id (exceptions and reports name it)
    description: images come from the corporate registry
    match:                           # every selector given must match (all optional)
      kinds: [Job, CronJob]          # globs
      namespaces: ["batch-*"]
      labels: {team: "data-*"}
      targets: ["nightly-*"]         # podc project targets (never matches plain manifests)
    params: {registry: registry.corp}
    rules:
      - id: approved-registry
        severity: error              # error (default) | warning | info
        message: "image must come from {{ registry }}"
        hint: optional fix hint
        pattern: {spec: {template: {spec: {containers: [{image: "registry.corp/*"}]}}}}
      - id: bounded-retries
        cel: "object.spec.backoffLimit <= params.maxRetries"
        path: /spec/backoffLimit     # where to point when it fails (optional)

Pattern language (see :func:`match_pattern`): mappings match key by key (a key ending in ``?``
is optional: if present it must match); a list pattern means *every* item of the value matches
at least one pattern item; strings are globs (``*``, ``?``, ``[abc]``) compared with the value
as text, a leading ``!`` negates; other scalars compare equal. CEL rules pass when the
expression is true; they see ``object``, ``podSpec``, ``podMetadata``, ``params``, ``target``.
Policy files are validated when loaded: unknown keys, bad CEL and bad patterns are located errors.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any, Iterator

from podc._record import field, record
from podc.check.documents import Document, Violation, pod_parts
from podc.errors import Diagnostics, PodcError, Pos, did_you_mean
from podc.tree import MapNode, Node, ScalarNode, SeqNode, to_plain

__all__ = ["CustomPolicy", "CustomRule", "load_policy_files", "evaluate", "match_pattern"]

SEVERITIES = ("error", "warning", "info")
_POLICY_KEYS = ("policy", "description", "match", "params", "rules")
_MATCH_KEYS = ("kinds", "namespaces", "labels", "targets")
_RULE_KEYS = ("id", "severity", "message", "hint", "pattern", "cel", "path")
CEL_VARIABLES = ("object", "podSpec", "podMetadata", "params", "target")
_ID = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?\Z")
_PARAM_REF = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")


@record
class CustomRule:
    id: str
    severity: str
    message: str
    hint: str | None
    pattern: Any = None
    cel_source: str | None = None
    program: Any = None
    path: str = ""
    pos: Pos = field(default_factory=Pos)
    cel_pos: Pos = field(default_factory=Pos)


@record
class CustomPolicy:
    name: str
    description: str
    match: dict
    params: dict
    rules: list[CustomRule]
    file: str
    pos: Pos

    def rule_ids(self) -> list[str]:
        return [r.id for r in self.rules]

    def applies_to(self, doc: Document) -> bool:
        m = self.match
        if "kinds" in m and not _any_glob(doc.kind, m["kinds"]):
            return False
        if "namespaces" in m and not _any_glob(doc.namespace or "default", m["namespaces"]):
            return False
        if "targets" in m and (doc.target is None or not _any_glob(doc.target, m["targets"])):
            return False
        for key, want in (m.get("labels") or {}).items():
            have = doc.labels.get(key)
            if have is None or not _glob(str(have), str(want)):
                return False
        return True


def _glob(value: str, pattern: str) -> bool:
    if pattern.startswith("!"):
        return not fnmatch.fnmatchcase(value, pattern[1:])
    return fnmatch.fnmatchcase(value, pattern)


def _any_glob(value: str, patterns: list) -> bool:
    return any(_glob(value, str(p)) for p in patterns)


# ---------------------------------------------------------------- loading

def load_policy_files(paths: list[str], diags: Diagnostics) -> list[CustomPolicy]:
    from podc.source import load_file

    policies: list[CustomPolicy] = []
    seen: dict[str, Pos] = {}
    for path in paths:
        try:
            roots = load_file(path, layer=f"policy:{path}")
        except PodcError as e:
            diags.extend(e.diagnostics)
            continue
        for root in roots:
            policy = _read_policy(root, str(path), diags)
            if policy is None:
                continue
            if policy.name in seen:
                diags.add("policy.duplicate", f"policy {policy.name!r} is defined twice", policy.pos,
                          related=[(seen[policy.name], "first defined here")])
                continue
            seen[policy.name] = policy.pos
            policies.append(policy)
    return policies


def _key_pos(node: MapNode, key: str) -> Pos:
    return node.key_pos.get(key) or node.origin.pos


def _unknown_keys(node: MapNode, allowed: tuple[str, ...], where: str, diags: Diagnostics) -> None:
    for key in node.items:
        if key not in allowed:
            guess = did_you_mean(key, allowed)
            diags.add("policy.unknown-key", f"unknown key {key!r} in {where}", _key_pos(node, key),
                      hint=f"did you mean {guess!r}?" if guess else "allowed keys: " + ", ".join(allowed))


def _read_policy(root: Node, file: str, diags: Diagnostics) -> CustomPolicy | None:
    if not isinstance(root, MapNode):
        diags.add("policy.shape", "a policy document must be a mapping", root.origin.pos)
        return None
    before = len(diags.errors)
    _unknown_keys(root, _POLICY_KEYS, "a policy", diags)
    name_node = root.items.get("policy")
    name = name_node.value if isinstance(name_node, ScalarNode) else None
    if not isinstance(name, str) or not _ID.match(name):
        diags.add("policy.name", "a policy needs `policy: <id>` (lower-case letters, digits, '-' and '.')",
                  name_node.origin.pos if name_node else root.origin.pos)
        name = name if isinstance(name, str) else "?"
    match = _read_match(root.items.get("match"), diags)
    params_node = root.items.get("params")
    params = to_plain(params_node) if params_node is not None else {}
    if not isinstance(params, dict):
        diags.add("policy.params", "params must be a mapping", params_node.origin.pos)  # type: ignore[union-attr]
        params = {}
    rules_node = root.items.get("rules")
    rules: list[CustomRule] = []
    if not isinstance(rules_node, SeqNode) or not rules_node.items:
        diags.add("policy.rules", "a policy needs a non-empty `rules` list",
                  rules_node.origin.pos if rules_node else root.origin.pos)
    else:
        ids: dict[str, Pos] = {}
        for item in rules_node.items:
            rule = _read_rule(item, params, diags)
            if rule is None:
                continue
            if rule.id in ids:
                diags.add("policy.duplicate-rule", f"rule {rule.id!r} is defined twice", rule.pos,
                          related=[(ids[rule.id], "first defined here")])
            ids[rule.id] = rule.pos
            rules.append(rule)
    if len(diags.errors) > before:
        return None
    desc = root.items.get("description")
    return CustomPolicy(name, str(desc.value) if isinstance(desc, ScalarNode) else "", match, params, rules,
                        file, name_node.origin.pos if name_node else root.origin.pos)


def _read_match(node: Node | None, diags: Diagnostics) -> dict:
    if node is None:
        return {}
    if not isinstance(node, MapNode):
        diags.add("policy.match", "match must be a mapping of kinds/namespaces/labels/targets", node.origin.pos)
        return {}
    _unknown_keys(node, _MATCH_KEYS, "match", diags)
    out: dict = {}
    for key, value in node.items.items():
        plain = to_plain(value)
        if key == "labels":
            if not isinstance(plain, dict):
                diags.add("policy.match", "match.labels must be a mapping of label -> glob", value.origin.pos)
                continue
        elif key in _MATCH_KEYS:
            if isinstance(plain, str):
                plain = [plain]
            if not isinstance(plain, list) or not all(isinstance(p, str) for p in plain):
                diags.add("policy.match", f"match.{key} must be a list of globs", value.origin.pos)
                continue
        out[key] = plain
    return out


def _read_rule(node: Node, params: dict, diags: Diagnostics) -> CustomRule | None:
    if not isinstance(node, MapNode):
        diags.add("policy.rule", "a rule must be a mapping with id and pattern or cel", node.origin.pos)
        return None
    _unknown_keys(node, _RULE_KEYS, "a rule", diags)
    plain = to_plain(node)
    rid = plain.get("id")
    if not isinstance(rid, str) or not _ID.match(rid):
        diags.add("policy.rule-id", "a rule needs `id: <id>` (lower-case letters, digits, '-' and '.')",
                  _key_pos(node, "id") if "id" in node.items else node.origin.pos)
        return None
    severity = plain.get("severity", "error")
    if severity not in SEVERITIES:
        diags.add("policy.severity", f"severity must be one of {', '.join(SEVERITIES)}, got {severity!r}",
                  node.items["severity"].origin.pos)
    message = plain.get("message") or f"rule {rid} failed"
    for ref in _PARAM_REF.findall(str(message)):
        if _param(params, ref) is None:
            guess = did_you_mean(ref.split(".")[0], params)
            diags.add("policy.unknown-param", f"message refers to {{{{ {ref} }}}} but params has no {ref!r}",
                      node.items["message"].origin.pos, hint=f"did you mean {guess!r}?" if guess else None)
    has_pattern, has_cel = "pattern" in plain, "cel" in plain
    if has_pattern == has_cel:
        diags.add("policy.rule", f"rule {rid!r} needs exactly one of `pattern` or `cel`", node.origin.pos)
        return None
    rule = CustomRule(rid, severity, str(message), plain.get("hint"), pos=node.origin.pos)
    path = plain.get("path", "")
    if not isinstance(path, str) or (path and not path.startswith("/")):
        diags.add("policy.path", "path must be a JSON pointer such as /spec/backoffLimit", node.items["path"].origin.pos)
    else:
        rule.path = path
    if has_pattern:
        _check_pattern(node.items["pattern"], diags)
        rule.pattern = plain["pattern"]
    else:
        cel_node = node.items["cel"]
        rule.cel_source = plain["cel"]
        rule.cel_pos = cel_node.origin.pos
        rule.program = _compile_cel(rule.cel_source, cel_node.origin.pos, rid, diags)
    return rule


def _check_pattern(node: Node, diags: Diagnostics, top: bool = True) -> None:
    if top and not isinstance(node, MapNode):
        diags.add("policy.pattern", "a pattern must be a mapping shaped like the object it matches", node.origin.pos,
                  hint="e.g. pattern: {spec: {backoffLimit: 0}}")
        return
    if isinstance(node, MapNode):
        for key, child in node.items.items():
            if key in ("", "?"):
                diags.add("policy.pattern", "empty key in pattern", _key_pos(node, key))
            _check_pattern(child, diags, False)
    elif isinstance(node, SeqNode):
        if not node.items:
            diags.add("policy.pattern", "an empty list pattern matches nothing useful", node.origin.pos,
                      hint="give one item that every list item must match")
        for child in node.items:
            _check_pattern(child, diags, False)
    elif isinstance(node.value, str) and node.value.count("[") != node.value.count("]"):
        diags.add("policy.pattern", f"unbalanced '[' in glob {node.value!r}", node.origin.pos)


def _compile_cel(source: Any, pos: Pos, rule_id: str, diags: Diagnostics) -> Any:
    if not isinstance(source, str) or not source.strip():
        diags.add("policy.cel", "cel must be a non-empty expression string", pos)
        return None
    from podc.check.cel_engine import compile_expression, expression_pos

    program, error, offset, hint = compile_expression(source, CEL_VARIABLES)
    if error is None:
        return program
    if error.startswith("estimated cost"):
        diags.add("policy.cel-cost", f"rule {rule_id!r}: CEL expression's {error}", pos, hint=hint)
    elif error.startswith("uses unknown variable"):
        diags.add("policy.cel", f"CEL expression {error}", expression_pos(pos, source, offset), hint=hint)
    else:
        diags.add("policy.cel", f"CEL expression does not compile: {error}", expression_pos(pos, source, offset),
                  hint=hint or "CEL rules see: " + ", ".join(CEL_VARIABLES))
    return None


# ---------------------------------------------------------------- evaluation

def _param(params: dict, dotted: str) -> Any:
    cur: Any = params
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def render_message(template: str, params: dict) -> str:
    def sub(m: re.Match) -> str:
        value = _param(params, m.group(1))
        return m.group(0) if value is None else (", ".join(map(str, value)) if isinstance(value, list) else str(value))
    return _PARAM_REF.sub(sub, template)


def evaluate(doc: Document, policies: list[CustomPolicy]) -> list[Violation]:
    """Violations of ``doc``. Raises :class:`PodcError` when a CEL rule spends its runtime cost
    budget: the rule, not the object, is at fault, and a gate must not guess."""
    out: list[Violation] = []
    for policy in policies:
        if not policy.applies_to(doc):
            continue
        variables = None
        for rule in policy.rules:
            message = render_message(rule.message, policy.params)
            if rule.pattern is not None:
                for path, why in match_pattern(rule.pattern, doc.manifest, ""):
                    out.append(doc.violation(policy.name, rule.id, rule.severity, f"{message} ({why})", path, rule.hint))
            elif rule.program is not None:
                if variables is None:  # plain data: nothing is converted, once per document and policy
                    variables = _cel_variables(doc, policy.params)
                ok, error = _run_rule(rule, policy, doc, variables)
                if not ok:
                    text = message if error is None else f"{message} (CEL evaluation failed: {error})"
                    out.append(doc.violation(policy.name, rule.id, rule.severity, text, rule.path, rule.hint))
    return out


def _run_rule(rule: CustomRule, policy: CustomPolicy, doc: Document, variables: dict) -> tuple[bool, str | None]:
    from podc.check.cel_engine import PER_CALL_LIMIT, CostExceeded, run

    try:
        return run(rule.program, variables)
    except CostExceeded:
        subject = f"target {doc.target}" if doc.target is not None else f"{doc.kind or 'object'} {doc.name or '?'}"
        raise PodcError.single(
            "policy.cel-cost", f"rule {rule.id!r} of policy {policy.name!r} exceeded the CEL runtime cost budget "
            f"({PER_CALL_LIMIT:,}) on {subject}", rule.cel_pos,
            hint="the expression does too much work for this object (nested comprehensions over long lists); "
                 "simplify it") from None


def _cel_variables(doc: Document, params: dict) -> dict:
    parts = pod_parts(doc)
    meta, spec = (parts[1], parts[2]) if parts else ({}, {})
    return {"object": doc.manifest, "podSpec": spec, "podMetadata": meta, "params": params,
            "target": doc.target or ""}


def match_pattern(pattern: Any, value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Yield (JSON pointer, reason) for every place ``value`` does not match ``pattern``."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            yield path, "expected a mapping"
            return
        for key, sub in pattern.items():
            optional = key.endswith("?")
            name = key[:-1] if optional else key
            if name not in value or value[name] is None:
                if not optional and sub is not None:
                    yield path, f"{path or '/'} has no {name!r}"
                continue
            yield from match_pattern(sub, value[name], f"{path}/{_escape(name)}")
    elif isinstance(pattern, list):
        if not isinstance(value, list):
            yield path, "expected a list"
            return
        for i, item in enumerate(value):
            item_path = f"{path}/{i}"
            failures = [list(match_pattern(p, item, item_path)) for p in pattern]
            if all(failures):
                yield from (failures[0] if len(pattern) == 1 else [(item_path, "matches no allowed item")])
    elif isinstance(pattern, str):
        if isinstance(value, (dict, list)) or not _glob(_text(value), pattern):
            yield path, f"{path} does not match {pattern!r}"
    elif pattern is None:
        if value is not None:
            yield path, f"{path} must not be set"
    elif type(pattern) is not type(value) or pattern != value:
        yield path, f"{path} must be {_text(pattern)}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
