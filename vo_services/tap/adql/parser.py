"""ADQL text to the typed tree of :mod:`.ast`: a recursive-descent fast path, lark as reference.

:mod:`.descent` reads the queries it can (most of them) in about a third of lark's time; on
anything else, every syntax error included, it gives up and lark's LALR(1) parser with a
tree-building callback (:class:`_TreeBuilder`) reads the query, so what is accepted and every
error message are lark's (docs/adql.md, "Speed"). lark's transformer runs inside the parser
(lark calls it on every reduction), so no intermediate parse tree is built and nothing recurses
over the input: a long query costs time proportional to its length, and its length is bounded.
Errors from lark are turned into :class:`AdqlSyntaxError` with a position and the expected
input in words.
"""
from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import Lexer

from . import ast, descent
from .errors import AdqlSyntaxError
from .reserved import AGGREGATE_NAMES, FUNCTION_NAMES, GEOMETRY_TYPES, RESERVED_WORDS

MAX_QUERY_LENGTH = 100_000  # characters; TAP's limit on the QUERY parameter
MAX_DEPTH = 100  # nesting of the tree; deeper queries are rejected before anything recurses

_GRAMMAR = (Path(__file__).parent / "grammar.lark").read_text()
_DECLARED = set(" ".join(re.findall(r"^%declare (.+)$", _GRAMMAR, re.MULTILINE)).split())


def _keyword_type(word: str) -> str | None:
    """The token type of a reserved word; None for an ordinary name."""
    if word in FUNCTION_NAMES:
        return "FUNCTION_NAME"
    if word in GEOMETRY_TYPES:
        return "GEOMETRY_TYPE"
    if word in AGGREGATE_NAMES:
        return "AGGREGATE_NAME"
    for name in (word, "_" + word):
        if name in _DECLARED:
            return name
    return "RESERVED_WORD" if word in RESERVED_WORDS else None


_KEYWORD_TYPES = {w: _keyword_type(w) for w in RESERVED_WORDS}


_MULTILINE = frozenset({"WHITESPACE", "STRING", "DELIMITED_IDENTIFIER"})  # may hold newlines


class _Scanner(Lexer):
    """ADQL text to tokens, reserved words typed as keywords (see grammar.lark).

    The terminals of grammar.lark joined into one regular expression, in lark's own order
    (priority, then longest possible match first: HEX and DECIMAL before UNSIGNED_INTEGER,
    "--" before "-", "||" before "|"). A plain loop over it, typing keywords as it goes, is
    faster than lark's contextual lexer with a post-lexer (docs/adql.md, "Speed").
    """

    def __init__(self, lexer_conf):
        terminals = sorted(lexer_conf.terminals, key=lambda t: (
            -t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name))
        self.pattern = re.compile("|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})"
                                           for t in terminals))
        self.skipped = frozenset(lexer_conf.ignore)

    def lex(self, text: str):
        match, skipped = self.pattern.match, self.skipped
        position, line, line_start, end = 0, 1, 0, len(text)
        previous = None
        while position < end:
            found = match(text, position)
            if found is None:
                raise _unexpected_character(text, position, line, position - line_start + 1)
            kind = found.lastgroup
            value = found.group()
            stop = found.end()
            if kind in skipped:
                if kind == "WHITESPACE" and "\n" in value:
                    line += value.count("\n")
                    line_start = position + value.rindex("\n") + 1
                previous = None
                position = stop
                continue
            token = _token(kind, value, position, line, position - line_start + 1, stop)
            if previous is not None:
                _check_number_end(previous, token)
            if kind == "REGULAR_IDENTIFIER":
                keyword = _KEYWORD_TYPES.get(value.upper())
                if keyword:
                    token.type = keyword
            elif kind in _MULTILINE and "\n" in value:
                line += value.count("\n")
                line_start = position + value.rindex("\n") + 1
            previous = token if kind in _NUMBERS else None
            position = stop
            yield token


def _token(kind: str, value: str, start: int, line: int, column: int, end: int) -> Token:
    """``Token(kind, value, start, line, column, end_pos=end)``, built as lark's own constructor
    does but without its argument shims, which cost as much as the rest of the scanning."""
    token = str.__new__(Token, value)
    token.type, token.value, token.start_pos, token.end_pos = kind, value, start, end
    token.line, token.column, token.end_line, token.end_column = line, column, None, None
    return token


