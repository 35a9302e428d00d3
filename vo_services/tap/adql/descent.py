"""A recursive-descent parser for the queries people send: the fast path of :mod:`.parser`.

It follows grammar.lark rule for rule and builds exactly the tree lark's LALR parser and
``parser._TreeBuilder`` build (same nodes, same positions), in about a third of the time: no
Token objects, no LALR tables, no callback per reduction. It decides nothing on its own about
what is wrong: on anything it does not accept (a syntax error, a name of too many parts, a
nesting deeper than ``MAX_NESTING``, or one of the rare inputs whose reading lark settles by a
rule priority, a "((" that may open a subquery) it raises :class:`Fallback`, and the parser
runs lark on the same text, which gives the error, with its position and expected input, or the
tree. So the set of accepted queries and every error message stay lark's; the differential test
(tests/adql/test_descent.py) checks that whatever this accepts, lark accepts with the same tree.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import replace

from . import ast
from .ast import Position

#: Levels of expressions and subqueries nested in one another (each costs a few Python frames);
#: deeper queries go to lark, whose LALR loop does not recurse.
MAX_NESTING = 60

_NAMES = frozenset({"REGULAR_IDENTIFIER", "DELIMITED_IDENTIFIER"})
_NUMBERS = frozenset({"UNSIGNED_INTEGER", "DECIMAL", "HEX"})
_NEWLINE = re.compile("\n")
#: Binding strength of the binary value operators (grammar.lark: value, sum, product).
_BINARY = {"CONCAT": 1, "BIT_OR": 1, "BIT_XOR": 1, "BIT_AND": 1, "PLUS": 2, "MINUS": 2,
           "STAR": 3, "SLASH": 3}
_JOIN_WORDS = frozenset({"NATURAL", "INNER", "LEFT", "RIGHT", "FULL", "JOIN"})
_SIMPLE_TYPES = frozenset({"SMALLINT", "INTEGER", "BIGINT", "REAL", "TIMESTAMP", "GEOMETRY_TYPE"})


class Fallback(Exception):
    """This parser does not take the query; lark decides (see the module's docstring)."""


def tokens(text: str, pattern: re.Pattern, skipped: frozenset[str],
           keyword_types: dict[str, str | None]) -> list[tuple[str, str, int]]:
    """``(type, text, offset)`` of each token, reserved words typed as lark's scanner types
    them, then ``("$END", "", length)``.

    A number run on into a name, a number or a '.' (``1e``, ``0x1G``, but also ``2desc``) is
    left to lark's scanner (``parser._check_number_end``), which knows which are malformed.
    """
    found_tokens: list[tuple[str, str, int]] = []
    append = found_tokens.append
    position = 0
    after_number = False
    for found in pattern.finditer(text):
        start = found.start()
        if start != position:  # a character no terminal matches
            raise Fallback
        position = found.end()
        kind = found.lastgroup
        if kind in skipped:
            after_number = False
            continue
        value = found.group()
        if after_number and (kind in _NUMBERS or kind == "REGULAR_IDENTIFIER" or value[0] == "."):
            raise Fallback
        if kind == "REGULAR_IDENTIFIER":
            kind = keyword_types.get(value.upper()) or kind
            after_number = False
        else:
            after_number = kind in _NUMBERS
        append((kind, value, start))
    if position != len(text):
        raise Fallback
    append(("$END", "", position))
    return found_tokens


def _unquote(text: str, quote: str) -> str:
    return text[1:-1].replace(quote * 2, quote)


class Parser:
    """One statement's tokens to its :class:`ast.Query` (grammar.lark's rules, top down)."""

    __slots__ = ("tokens", "kinds", "i", "nesting", "deepest", "chains", "line_starts")

    def __init__(self, text: str, found_tokens: list[tuple[str, str, int]]):
        self.tokens = found_tokens
        self.kinds = [t[0] for t in found_tokens]
        self.i = 0
        self.nesting = 0
        self.deepest = 0  # the most levels of nesting seen
        self.chains = 0  # nodes made by a loop (a + b + c, UNION, JOIN): depth without nesting
        self.line_starts = ([0] + [m.end() for m in _NEWLINE.finditer(text)]
                            if "\n" in text else None)

    def _position(self, offset: int) -> Position:
        """Line and column (from 1) of the character at ``offset``, counting "\\n" as lark's
        scanner does."""
        line_starts = self.line_starts
        if line_starts is None:
            return Position(1, offset + 1)
        line = bisect_right(line_starts, offset)
        return Position(line, offset - line_starts[line - 1] + 1)

    # Helpers

    def _take(self, kind: str) -> tuple[str, str, int]:
        """The current token, which must be of ``kind``; the parser moves past it."""
        i = self.i
        if self.kinds[i] != kind:
            raise Fallback
        self.i = i + 1
        return self.tokens[i]

    def _deeper(self) -> None:
        nesting = self.nesting = self.nesting + 1
        if nesting > self.deepest:
            self.deepest = nesting
            if nesting > MAX_NESTING:
                raise Fallback

    def depth_bound(self) -> int:
        """At least the depth of the tree (``ast.depth``), found without walking it.

        Between two levels of nesting (:meth:`_deeper`: expr, value, NOT, unary, CASE,
        subquery, parenthesised join) a path down the tree meets at most three nodes that are
        not made by a loop (e.g. BoolOp, BoolOp, Comparison; Unary, FunctionCall; Select,
        SelectItem), at most four above the first (Query, Select, TableRef, Identifier) and
        below the last (ColumnRef, Identifier); the nodes made by loops are counted in
        ``chains``. tests/adql/test_descent.py checks the bound on every query it parses.
        """
        return 8 + 3 * self.deepest + self.chains

    def _run_opens_query(self) -> bool:
        """Whether the "(" at the current token starts a run of "(" ended by SELECT or WITH.

        After "((" a subquery and a parenthesised expression (or IN list) share a prefix that
        lark resolves by the priority of ``set_primary``; such rare inputs are left to lark.
        """
        kinds, j = self.kinds, self.i + 1
        while kinds[j] == "LPAR":
            j += 1
        return kinds[j] in ("SELECT", "_WITH") and j > self.i + 1

    # Statements and queries

    def statement(self) -> ast.Query:
        with_: tuple[ast.CommonTable, ...] = ()
        if self.kinds[self.i] == "_WITH":
            self.i += 1
            tables = self._list(self.common_table)
            with_ = tuple(tables)
        body = self.query_expr()
        if self.kinds[self.i] == "SEMICOLON":
            self.i += 1
        if self.kinds[self.i] != "$END":
            raise Fallback
        return ast.Query(body, with_, pos=body.pos)

    def common_table(self) -> ast.CommonTable:
        name = self.identifier()
        self._take("_AS")
        return ast.CommonTable(name, self.subquery(), pos=name.pos)

    def query_expr(self):
        body = self.set_expr()
        kinds = self.kinds
        order_by = offset = None
        if kinds[self.i] == "_ORDER":
            self.i += 1
            self._take("_BY")
            order_by = self._list(self.order_item)
        if kinds[self.i] == "_OFFSET":
            self.i += 1
            offset = int(self._take("UNSIGNED_INTEGER")[1])
        if order_by is None and offset is None:
            return body
        if body.order_by or body.offset is not None:
            raise Fallback  # lark's tree builder words this error
        return replace(body, order_by=tuple(order_by or ()), offset=offset)

    def _list(self, item) -> list:
        """``item ("," item)*``: the BNF's comma-separated lists."""
        found = [item()]
        kinds = self.kinds
        while kinds[self.i] == "COMMA":
            self.i += 1
            found.append(item())
        return found

    def _alias(self):
        """``[AS] name`` after a select item or a table; None without one."""
        kind = self.kinds[self.i]
        if kind == "_AS":
            self.i += 1
            return self.identifier()
        return self.identifier() if kind in _NAMES else None

    def set_expr(self):
        return self._set_chain(("UNION", "EXCEPT"), self.set_term)

    def set_term(self):
        return self._set_chain(("INTERSECT",), self.set_primary)

    def _set_chain(self, operators: tuple[str, ...], operand):
        """``operand (op [ALL] operand)*``, left-associative: INTERSECT binds tighter than
        UNION and EXCEPT (ADQL 2.1 BNF, <query_expression> and <query_term>)."""
        left = operand()
        kinds, tokens = self.kinds, self.tokens
        while kinds[self.i] in operators:
            op = tokens[self.i][1].upper()
            self.i += 1
            all_ = kinds[self.i] == "ALL"
            if all_:
                self.i += 1
            self.chains += 1
            left = ast.SetOperation(op, left, operand(), all=all_, pos=left.pos)
        return left

    def set_primary(self):
        kind = self.kinds[self.i]
        if kind == "SELECT":
            return self.select()
        if kind == "LPAR":
            return self.subquery()
        raise Fallback

    def subquery(self):
        self._take("LPAR")
        self._deeper()
        query = self.query_expr()
        self._take("RPAR")
        self.nesting -= 1
        return query

    def select(self) -> ast.Select:
        kinds = self.kinds
        start = self.tokens[self.i][2]
        self.i += 1
        distinct = False
        if kinds[self.i] in ("DISTINCT", "ALL"):
            distinct = kinds[self.i] == "DISTINCT"
            self.i += 1
        top = None
        if kinds[self.i] == "_TOP":
            self.i += 1
            top = int(self._take("UNSIGNED_INTEGER")[1])
        items = self._list(self.select_item)
        self._take("_FROM")
        from_ = self._list(self.table_ref)
        where = having = None
        group_by: tuple = ()
        if kinds[self.i] == "_WHERE":
            self.i += 1
            where = self.expr()
        if kinds[self.i] == "_GROUP":
            self.i += 1
            self._take("_BY")
            values = self._list(self.value)
            group_by = tuple(values)
        if kinds[self.i] == "_HAVING":
            self.i += 1
            having = self.expr()
        return ast.Select(items=tuple(items), from_=tuple(from_), distinct=distinct, top=top,
                          where=where, group_by=group_by, having=having,
                          pos=self._position(start))

    def select_item(self):
        kinds, i = self.kinds, self.i
        if kinds[i] == "STAR":
            self.i += 1
            return ast.AllColumns(pos=self._position(self.tokens[i][2]))
        if kinds[i] in _NAMES:  # t.* or s.t.*: a chain of names ended by ".*"
            j = i
            while kinds[j] in _NAMES and kinds[j + 1] == "DOT":
                if kinds[j + 2] == "STAR":
                    names = []
                    for k in range(i, j + 1, 2):
                        self.i = k
                        names.append(self.identifier())
                    self.i = j + 3
                    return ast.AllColumns(tuple(names), pos=names[0].pos)
                j += 2
        expr = self.value()
        return ast.SelectItem(expr, self._alias(), pos=expr.pos)

    def order_item(self) -> ast.OrderItem:
        expr = self.value()
        kind = self.kinds[self.i]
        if kind in ("ASC", "DESC"):
            self.i += 1
        return ast.OrderItem(expr, descending=kind == "DESC", pos=expr.pos)

    # FROM

    def table_ref(self):
        left = self.table_primary()
        kinds = self.kinds
        while kinds[self.i] in _JOIN_WORDS:
            natural = kinds[self.i] == "NATURAL"
            if natural:
                self.i += 1
            join_type = None
            kind = kinds[self.i]
            if kind in ("INNER", "LEFT", "RIGHT", "FULL"):
                join_type = kind
                self.i += 1
                if kind != "INNER" and kinds[self.i] == "_OUTER":
                    self.i += 1
            self._take("JOIN")
            right = self.table_primary()
            condition, using = None, ()
            kind = kinds[self.i]
            if kind == "_ON":
                self.i += 1
                condition = self.expr()
            elif kind == "_USING":
                self.i += 1
                self._take("LPAR")
                names = self._list(self.identifier)
                self._take("RPAR")
                using = tuple(names)
            if natural and kind in ("_ON", "_USING"):
                raise Fallback  # lark's tree builder words this error
            self.chains += 1
            left = ast.Join(left, right, kind=join_type or "INNER", natural=natural,
                            condition=condition, using=using, pos=left.pos)
        return left

    def table_primary(self):
        kinds, i = self.kinds, self.i
        kind = kinds[i]
        if kind in _NAMES:
            names = self.name_chain()
            if len(names) > 3:
                raise Fallback
            return ast.TableRef(names, self._alias(), pos=names[0].pos)
        if kind == "LPAR":
            following = kinds[i + 1]
            if following == "SELECT":
                query = self.subquery()
                if kinds[self.i] == "_AS":
                    self.i += 1
                return ast.DerivedTable(query, self.identifier(), pos=query.pos)
            if following in _NAMES:  # "(" joined_table ")"
                self.i += 1
                self._deeper()
                joined = self.table_ref()
                if not isinstance(joined, ast.Join):
                    raise Fallback
                self._take("RPAR")
                self.nesting -= 1
                return joined
        raise Fallback

    # Conditions

    def expr(self):
        self._deeper()
        operand = self.and_expr()
        if self.kinds[self.i] == "_OR":
            operands = [operand]
            while self.kinds[self.i] == "_OR":
                self.i += 1
                operands.append(self.and_expr())
            operand = _bool_op("OR", operands)
        self.nesting -= 1
        return operand

    def and_expr(self):
        operand = self.not_expr()
        if self.kinds[self.i] != "_AND":
            return operand
        operands = [operand]
        while self.kinds[self.i] == "_AND":
            self.i += 1
            operands.append(self.not_expr())
        return _bool_op("AND", operands)

    def not_expr(self):
        if self.kinds[self.i] != "NOT":
            return self.predicate()
        start = self.tokens[self.i][2]
        self.i += 1
        self._deeper()
        operand = self.not_expr()
        self.nesting -= 1
        return ast.Not(operand, pos=self._position(start))

    def predicate(self):
        kinds = self.kinds
        if kinds[self.i] == "EXISTS":
            start = self.tokens[self.i][2]
            self.i += 1
            return ast.Exists(self.subquery(), pos=self._position(start))
        left = self.value()
        kind = kinds[self.i]
        if kind == "COMP_OP":
            op = self.tokens[self.i][1]
            self.i += 1
            return ast.Comparison("<>" if op == "!=" else op, left, self.value(), pos=left.pos)
        negated = kind == "NOT"
        if negated:
            self.i += 1
            kind = kinds[self.i]
        if kind == "_BETWEEN":
            self.i += 1
            low = self.value()
            self._take("_AND")
            return ast.Between(left, low, self.value(), negated=negated, pos=left.pos)
        if kind == "_IN":
            self.i += 1
            if kinds[self.i] != "LPAR":
                raise Fallback
            if kinds[self.i + 1] == "SELECT":
                return ast.InQuery(left, self.subquery(), negated=negated, pos=left.pos)
            if self._run_opens_query():
                raise Fallback
            self.i += 1
            items = self._list(self.value)
            self._take("RPAR")
            return ast.InList(left, tuple(items), negated=negated, pos=left.pos)
        if kind in ("LIKE", "ILIKE"):
            self.i += 1
            return ast.Like(left, self.value(), negated=negated,
                            case_insensitive=kind == "ILIKE", pos=left.pos)
        if negated:
            raise Fallback
        if kind == "_IS":
            self.i += 1
            negated = kinds[self.i] == "NOT"
            if negated:
                self.i += 1
            self._take("NULL")
            return ast.IsNull(left, negated=negated, pos=left.pos)
        return left

    # Values

    def value(self, level: int = 1):
        """A <value_expression>: binary operators by precedence climbing, left-associative."""
        self._deeper()
        left = self.factor()
        kinds, tokens = self.kinds, self.tokens
        while True:
            strength = _BINARY.get(kinds[self.i])
            if strength is None or strength < level:
                self.nesting -= 1
                return left
            op = tokens[self.i][1]
            self.i += 1
            self.chains += 1
            left = ast.Binary(op, left, self.value(strength + 1), pos=left.pos)

    def factor(self):
        kind = self.kinds[self.i]
        if kind in ("PLUS", "MINUS", "BIT_NOT"):
            _, op, start = self.tokens[self.i]
            self.i += 1
            self._deeper()
            operand = self.factor()
            self.nesting -= 1
            return ast.Unary(op, operand, pos=self._position(start))
        return self.primary()

    def primary(self):
        i = self.i
        kind, text, start = self.tokens[i]
        kinds = self.kinds
        if kind == "REGULAR_IDENTIFIER" and kinds[i + 1] != "LPAR" or kind == "DELIMITED_IDENTIFIER":
            names = self.name_chain()
            if len(names) > 4:
                raise Fallback
            return ast.ColumnRef(names, pos=names[0].pos)
        if kind == "STRING":
            self.i = i + 1
            return ast.StringLiteral(_unquote(text, "'"), pos=self._position(start))
        if kind == "UNSIGNED_INTEGER" or kind == "DECIMAL":
            self.i = i + 1
            return ast.NumberLiteral(text, pos=self._position(start))
        if kind == "LPAR":
            if kinds[i + 1] == "SELECT":
                query = self.subquery()
                return ast.ScalarQuery(query, pos=query.pos)
            if self._run_opens_query():
                raise Fallback
            self.i = i + 1
            inner = self.expr()
            self._take("RPAR")
            return inner
        if kind in ("FUNCTION_NAME", "GEOMETRY_TYPE", "REGULAR_IDENTIFIER"):
            self.i = i + 2  # the name and "(" (checked above for a name, below otherwise)
            if kinds[i + 1] != "LPAR":
                raise Fallback
            args = ()
            if kinds[self.i] != "RPAR":
                values = self._list(self.value)
                args = tuple(values)
            self._take("RPAR")
            if kind == "REGULAR_IDENTIFIER":
                return ast.UdfCall(text.lower(), args, pos=self._position(start))
            return ast.FunctionCall(text.upper(), args, pos=self._position(start))
        if kind == "AGGREGATE_NAME" or kind == "COUNT":
            self.i = i + 1
            self._take("LPAR")
            if kind == "COUNT" and kinds[self.i] == "STAR":
                self.i += 1
                self._take("RPAR")
                return ast.Aggregate("COUNT", None, pos=self._position(start))
            distinct = False
            if kinds[self.i] in ("DISTINCT", "ALL"):
                distinct = kinds[self.i] == "DISTINCT"
                self.i += 1
            arg = self.value()
            self._take("RPAR")
            return ast.Aggregate(text.upper(), arg, distinct=distinct, pos=self._position(start))
        if kind == "HEX":
            self.i = i + 1
            return ast.HexLiteral(text, pos=self._position(start))
        if kind == "NULL":
            self.i = i + 1
            return ast.NullLiteral(pos=self._position(start))
        if kind == "CAST":
            self.i = i + 1
            self._take("LPAR")
            operand = self.value()
            self._take("_AS")
            target = self.cast_type()
            self._take("RPAR")
            return ast.Cast(operand, target, pos=self._position(start))
        if kind == "CASE":
            return self.case()
        raise Fallback

    def case(self) -> ast.Case:
        start = self.tokens[self.i][2]
        self.i += 1
        kinds = self.kinds
        self._deeper()
        operand = None if kinds[self.i] == "_WHEN" else self.value()
        whens = []
        while kinds[self.i] == "_WHEN":
            self.i += 1
            condition = self.expr()
            self._take("_THEN")
            whens.append((condition, self.value()))
        if not whens:
            raise Fallback
        default = None
        if kinds[self.i] == "_ELSE":
            self.i += 1
            default = self.value()
        self._take("_END")
        self.nesting -= 1
        return ast.Case(operand, tuple(whens), default, pos=self._position(start))

    def cast_type(self) -> ast.TypeName:
        kind, text, start = self.tokens[self.i]
        self.i += 1
        length = None
        if kind == "DOUBLE":
            self._take("_PRECISION")
        elif kind in ("CHAR", "VARCHAR"):
            if self.kinds[self.i] == "LPAR":
                self.i += 1
                length = int(self._take("UNSIGNED_INTEGER")[1])
                self._take("RPAR")
        elif kind not in _SIMPLE_TYPES:
            raise Fallback
        return ast.TypeName(text.upper(), length, pos=self._position(start))

    # Names

    def name_chain(self) -> tuple[ast.Identifier, ...]:
        names = [self.identifier()]
        kinds = self.kinds
        while kinds[self.i] == "DOT" and kinds[self.i + 1] in _NAMES:
            self.i += 1
            names.append(self.identifier())
        return tuple(names)

    def identifier(self) -> ast.Identifier:
        kind, text, start = self.tokens[self.i]
        if kind == "REGULAR_IDENTIFIER":
            self.i += 1
            return ast.Identifier(text, pos=self._position(start))
        if kind == "DELIMITED_IDENTIFIER":
            name = _unquote(text, '"')
            if "\0" in name:
                raise Fallback  # lark's tree builder words this error
            self.i += 1
            return ast.Identifier(name, delimited=True, pos=self._position(start))
        raise Fallback


def _bool_op(op: str, operands: list) -> ast.BoolOp:
    """``a OR b OR c`` (or AND) as one flat node, as ``parser._TreeBuilder._bool_op`` builds it:
    an operand that is itself a parenthesised chain of the same operator is flattened too."""
    flat = []
    for operand in operands:
        if type(operand) is ast.BoolOp and operand.op == op:
            flat.extend(operand.operands)
        else:
            flat.append(operand)
    return ast.BoolOp(op, tuple(flat), pos=flat[0].pos)
