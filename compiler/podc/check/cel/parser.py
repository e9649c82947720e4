"""A recursive-descent parser for CEL (the cel-spec grammar) that expands macros.

Limits, as cel-go has them, so no expression can exhaust the interpreter: at most
:data:`MAX_LENGTH` characters, :data:`MAX_NESTING` levels of parentheses/brackets/calls, and a
syntax tree at most :data:`MAX_DEPTH` deep. Every error is a :class:`CelSyntaxError` at an offset.
"""

from __future__ import annotations

from podc.check.cel.lexer import RESERVED, CelSyntaxError, Token, tokenize
from podc.check.cel.nodes import (COMPREHENSIONS, And, Binary, Call, Comp, Cond, Has, Ident, Index, ListLit, Lit,
                                  MapLit, Node, OptMap, Or, Select, Unary)

__all__ = ["parse", "MAX_LENGTH", "MAX_NESTING", "MAX_DEPTH"]

MAX_LENGTH = 100_000   # cel-go's default expression size limit (code points)
MAX_NESTING = 50       # nested (), [], {} and calls
MAX_DEPTH = 150        # depth of the syntax tree (a.b.c… and a+b+c… chains count too)

_RELATIONS = ("<", "<=", ">", ">=", "==", "!=", "in")
_LITERALS = {"true": True, "false": False, "null": None}


def parse(source: str) -> Node:
    if len(source) > MAX_LENGTH:
        raise CelSyntaxError(f"expression is {len(source):,} characters long; the limit is {MAX_LENGTH:,}", MAX_LENGTH)
    parser = _Parser(source, tokenize(source))
    node = parser.expr()
    if parser.tok.kind != "eof":
        raise CelSyntaxError(f"unexpected {_describe(parser.tok)} after the end of the expression", parser.tok.start)
    _check_depth(node)
    return node


def _describe(tok: Token) -> str:
    if tok.kind == "eof":
        return "end of expression"
    if tok.kind in ("op", "ident"):
        return f"'{tok.value}'"
    return f"{tok.kind} literal"


def _check_depth(root: Node) -> None:
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise CelSyntaxError(f"expression nests more than {MAX_DEPTH} levels deep", node.offset)
        stack.extend((child, depth + 1) for child in node.children())


