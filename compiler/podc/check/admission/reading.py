"""Reading one ValidatingAdmissionPolicy or binding from its positioned YAML tree, with the API
server's defaults (failurePolicy Fail, matchPolicy Equivalent, empty selectors match all) and
its validation rules, each a located ``admission.*`` error."""

from __future__ import annotations

import re
from typing import Any

from podc.check.admission.model import Binding, Expr, MatchResources, ParamRef, Policy, ResourceRule, Validation
from podc.errors import Diagnostics, Pos, did_you_mean
from podc.source.documents import node_locate
from podc.tree import MapNode, Node, ScalarNode, SeqNode, to_plain

__all__ = ["read_policy", "read_binding"]

_POLICY_SPEC = ("paramKind", "matchConstraints", "validations", "failurePolicy", "auditAnnotations",
                "matchConditions", "variables")
_BINDING_SPEC = ("policyName", "paramRef", "matchResources", "validationActions")
_MATCH = ("namespaceSelector", "objectSelector", "resourceRules", "excludeResourceRules", "matchPolicy")
_RULE = ("apiGroups", "apiVersions", "resources", "operations", "scope", "resourceNames")
_VALIDATION = ("expression", "message", "messageExpression", "reason")
_PARAM_REF = ("name", "namespace", "selector", "parameterNotFoundAction")
_REASONS = ("Unauthorized", "Forbidden", "Invalid", "RequestEntityTooLarge")
_OPERATIONS = ("*", "CREATE", "UPDATE", "DELETE", "CONNECT")
_CEL_IDENT = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*\Z")
_QUALIFIED = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\Z")
# Variables every admission expression may read; params only when the policy has a paramKind.
BASE_VARIABLES = ("object", "oldObject", "request", "namespaceObject", "variables")


class _Doc:
    """Helpers over one object's positioned tree."""

    def __init__(self, root: MapNode, diags: Diagnostics, what: str):
        self.root, self.diags, self.what = root, diags, what

    def node(self, *path: Any) -> Node | None:
        node: Node | None = self.root
        for key in path:
            if isinstance(node, MapNode):
                node = node.items.get(key)
            elif isinstance(node, SeqNode) and isinstance(key, int) and key < len(node.items):
                node = node.items[key]
            else:
                return None
        return node

    def pos(self, *path: Any) -> Pos:
        return node_locate(self.root, [str(p) for p in path])

    def value_pos(self, *path: Any) -> Pos:
        node = self.node(*path)
        return node.origin.pos if node is not None else self.pos(*path)

    def error(self, code: str, message: str, *path: Any, hint: str | None = None) -> None:
        self.diags.add(f"admission.{code}", f"{self.what}: {message}", self.pos(*path), hint=hint)

    def mapping(self, *path: Any, required: bool = False) -> dict | None:
        node = self.node(*path)
        if node is None or (isinstance(node, ScalarNode) and node.value is None):
            if required:
                self.error("required", f"{'.'.join(map(str, path))} is required", *path[:-1])
            return None
        if not isinstance(node, MapNode):
            self.error("shape", f"{'.'.join(map(str, path))} must be a mapping", *path)
            return None
        return to_plain(node)

    def keys(self, data: dict | None, allowed: tuple[str, ...], *path: Any) -> None:
        for key in data or {}:
            if key not in allowed:
                guess = did_you_mean(key, allowed)
                self.error("unknown-field", f"unknown field {'.'.join(map(str, (*path, key)))}", *path, key,
                           hint=f"did you mean {guess!r}?" if guess else "known fields: " + ", ".join(allowed))

    def strings(self, value: Any, *path: Any) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error("shape", f"{'.'.join(map(str, path))} must be a list of strings", *path)
            return []
        return value

    def choice(self, value: Any, allowed: tuple[str, ...], default: str | None, *path: Any) -> str:
        if value is None and default is not None:
            return default
        if value not in allowed:
            self.error("invalid", f"{'.'.join(map(str, path))} must be one of {', '.join(allowed)}, got {value!r}",
                       *path)
            return default or allowed[0]
        return value

    def name(self) -> str | None:
        name = self.node("metadata", "name")
        if not isinstance(name, ScalarNode) or not isinstance(name.value, str) or not name.value:
            self.diags.add("admission.name", f"a {self.what.split()[0]} needs metadata.name", self.pos("metadata", "name"))
            return None
        return name.value

    def expression(self, *path: Any, allowed: tuple[str, ...], variables: tuple[str, ...] | None = None,
                   required: bool = True) -> Expr | None:
        node = self.node(*path)
        text = node.value if isinstance(node, ScalarNode) else None
        if text is None:
            if required:
                self.error("required", f"{'.'.join(map(str, path))} is required", *path[:-1])
            return None
        if not isinstance(text, str) or not text.strip():
            self.error("expression", f"{'.'.join(map(str, path))} must be a non-empty CEL expression", *path)
            return None
        from podc.check.cel_engine import compile_expression, expression_pos

        program, error, offset, hint = compile_expression(text, allowed)
        where = expression_pos(node.origin.pos, text, offset)  # type: ignore[union-attr]
        label = ".".join(map(str, path))
        if error is not None:
            code = "cel-cost" if error.startswith("estimated cost") else "cel"
            self.diags.add(f"admission.{code}", f"{self.what}: {label}: {error}", where, hint=hint)
            return None
        if variables is not None and not self._variables_ok(program, variables, node, label):
            return None
        return Expr(text, program, node.origin.pos)  # type: ignore[union-attr]

    def _variables_ok(self, program: Any, declared: tuple[str, ...], node: Node, label: str) -> bool:
        """``variables.x`` must name a variable declared before (as the API server type-checks)."""
        from podc.check.cel.nodes import Ident, Select, walk
        from podc.check.cel_engine import expression_pos

        for n in walk(program.tree):
            if type(n) is Select and type(n.operand) is Ident and n.operand.name == "variables" \
                    and n.field not in declared:
                guess = did_you_mean(n.field, declared)
                self.diags.add("admission.cel", f"{self.what}: {label}: undefined field 'variables.{n.field}'",
                               expression_pos(node.origin.pos, program.source, n.offset),
                               hint=f"did you mean {guess!r}?" if guess else
                               ("declared variables: " + ", ".join(declared) if declared else
                                "declare it under spec.variables (before the expressions that use it)"))
                return False
        return True