def _unexpected_character(text: str, position: int, line: int, column: int) -> AdqlSyntaxError:
    char = text[position]
    if char == "'":
        message = "this string has no closing quote (')"
    elif char == '"':
        message = 'this name has no closing double quote (")'
    else:
        message = f"unexpected character {char!r}"
    return AdqlSyntaxError(message, line, column)


_NUMBERS = frozenset({"UNSIGNED_INTEGER", "DECIMAL", "HEX"})


def _check_number_end(number: Token, following: Token) -> None:
    """Refuse a numeric literal that runs on into what cannot end it (ADQL 2.1 BNF
    <unsigned_numeric_literal>: an exponent has digits; <exact_numeric_literal> one period).

    ``1e`` (an exponent without digits), ``1.2.3``, ``0x`` (hex without digits) and ``0x1G`` are
    malformed literals, not a number followed by a name. A keyword or name right after a
    complete number (``ORDER BY 2desc``) is accepted, as lyonetia's collection has it.
    """
    text = str(following)
    if following.type in _NUMBERS or text.startswith("."):
        problem = "a number cannot run on into another number or a '.'"
    elif following.type != "REGULAR_IDENTIFIER":
        return
    elif number.type == "HEX":
        problem = "a hexadecimal literal has only the digits 0-9, A-F after 0x"
    elif number.type == "UNSIGNED_INTEGER" and number == "0" and text[0] in "xX":
        problem = "a hexadecimal literal needs at least one digit after 0x"
    elif text[0] in "eE" and (len(text) == 1 or not text[1:].isalpha()):
        problem = "the exponent of a number needs digits, as in 1E5 or 1.5E-3"
    else:
        return
    raise AdqlSyntaxError(f"malformed number '{number}{text}': {problem}", number.line,
                          number.column)


def _pos(item) -> ast.Position | None:
    if isinstance(item, Token):
        return ast.Position(item.line, item.column)
    return getattr(item, "pos", None)


def _first_pos(*items) -> ast.Position | None:
    return next((p for p in map(_pos, items) if p is not None), None)


def _unquote(text: str, quote: str) -> str:
    return text[1:-1].replace(quote * 2, quote)


