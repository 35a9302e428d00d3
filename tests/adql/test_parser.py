"""The parser: what ADQL 2.1 (and our few extensions) it accepts, the tree it builds, its errors."""
from __future__ import annotations

import pytest

from vo_services.tap.adql import AdqlError, AdqlSyntaxError, parse
from vo_services.tap.adql import ast

from .lyonetia_queries import INVALID, VALID


@pytest.mark.parametrize("query", VALID)
def test_lyonetia_valid_queries_parse(query):
    parse(query)


@pytest.mark.parametrize("query", INVALID)
def test_lyonetia_invalid_queries_are_syntax_errors(query):
    with pytest.raises(AdqlSyntaxError):
        parse(query)


def test_select_tree():
    tree = parse("SELECT DISTINCT TOP 5 a AS x, t.b FROM s.t AS u WHERE a > 1 "
                 "ORDER BY 1 DESC OFFSET 3")
    select = tree.body
    assert select.distinct and select.top == 5 and select.offset == 3
    assert select.items[0] == ast.SelectItem(
        ast.ColumnRef((ast.Identifier("a"),)), ast.Identifier("x"))
    assert select.items[1].expr.parts == (ast.Identifier("t"), ast.Identifier("b"))
    assert select.from_ == (ast.TableRef((ast.Identifier("s"), ast.Identifier("t")),
                                         ast.Identifier("u")),)
    assert select.where == ast.Comparison(">", ast.ColumnRef((ast.Identifier("a"),)),
                                          ast.NumberLiteral("1"))
    assert select.order_by == (ast.OrderItem(ast.NumberLiteral("1"), descending=True),)


def test_positions_are_line_and_column_of_the_first_token():
    tree = parse("SELECT a,\n       b + 1\nFROM t")
    assert tree.body.items[1].expr.pos == ast.Position(2, 8)


def test_identifiers_regular_fold_delimited_keep_case():
    tree = parse('SELECT ObsId, "ObsId", "say ""hi""" FROM ivoa.ObsCore')
    names = [item.expr.name for item in tree.body.items]
    assert [n.normalized for n in names] == ["obsid", "ObsId", 'say "hi"']
    assert tree.body.from_[0].parts[1].normalized == "obscore"


def test_string_literal_doubled_quote():
    tree = parse("SELECT 'it''s' FROM t")
    assert tree.body.items[0].expr == ast.StringLiteral("it's")


@pytest.mark.parametrize("text", ["42", "1.5E-3", ".5", "10e-5", "3.", "10E3"])
def test_numeric_literals(text):
    assert parse(f"SELECT {text} FROM t").body.items[0].expr == ast.NumberLiteral(text)


def test_extensions_hex_bitwise_case():
    item = parse("SELECT CASE WHEN (flags & 0x2F) <> 0 THEN ~flags ELSE flags | 1 ^ 2 END "
                 "FROM t").body.items[0].expr
    assert isinstance(item, ast.Case)
    condition, then = item.whens[0]
    assert condition.left == ast.Binary("&", ast.ColumnRef((ast.Identifier("flags"),)),
                                        ast.HexLiteral("0x2F"))
    assert then == ast.Unary("~", ast.ColumnRef((ast.Identifier("flags"),)))
    # Bitwise operators and || share one level, left to right, as in PostgreSQL.
    assert item.default.op == "^" and item.default.left.op == "|"


def test_set_operator_precedence_intersect_first():
    # ADQL 2.1 §4.6: INTERSECT binds tighter than UNION and EXCEPT, which go left to right.
    body = parse("SELECT a FROM x UNION SELECT a FROM y INTERSECT SELECT a FROM z "
                 "EXCEPT SELECT a FROM w").body
    assert body.op == "EXCEPT"
    assert body.left.op == "UNION" and body.left.right.op == "INTERSECT"


def test_set_operation_order_by_applies_to_the_whole():
    body = parse("SELECT a FROM x UNION ALL SELECT a FROM y ORDER BY a").body
    assert isinstance(body, ast.SetOperation) and body.all
    assert body.order_by and not body.left.order_by


def test_and_or_chains_are_flat():
    where = parse("SELECT a FROM t WHERE " + " OR ".join(f"a = {i}" for i in range(500))).body.where
    assert isinstance(where, ast.BoolOp) and len(where.operands) == 500


def test_with_and_subqueries():
    tree = parse("WITH q AS (SELECT a FROM t) SELECT * FROM q WHERE a IN (SELECT b FROM u) "
                 "AND EXISTS (SELECT 1 FROM v) AND a > (SELECT MAX(b) FROM u)")
    assert tree.with_[0].name == ast.Identifier("q")
    kinds = [type(e) for e in tree.body.where.operands]
    assert kinds == [ast.InQuery, ast.Exists, ast.Comparison]
    assert isinstance(tree.body.where.operands[2].right, ast.ScalarQuery)


def test_parenthesised_subquery_is_one_subquery():
    where = parse("SELECT a FROM t WHERE a IN ((SELECT b FROM u))").body.where
    assert isinstance(where, ast.InQuery)