def _start(root: MapNode, diags: Diagnostics, kind: str, keys: tuple[str, ...]):
    """(reader, name, spec, error count before) for an object of ``kind``; None without a name."""
    doc = _Doc(root, diags, kind)
    name = doc.name()
    if name is None:
        return None
    doc.what = f"{kind} {name!r}"
    before = len(diags.errors)
    spec = doc.mapping("spec", required=True) or {}
    doc.keys(spec, keys, "spec")
    return doc, name, spec, before


def read_policy(root: MapNode, file: str, diags: Diagnostics) -> Policy | None:
    started = _start(root, diags, "ValidatingAdmissionPolicy", _POLICY_SPEC)
    if started is None:
        return None
    doc, name, spec, before = started
    failure = doc.choice(spec.get("failurePolicy"), ("Fail", "Ignore"), "Fail", "spec", "failurePolicy")
    param_kind = None
    if spec.get("paramKind") is not None:
        pk = doc.mapping("spec", "paramKind") or {}
        doc.keys(pk, ("apiVersion", "kind"), "spec", "paramKind")
        if not isinstance(pk.get("apiVersion"), str) or not isinstance(pk.get("kind"), str):
            doc.error("required", "spec.paramKind needs apiVersion and kind", "spec", "paramKind")
        else:
            param_kind = (pk["apiVersion"], pk["kind"])
    allowed = BASE_VARIABLES + ("authorizer",) + (("params",) if param_kind else ())
    match = _match(doc, ("spec", "matchConstraints"), is_binding=False)
    if match is not None and not match.rules:
        doc.error("required", "spec.matchConstraints.resourceRules needs at least one rule", "spec", "matchConstraints")
    conditions = _named_expressions(doc, spec, "matchConditions", "name", allowed, qualified=True)
    variables: list[tuple[str, Expr]] = []
    for i, item in enumerate(_list(doc, spec, "variables")):
        doc.keys(item, ("name", "expression"), "spec", "variables", i)
        vname = item.get("name")
        if not isinstance(vname, str) or not _CEL_IDENT.match(vname):
            doc.error("invalid", f"spec.variables[{i}].name must be a CEL identifier, got {vname!r}",
                      "spec", "variables", i)
            continue
        expr = doc.expression("spec", "variables", i, "expression", allowed=allowed,
                              variables=tuple(n for n, _ in variables))
        if expr is not None:
            variables.append((vname, expr))
    declared = tuple(n for n, _ in variables)
    validations: list[Validation] = []
    for i, item in enumerate(_list(doc, spec, "validations")):
        doc.keys(item, _VALIDATION, "spec", "validations", i)
        expr = doc.expression("spec", "validations", i, "expression", allowed=allowed, variables=declared)
        message = item.get("message")
        if message is not None and (not isinstance(message, str) or not message.strip() or "\n" in message.strip()):
            doc.error("invalid", "message must be a non-empty single line", "spec", "validations", i, "message")
            message = None
        message_expr = None
        if item.get("messageExpression") is not None:
            message_expr = doc.expression("spec", "validations", i, "messageExpression",
                                          allowed=tuple(v for v in allowed if v != "authorizer"), variables=declared)
        reason = item.get("reason")
        if reason is not None and reason not in _REASONS:
            doc.error("invalid", f"reason must be one of {', '.join(_REASONS)}, got {reason!r}",
                      "spec", "validations", i, "reason")
        if expr is not None:
            validations.append(Validation(i, expr, message.strip() if isinstance(message, str) else None,
                                          message_expr, reason, doc.pos("spec", "validations", i)))
    audits = _named_expressions(doc, spec, "auditAnnotations", "key", allowed, expression_key="valueExpression",
                                declared=declared)
    if not spec.get("validations") and not spec.get("auditAnnotations"):
        doc.error("required", "spec.validations or spec.auditAnnotations must have at least one item", "spec")
    if len(diags.errors) > before or match is None:
        return None
    return Policy(name, file, doc.pos("metadata", "name"), failure, param_kind, match, conditions, variables,
                  validations, audits)