class _TreeBuilder(Transformer):
    """One method per grammar rule (or alias); each returns an :mod:`.ast` node."""

    # Statements and queries

    def start(self, children):
        return children[0]

    def statement(self, children):
        with_, body = children
        return ast.Query(body, with_ or (), pos=body.pos)

    def with_clause(self, children):
        return tuple(children)

    def common_table(self, children):
        name, query = children
        return ast.CommonTable(name, query, pos=name.pos)

    def query_expr(self, children):
        body, order_by, offset = children
        if order_by is None and offset is None:
            return body
        if body.order_by or body.offset is not None:
            raise _error(_first_pos(*order_by or (), offset),
                         "a parenthesised query with its own ORDER BY or OFFSET cannot take "
                         "another one; move it inside the parentheses")
        return replace(body, order_by=order_by or (), offset=offset.value if offset else None)

    def set_operation(self, children):
        left, op, all_, right = children
        return ast.SetOperation(op.upper(), left, right, all=all_ is not None, pos=left.pos)

    def subquery(self, children):
        return children[0]

    def select(self, children):
        keyword, quantifier, top, items, from_, where, group_by, having = children
        return ast.Select(
            items=items, from_=from_, distinct=quantifier == "DISTINCT",
            top=int(top) if top is not None else None, where=where, group_by=group_by or (),
            having=having, pos=_pos(keyword))

    def set_quantifier(self, children):
        return children[0].upper()

    def top(self, children):
        return children[0]

    def bare_star(self, children):
        return ast.AllColumns(pos=_pos(children[0]))

    def select_list(self, children):
        return tuple(children)

    def derived_column(self, children):
        expr, alias = children
        return ast.SelectItem(expr, alias, pos=expr.pos)

    def qualified_star(self, children):
        names, _star = children
        return ast.AllColumns(names, pos=names[0].pos)

    def from_clause(self, children):
        return tuple(children)

    def table(self, children):
        names, alias = children
        if len(names) > 3:
            raise _error(names[0].pos, f"'{ast.dotted(names)}' is not a table name: "
                                       "at most catalog.schema.table")
        return ast.TableRef(names, alias, pos=names[0].pos)

    def derived_table(self, children):
        query, alias = children
        return ast.DerivedTable(query, alias, pos=query.pos)

    def joined_table(self, children):
        left, natural, join_type, keyword, right, spec = children
        condition, using = spec if spec else (None, ())
        if spec is not None and natural is not None:
            raise _error(_pos(keyword), "a NATURAL JOIN cannot also have ON or USING")
        return ast.Join(left, right, kind=join_type or "INNER", natural=natural is not None,
                        condition=condition, using=using, pos=left.pos)

    def join_type(self, children):
        return children[0].upper()

    def join_on(self, children):
        return children[0], ()

    def join_using(self, children):
        return None, tuple(children)

    def where(self, children):
        return children[0]

    def having(self, children):
        return children[0]

    def group_by(self, children):
        return tuple(children)

    def order_by(self, children):
        return tuple(children)

    def order_item(self, children):
        expr, direction = children
        return ast.OrderItem(expr, descending=direction is not None and direction.upper() == "DESC",
                             pos=expr.pos)

    def offset(self, children):
        return ast.NumberLiteral(str(children[0]), pos=_pos(children[0]))

    # Conditions

    def or_(self, children):
        return self._bool_op("OR", children)

    def and_(self, children):
        return self._bool_op("AND", children)

    @staticmethod
    def _bool_op(op, children):
        operands = []
        for child in children:  # flatten a AND b AND c: long chains must not nest deeply
            operands.extend(child.operands if isinstance(child, ast.BoolOp) and child.op == op
                            else (child,))
        return ast.BoolOp(op, tuple(operands), pos=operands[0].pos)

    def not_(self, children):
        keyword, operand = children
        return ast.Not(operand, pos=_pos(keyword))

    def comparison(self, children):
        left, op, right = children
        return ast.Comparison("<>" if op == "!=" else str(op), left, right, pos=left.pos)

    def between(self, children):
        operand, negated, low, high = children
        return ast.Between(operand, low, high, negated=negated is not None, pos=operand.pos)

    def in_list(self, children):
        operand, negated, *items = children
        return ast.InList(operand, tuple(items), negated=negated is not None, pos=operand.pos)

    def in_subquery(self, children):
        operand, negated, query = children
        return ast.InQuery(operand, query, negated=negated is not None, pos=operand.pos)

    def like(self, children):
        operand, negated, keyword, pattern = children
        return ast.Like(operand, pattern, negated=negated is not None,
                        case_insensitive=keyword.upper() == "ILIKE", pos=operand.pos)

    def is_null(self, children):
        operand, negated, _null = children
        return ast.IsNull(operand, negated=negated is not None, pos=operand.pos)

    def exists(self, children):
        keyword, query = children
        return ast.Exists(query, pos=_pos(keyword))

    # Values

    def binary(self, children):
        left, op, right = children
        return ast.Binary(str(op), left, right, pos=left.pos)

    def unary(self, children):
        op, operand = children
        return ast.Unary(str(op), operand, pos=_pos(op))

    def column_ref(self, children):
        names = children[0]
        if len(names) > 4:
            raise _error(names[0].pos, f"'{ast.dotted(names)}' is not a column name: "
                                       "at most catalog.schema.table.column")
        return ast.ColumnRef(names, pos=names[0].pos)

    def function_call(self, children):
        name, *args = children
        return ast.FunctionCall(name.upper(), tuple(a for a in args if a is not None),
                                pos=_pos(name))

    def udf_call(self, children):
        name, *args = children
        return ast.UdfCall(name.lower(), tuple(a for a in args if a is not None), pos=_pos(name))

    def aggregate(self, children):
        name = children[0]
        if len(children) == 2:  # COUNT(*)
            return ast.Aggregate("COUNT", None, pos=_pos(name))
        _, quantifier, arg = children
        return ast.Aggregate(name.upper(), arg, distinct=quantifier == "DISTINCT", pos=_pos(name))

    def cast(self, children):
        keyword, operand, target = children
        return ast.Cast(operand, target, pos=_pos(keyword))

    def cast_type(self, children):
        name = children[0].upper()
        length = int(children[1]) if len(children) > 1 and children[1] is not None else None
        return ast.TypeName(name, length, pos=_pos(children[0]))

    def case(self, children):
        keyword, operand, *whens, default = children
        return ast.Case(operand, tuple(whens), default, pos=_pos(keyword))

    def when(self, children):
        return tuple(children)

    def scalar_subquery(self, children):
        query = children[0]
        return ast.ScalarQuery(query, pos=query.pos)

    def string(self, children):
        token = children[0]
        return ast.StringLiteral(_unquote(token, "'"), pos=_pos(token))

    def integer(self, children):
        return ast.NumberLiteral(str(children[0]), pos=_pos(children[0]))

    def decimal(self, children):
        return ast.NumberLiteral(str(children[0]), pos=_pos(children[0]))

    def hex(self, children):
        return ast.HexLiteral(str(children[0]), pos=_pos(children[0]))

    def null(self, children):
        return ast.NullLiteral(pos=_pos(children[0]))

    def names(self, children):
        if len(children) == 1:
            return (self.identifier(children),)
        chain, name = children
        return chain + (self.identifier([name]),)

    def identifier(self, children):
        token = children[0]
        if token.type == "DELIMITED_IDENTIFIER":
            name = _unquote(token, '"')
            if "\0" in name:
                raise _error(_pos(token), "a name cannot contain a NUL character")
            return ast.Identifier(name, delimited=True, pos=_pos(token))
        return ast.Identifier(str(token), pos=_pos(token))