class _Parser:
    def __init__(self, source: str, tokens: list[Token]):
        self.source, self.tokens, self.i, self.nesting = source, tokens, 0, 0
        self.tok = tokens[0]

    # -- token helpers
    def advance(self) -> Token:
        tok = self.tok
        self.i += 1
        self.tok = self.tokens[min(self.i, len(self.tokens) - 1)]
        return tok

    def at(self, value: str) -> bool:
        return self.tok.kind == "op" and self.tok.value == value

    def expect(self, value: str, what: str) -> Token:
        if not self.at(value):
            raise CelSyntaxError(f"expected '{value}' {what}, found {_describe(self.tok)}", self.tok.start)
        return self.advance()

    def peek_is(self, k: int, value: str) -> bool:
        tok = self.tokens[min(self.i + k, len(self.tokens) - 1)]
        return tok.kind == "op" and tok.value == value

    # -- grammar
    def expr(self) -> Node:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise CelSyntaxError(f"expression nests more than {MAX_NESTING} levels of parentheses, brackets or calls",
                                 self.tok.start)
        try:
            cond = self.logical(Or, "||", self.logical_and)
            if self.at("?"):
                self.advance()
                then = self.logical(Or, "||", self.logical_and)
                self.expect(":", "in a conditional (a ? b : c)")
                return Cond(cond.offset, cond, then, self.expr())
            return cond
        finally:
            self.nesting -= 1

    def logical_and(self) -> Node:
        return self.logical(And, "&&", self.relation)

    def logical(self, cls, op: str, operand) -> Node:
        first = operand()
        if not self.at(op):
            return first
        terms = [first]
        while self.at(op):
            self.advance()
            terms.append(operand())
        return cls(first.offset, terms)

    def relation(self) -> Node:
        left = self.addition()
        while True:
            tok = self.tok
            if tok.kind == "op" and tok.value in _RELATIONS or tok.kind == "ident" and tok.value == "in":
                self.advance()
                left = Binary(tok.start, tok.value, left, self.addition())
            else:
                return left

    def addition(self) -> Node:
        left = self.multiplication()
        while self.tok.kind == "op" and self.tok.value in ("+", "-"):
            tok = self.advance()
            left = Binary(tok.start, tok.value, left, self.multiplication())
        return left

    def multiplication(self) -> Node:
        left = self.unary()
        while self.tok.kind == "op" and self.tok.value in ("*", "/", "%"):
            tok = self.advance()
            left = Binary(tok.start, tok.value, left, self.unary())
        return left

    def unary(self) -> Node:
        if self.at("!") or self.at("-"):
            ops: list[Token] = []
            while self.tok.kind == "op" and self.tok.value in ("!", "-"):
                ops.append(self.advance())
            if ops[-1].value == "-" and self.tok.kind in ("int", "double"):
                # -9223372036854775808 is a literal, not the negation of an out-of-range one
                lit = self.advance()
                operand: Node = Lit(ops[-1].start, -lit.value)
                ops.pop()
                operand = self.member_suffixes(operand)
            else:
                operand = self.member()
            for tok in reversed(ops):
                operand = Unary(tok.start, tok.value, operand)
            return operand
        if self.tok.kind == "int" and self.tok.value == 2**63:
            raise CelSyntaxError("int literal 9223372036854775808 is out of range", self.tok.start)
        return self.member()

    def member(self) -> Node:
        return self.member_suffixes(self.primary())

    def member_suffixes(self, node: Node) -> Node:
        while True:
            if self.at("."):
                dot = self.advance()
                optional = False
                if self.at("?"):
                    self.advance()
                    optional = True
                name = self.field_name()
                if not optional and self.at("("):
                    args = self.arguments()
                    node = self.call(dot.start, name, node, args)
                else:
                    node = Select(dot.start, node, name, optional)
            elif self.at("["):
                open_ = self.advance()
                optional = False
                if self.at("?"):
                    self.advance()
                    optional = True
                index = self.expr()
                self.expect("]", "to close the index")
                node = Index(open_.start, node, index, optional)
            else:
                return node

    def field_name(self) -> str:
        tok = self.tok
        if tok.kind == "quoted":
            self.advance()
            return tok.value
        if tok.kind != "ident":
            raise CelSyntaxError(f"expected a field name after '.', found {_describe(tok)}", tok.start)
        self.advance()
        return tok.value

    def arguments(self) -> list[Node]:
        self.expect("(", "")
        args: list[Node] = []
        self.nesting += 1
        try:
            while not self.at(")"):
                args.append(self.expr())
                if not self.at(","):
                    break
                self.advance()
            self.expect(")", "to close the argument list")
        finally:
            self.nesting -= 1
        return args

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind in ("int", "uint", "double", "string", "bytes"):
            self.advance()
            return Lit(tok.start, tok.value)
        if tok.kind == "ident":
            return self.identifier()
        if tok.kind == "op":
            if tok.value == "(":
                self.advance()
                inner = self.expr()
                self.expect(")", "to close '('")
                return inner
            if tok.value == "[":
                return self.list_literal()
            if tok.value == "{":
                return self.map_literal()
            if tok.value == ".":  # a leading dot names the root scope: .x is x
                self.advance()
                return self.identifier()
        if tok.kind == "eof":
            raise CelSyntaxError("expected an operand, found the end of the expression", tok.start)
        raise CelSyntaxError(f"expected an operand, found {_describe(tok)}", tok.start)

    def identifier(self) -> Node:
        tok = self.advance()
        if tok.kind != "ident":
            raise CelSyntaxError(f"expected an identifier, found {_describe(tok)}", tok.start)
        name = tok.value
        if name in _LITERALS:
            return Lit(tok.start, _LITERALS[name])
        if name in RESERVED or name == "in":
            raise CelSyntaxError(f"'{name}' is a reserved word", tok.start)
        # A dotted global function (optional.of, sets.contains, base64.encode) is one name.
        if self.at(".") and self.peek_is(2, "(") and self.tokens[self.i + 1].kind == "ident" \
                and f"{name}.{self.tokens[self.i + 1].value}" in _DOTTED_GLOBALS:
            self.advance()
            name = f"{name}.{self.advance().value}"
        if self.at("("):
            return self.call(tok.start, name, None, self.arguments())
        if self.at("{"):
            raise CelSyntaxError("message construction (Type{field: value}) is not supported", self.tok.start)
        return Ident(tok.start, name)

    def list_literal(self) -> Node:
        open_ = self.advance()
        items: list[Node] = []
        optional: list[bool] = []
        self.nesting += 1
        try:
            while not self.at("]"):
                opt = False
                if self.at("?"):
                    self.advance()
                    opt = True
                items.append(self.expr())
                optional.append(opt)
                if not self.at(","):
                    break
                self.advance()
            self.expect("]", "to close the list")
        finally:
            self.nesting -= 1
        return ListLit(open_.start, items, optional)

    def map_literal(self) -> Node:
        open_ = self.advance()
        entries: list[tuple[Node, Node, bool]] = []
        self.nesting += 1
        try:
            while not self.at("}"):
                opt = False
                if self.at("?"):
                    self.advance()
                    opt = True
                key = self.expr()
                self.expect(":", "between a map key and its value")
                entries.append((key, self.expr(), opt))
                if not self.at(","):
                    break
                self.advance()
            self.expect("}", "to close the map")
        finally:
            self.nesting -= 1
        return MapLit(open_.start, entries)

    # -- macros
    def call(self, offset: int, name: str, target: Node | None, args: list[Node]) -> Node:
        if target is None and name == "has":
            if len(args) != 1 or not isinstance(args[0], Select) or args[0].optional:
                raise CelSyntaxError("has() takes one field selection, e.g. has(object.spec.x)", offset)
            sel = args[0]
            return Has(offset, sel.operand, sel.field)
        if target is not None and name in COMPREHENSIONS and args:
            return self.comprehension(offset, name, target, args)
        if target is not None and name in ("optMap", "optFlatMap") and len(args) == 2:
            return OptMap(offset, name, target, self.variable(args[0], name), args[1])
        return Call(offset, name, target, args)

    def comprehension(self, offset: int, kind: str, target: Node, args: list[Node]) -> Node:
        two_var_kinds = ("all", "exists", "existsOne", "transformList", "transformMap", "transformMapEntry")
        one_var = {"all": (2,), "exists": (2,), "exists_one": (2,), "existsOne": (2,), "map": (2, 3),
                   "filter": (2,)}
        two_var = {"all": (3,), "exists": (3,), "existsOne": (3,), "transformList": (3, 4),
                   "transformMap": (3, 4), "transformMapEntry": (3, 4)}
        n = len(args)
        if n in one_var.get(kind, ()):
            return Comp(offset, kind, target, self.variable(args[0], kind), None, args[1:])
        if kind in two_var_kinds and n in two_var.get(kind, ()):
            first, second = self.variable(args[0], kind), self.variable(args[1], kind)
            if first == second:
                raise CelSyntaxError(f"{kind}(): the two iteration variables must differ", args[1].offset)
            return Comp(offset, kind, target, first, second, args[2:])
        counts = sorted({c for table in (one_var, two_var) for c in table.get(kind, ())})
        raise CelSyntaxError(f"{kind}() takes {' or '.join(map(str, counts))} arguments, got {n}", offset)

    @staticmethod
    def variable(node: Node, macro: str) -> str:
        if not isinstance(node, Ident):
            raise CelSyntaxError(f"the first argument of {macro}() must be a variable name", node.offset)
        if node.name in ("__result__",):
            raise CelSyntaxError(f"{node.name} is reserved", node.offset)
        return node.name


_DOTTED_GLOBALS = frozenset((
    "optional.of", "optional.none", "optional.ofNonZeroValue", "sets.contains", "sets.equivalent",
    "sets.intersects", "strings.quote", "base64.encode", "base64.decode", "math.greatest", "math.least",
    "format.named", "format.dns1123Label", "format.dns1123Subdomain", "format.dns1035Label",
    "format.qualifiedName", "format.dns1123LabelPrefix", "format.dns1123SubdomainPrefix",
    "format.dns1035LabelPrefix", "format.labelValue", "format.uri", "format.uuid", "format.byte",
    "format.date", "format.datetime", "ip.isCanonical",
))