def _list(doc: _Doc, spec: dict, key: str) -> list[dict]:
    value = spec.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
        doc.error("shape", f"spec.{key} must be a list of mappings", "spec", key)
        return []
    return value


def _named_expressions(doc: _Doc, spec: dict, key: str, name_key: str, allowed: tuple[str, ...], *,
                       qualified: bool = False, expression_key: str = "expression",
                       declared: tuple[str, ...] = ()) -> list[tuple[str, Expr]]:
    out: list[tuple[str, Expr]] = []
    seen: set[str] = set()
    items = _list(doc, spec, key)
    if key == "matchConditions" and len(items) > 64:
        doc.error("invalid", "spec.matchConditions may have at most 64 items", "spec", key)
    for i, item in enumerate(items):
        doc.keys(item, (name_key, expression_key), "spec", key, i)
        name = item.get(name_key)
        if not isinstance(name, str) or not name or (qualified and not _QUALIFIED.match(name.split("/")[-1])):
            doc.error("invalid", f"spec.{key}[{i}].{name_key} must be a non-empty name, got {name!r}", "spec", key, i)
            continue
        if name in seen:
            doc.error("duplicate", f"spec.{key}[{i}].{name_key} {name!r} is used twice", "spec", key, i, name_key)
            continue
        seen.add(name)
        expr = doc.expression("spec", key, i, expression_key, allowed=allowed,
                              variables=declared if key != "matchConditions" else None)
        if expr is not None:
            out.append((name, expr))
    return out


def _rules(doc: _Doc, base: tuple, key: str) -> list[ResourceRule] | None:
    node = doc.node(*base, key)
    if node is None:
        return None
    value = to_plain(node)
    if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
        doc.error("shape", f"{key} must be a list of rules", *base, key)
        return []
    out = []
    for i, rule in enumerate(value):
        where = (*base, key, i)
        doc.keys(rule, _RULE, *where)
        ops = doc.strings(rule.get("operations"), *where, "operations")
        for op in ops:
            if op not in _OPERATIONS:
                doc.error("invalid", f"operation {op!r} is not one of {', '.join(_OPERATIONS)}", *where, "operations")
        scope = doc.choice(rule.get("scope"), ("*", "Cluster", "Namespaced"), "*", *where, "scope")
        out.append(ResourceRule(ops, doc.strings(rule.get("apiGroups"), *where, "apiGroups"),
                                doc.strings(rule.get("apiVersions"), *where, "apiVersions"),
                                doc.strings(rule.get("resources"), *where, "resources"), scope,
                                doc.strings(rule.get("resourceNames"), *where, "resourceNames")))
    return out