def _error(pos: ast.Position | None, message: str) -> AdqlSyntaxError:
    return AdqlSyntaxError(message, pos.line if pos else None, pos.column if pos else None)


@lru_cache(maxsize=1)
def _lark() -> Lark:
    return Lark(_GRAMMAR, parser="lalr", lexer=_Scanner, transformer=_TreeBuilder(),
                maybe_placeholders=True, propagate_positions=False)


# Trees of queries up to CACHED_LENGTH characters are kept for the next same text, at most
# CACHED_TREES of them: a tree takes 35-100 bytes per character of its query (measured with
# tracemalloc), so the cache stays under about 25 MB per process even full of the longest ones.
CACHED_LENGTH = 2000
CACHED_TREES = 128


def parse(query: str, max_length: int = MAX_QUERY_LENGTH, max_depth: int = MAX_DEPTH) -> ast.Query:
    """The tree of one ADQL 2.1 statement; :class:`AdqlSyntaxError` if it is not one.

    The trees of the last CACHED_TREES short queries are kept: the same text comes back often
    (the /tap/examples queries, clients polling, pages re-run), trees are immutable, and parsing
    is a large part of a translation's time. Errors are not kept.
    """
    if len(query) <= CACHED_LENGTH:
        return _parse_cached(query, max_length, max_depth)
    return _parse(query, max_length, max_depth)


def _parse(query: str, max_length: int, max_depth: int) -> ast.Query:
    if len(query) > max_length:
        raise AdqlSyntaxError(f"the query is {len(query)} characters long; at most {max_length} "
                              "are accepted")
    if not query.strip():
        raise AdqlSyntaxError("the query is empty")
    try:
        fast = descent.Parser(query, _fast_tokens(query))
        tree = fast.statement()
        bound = fast.depth_bound()
    except Exception:  # noqa: BLE001 - anything the fast path does not take, lark decides
        tree, bound = _parse_with_lark(query), None
    if not max_depth or (bound is not None and bound <= max_depth):
        return tree  # no need to walk the tree to know it is shallow enough
    depth = ast.depth(tree)
    if depth > max_depth:
        raise AdqlSyntaxError(f"the query is nested {depth} levels deep; at most {max_depth} "
                              "are accepted")
    return tree


_parse_cached = lru_cache(maxsize=CACHED_TREES)(_parse)


def _parse_with_lark(query: str) -> ast.Query:
    """The reference parser: grammar.lark with lark's LALR(1) parser and :class:`_TreeBuilder`;
    every syntax error is worded from here."""
    try:
        return _lark().parse(query)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, query) from None


@lru_cache(maxsize=1)
def _scanner() -> _Scanner:
    return _Scanner(_lark().lexer_conf)


def _fast_tokens(query: str) -> list[tuple[str, str, int]]:
    """The tokens of ``query`` for :mod:`.descent`, by the same regular expression as lark's."""
    scanner = _scanner()
    return descent.tokens(query, scanner.pattern, scanner.skipped, _KEYWORD_TYPES)