def test_count_star_and_distinct():
    items = parse("SELECT COUNT(*), COUNT(DISTINCT a), SUM(ALL b) FROM t").body.items
    assert [i.expr for i in items] == [
        ast.Aggregate("COUNT", None),
        ast.Aggregate("COUNT", ast.ColumnRef((ast.Identifier("a"),)), distinct=True),
        ast.Aggregate("SUM", ast.ColumnRef((ast.Identifier("b"),)))]


def test_comments_and_trailing_semicolon():
    parse("SELECT a -- the column\nFROM t -- the table\n;")


@pytest.mark.parametrize("query, line, column, message", [
    ("SELECT obs_id, FROM ivoa.obscore", 1, 16,
     "expected a column name or expression, found FROM"),
    ("SELECT a FROMM t", 1, 16, "expected FROM or ',', found 't'"),
    ("SELECT size FROM t", 1, 8, "'size', a reserved word (write \"size\" to use it as a name)"),
    ("SELECT distance FROM t", 1, 17, 'DISTANCE is a function and a reserved word'),
    ("SELECT a FROM t WHERE", 1, 22, "found the end of the query"),
    ("SELECT a\nFROM t\nWHERE b = 'open", 3, 11, "this string has no closing quote"),
    ("SELECT a FROM t WHERE a # 1", 1, 25, "unexpected character '#'"),
    ("SELECT TOP 10.5 a FROM t", 1, 12, "expected an integer, found '10.5'"),
    ("SELECT a FROM t; DROP TABLE t", 1, 18, "only one statement is allowed"),
    ("SELECT CAST(a AS FLOAT) FROM t", 1, 18,
     "expected BIGINT, CHAR, DOUBLE, INTEGER, POINT, CIRCLE, POLYGON, REAL, SMALLINT, "
     "TIMESTAMP or VARCHAR, found 'FLOAT'"),
    ("SELECT a FROM (SELECT b FROM u)", 1, 32, "expected AS or a name"),
    ("SELECT a FROM t UNION (WITH q AS (SELECT 1 FROM t) SELECT * FROM q)", 1, 24,
     "WITH can only begin the whole query"),
    ("SELECT a.b.c.d.e FROM t", 1, 8, "at most catalog.schema.table.column"),
    ("SELECT a FROM s.t.u.v", 1, 15, "at most catalog.schema.table"),
])
def test_syntax_errors_say_what_and_where(query, line, column, message):
    with pytest.raises(AdqlSyntaxError) as info:
        parse(query)
    assert (info.value.line, info.value.column) == (line, column)
    assert message in info.value.message
    assert str(info.value).startswith(f"line {line}, column {column}: ")


def test_empty_query():
    with pytest.raises(AdqlSyntaxError, match="empty"):
        parse("  \n ")


def test_length_limit():
    query = "SELECT a FROM t WHERE a IN (" + ",".join(["1"] * 60_000) + ")"
    with pytest.raises(AdqlSyntaxError, match="at most 100000"):
        parse(query)
    parse(query, max_length=200_000)


def test_depth_limit():
    deep = "SELECT " + "+".join(["a"] * 120) + " FROM t"  # left-nested, 120 levels
    with pytest.raises(AdqlSyntaxError, match="nested"):
        parse(deep)
    parse("SELECT " + "+".join(["a"] * 90) + " FROM t")


def test_many_parentheses_cost_no_depth():
    parse("SELECT " + "(" * 5000 + "a" + ")" * 5000 + " FROM t")


def test_all_errors_are_adql_errors():
    for query in ("SELECT", "SELECT a FROM", "SELECT 'a", 'SELECT "a', "\0", "SELECT a FROM t)"):
        with pytest.raises(AdqlError):
            parse(query)


def test_set_operands_take_order_by_only_in_parentheses():
    # ADQL 2.1 §4.6.4
    with pytest.raises(AdqlSyntaxError, match="found UNION"):
        parse("SELECT a FROM x ORDER BY a UNION SELECT a FROM y")
    parse("(SELECT a FROM x ORDER BY a) UNION SELECT a FROM y")


def test_every_keyword_of_the_grammar_is_a_reserved_word():
    from vo_services.tap.adql.parser import _DECLARED, _KEYWORD_TYPES

    categories = {"FUNCTION_NAME", "GEOMETRY_TYPE", "AGGREGATE_NAME", "RESERVED_WORD"}
    assert {name.lstrip("_") for name in _DECLARED - categories} <= set(_KEYWORD_TYPES)
    assert set(_KEYWORD_TYPES.values()) <= _DECLARED


def test_scanner_tokens_are_lark_tokens():
    from lark import Token

    from vo_services.tap.adql.parser import _token

    ours, lark_s = _token("STRING", "'a'", 7, 2, 3, 10), Token("STRING", "'a'", 7, 2, 3, end_pos=10)
    assert ours == lark_s and type(ours) is Token
    assert [getattr(ours, s) for s in Token.__slots__] == [getattr(lark_s, s) for s in Token.__slots__]


def test_depth_is_the_deepest_level_of_walk():
    tree = parse("WITH q AS (SELECT a FROM t) SELECT CASE WHEN a > 1 THEN -(b + 1) END FROM q "
                 "WHERE a IN (SELECT MAX(c) FROM u WHERE NOT (c = 1 OR c = 2))")
    assert ast.depth(tree) == max(d for _, d in ast.walk(tree))