def _selector(doc: _Doc, base: tuple, key: str) -> dict | None:
    sel = doc.mapping(*base, key)
    if sel is None:
        return None
    doc.keys(sel, ("matchLabels", "matchExpressions"), *base, key)
    for i, req in enumerate(sel.get("matchExpressions") or []):
        op = req.get("operator") if isinstance(req, dict) else None
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            doc.error("invalid", f"{key}.matchExpressions[{i}].operator must be In, NotIn, Exists or DoesNotExist",
                      *base, key, "matchExpressions", i)
        elif op in ("In", "NotIn") and not req.get("values"):
            doc.error("invalid", f"{key}.matchExpressions[{i}]: operator {op} needs values", *base, key,
                      "matchExpressions", i)
        elif op in ("Exists", "DoesNotExist") and req.get("values"):
            doc.error("invalid", f"{key}.matchExpressions[{i}]: operator {op} takes no values", *base, key,
                      "matchExpressions", i)
    return sel


def _match(doc: _Doc, base: tuple, is_binding: bool) -> MatchResources | None:
    data = doc.mapping(*base, required=not is_binding)
    if data is None:
        return None
    doc.keys(data, _MATCH, *base)
    policy = doc.choice(data.get("matchPolicy"), ("Exact", "Equivalent"), "Equivalent", *base, "matchPolicy")
    return MatchResources(_selector(doc, base, "namespaceSelector"), _selector(doc, base, "objectSelector"),
                          _rules(doc, base, "resourceRules"), _rules(doc, base, "excludeResourceRules") or [], policy)


def read_binding(root: MapNode, file: str, diags: Diagnostics) -> Binding | None:
    started = _start(root, diags, "ValidatingAdmissionPolicyBinding", _BINDING_SPEC)
    if started is None:
        return None
    doc, name, spec, before = started
    policy_name = spec.get("policyName")
    if not isinstance(policy_name, str) or not policy_name:
        doc.error("required", "spec.policyName is required", "spec")
    actions = doc.strings(spec.get("validationActions"), "spec", "validationActions")
    if not actions:
        doc.error("required", "spec.validationActions needs at least one of Deny, Warn, Audit", "spec",
                  "validationActions")
    for action in actions:
        if action not in ("Deny", "Warn", "Audit"):
            doc.error("invalid", f"validation action {action!r} is not one of Deny, Warn, Audit", "spec",
                      "validationActions")
    if len(set(actions)) != len(actions):
        doc.error("duplicate", "spec.validationActions lists an action twice", "spec", "validationActions")
    if "Deny" in actions and "Warn" in actions:
        doc.error("invalid", "spec.validationActions must not contain both Deny and Warn", "spec", "validationActions")
    param_ref = None
    ref = doc.mapping("spec", "paramRef")
    if ref is not None:
        doc.keys(ref, _PARAM_REF, "spec", "paramRef")
        if (ref.get("name") is None) == (ref.get("selector") is None):
            doc.error("invalid", "spec.paramRef needs exactly one of name and selector", "spec", "paramRef")
        action = ref.get("parameterNotFoundAction")
        if action not in ("Allow", "Deny"):
            doc.error("invalid", "spec.paramRef.parameterNotFoundAction must be Allow or Deny"
                      + (" (it is required)" if action is None else f", got {action!r}"), "spec", "paramRef")
        selector = _selector(doc, ("spec", "paramRef"), "selector") if ref.get("selector") is not None else None
        param_ref = ParamRef(ref.get("name"), ref.get("namespace"), selector, action or "Deny")
    match = _match(doc, ("spec", "matchResources"), is_binding=True)
    if len(diags.errors) > before:
        return None
    return Binding(name, file, doc.pos("metadata", "name"), policy_name, actions, param_ref, match)