# Error messages --------------------------------------------------------------------------------

_EXPRESSION_STARTS = {"REGULAR_IDENTIFIER", "UNSIGNED_INTEGER", "STRING", "FUNCTION_NAME"}

_WORDS = {
    "REGULAR_IDENTIFIER": "a name", "DELIMITED_IDENTIFIER": None, "STRING": "a string",
    "UNSIGNED_INTEGER": "an integer", "DECIMAL": "a number", "HEX": None,
    "FUNCTION_NAME": "a function", "GEOMETRY_TYPE": "POINT, CIRCLE, POLYGON", "AGGREGATE_NAME": None,
    "COMP_OP": "a comparison", "LPAR": "'('", "RPAR": "')'", "COMMA": "','", "DOT": "'.'",
    "SEMICOLON": "';'", "CONCAT": "'||'", "BIT_OR": "'|'", "BIT_XOR": "'^'", "BIT_AND": "'&'",
    "BIT_NOT": "'~'", "PLUS": "'+'", "MINUS": "'-'", "STAR": "'*'", "SLASH": "'/'",
    "$END": "the end of the query", "RESERVED_WORD": None,
}


def _expected_words(expected: set[str]) -> str:
    if _EXPRESSION_STARTS <= expected:
        return "a column name or expression"
    if expected <= {"REGULAR_IDENTIFIER", "DELIMITED_IDENTIFIER"}:
        return "a name"
    words = sorted({_WORDS.get(name, name.lstrip("_")) for name in expected} - {None},
                   key=lambda w: (w == "the end of the query", not w.isupper(), w))
    if len(words) > 12:
        words = words[:11] + ["..."]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _found(token: Token, name_expected: bool) -> str:
    if token.type == "$END":
        return "the end of the query"
    if name_expected and token.upper() in RESERVED_WORDS:
        return f"'{token}', a reserved word (write \"{token.lower()}\" to use it as a name)"
    if token.type in ("REGULAR_IDENTIFIER", "DELIMITED_IDENTIFIER", "STRING", "UNSIGNED_INTEGER",
                      "DECIMAL", "HEX") or token.type.lstrip("_") != token.upper():
        return f"'{token}'"
    return token.upper()  # a keyword


def _syntax_error(exc: UnexpectedInput, query: str) -> AdqlSyntaxError:
    if isinstance(exc, UnexpectedEOF):
        return AdqlSyntaxError(f"the query ends too early: expected {_expected_words(exc.expected)}")
    assert isinstance(exc, UnexpectedToken)
    token = exc.token
    before = query[:exc.pos_in_stream].rstrip() if token.type != "$END" else query.rstrip()
    if token.type != "$END" and before.endswith(";"):
        return AdqlSyntaxError("only one statement is allowed: nothing may follow ';'",
                               token.line, token.column)
    if token.type == "_WITH":
        return AdqlSyntaxError("WITH can only begin the whole query, not a subquery or a part "
                               "of UNION, EXCEPT or INTERSECT (ADQL 2.1 §4.5)", token.line,
                               token.column)
    expected = _parser_expected(exc)
    names = {"REGULAR_IDENTIFIER", "DELIMITED_IDENTIFIER"}
    found = _found(token, expected <= names or (token.type == "RESERVED_WORD" and names & expected))
    message = f"expected {_expected_words(expected)}, found {found}"
    function = re.search(r"([A-Za-z][A-Za-z0-9_]*)$", before)
    if exc.expected == {"LPAR"} and function and function.group(1).upper() in RESERVED_WORDS:
        word = function.group(1)
        message += (f" ({word.upper()} is a function and a reserved word: write "
                    f"\"{word.lower()}\" to use it as a name)")
    if token.type == "$END":
        return AdqlSyntaxError(message, *_end_position(query))
    return AdqlSyntaxError(message, token.line, token.column)


def _parser_expected(exc: UnexpectedToken) -> set[str]:
    """The terminals that could follow, exactly.

    LALR merges states, so lark's own ``expected`` can include terminals that are valid only in
    another context; trying each one on a copy of the parser gives the true set.
    """
    if exc.interactive_parser is not None:
        return set(exc.interactive_parser.accepts())
    return set(exc.expected)


def _end_position(query: str) -> tuple[int, int]:
    lines = query.rstrip().split("\n")
    return len(lines), len(lines[-1]) + 1
