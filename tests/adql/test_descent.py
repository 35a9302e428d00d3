"""The recursive-descent fast path (descent.py) against the reference, lark's LALR parser.

Whatever the fast path accepts, lark must accept with the very same tree, positions included;
what it does not take goes to lark, so errors are lark's by construction. Checked over the
/tap/examples queries, lyonetia's collection, every query of the per-section tables, hypothesis'
generated queries of the fuzz test and thousands of mutations of all of these.
"""
from __future__ import annotations

import dataclasses
import importlib
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests.adql import lyonetia_queries
from tests.test_fuzz import adql_queries, mutate
from vo_services.tap.adql import AdqlSyntaxError, ast, descent, parser
from vo_services.tap.examples import EXAMPLES


def _shape(node):
    """A node as nested tuples of its class, position and fields (``==`` ignores positions)."""
    if isinstance(node, ast.Node):
        return (type(node).__name__, node.pos,
                tuple((f.name, _shape(getattr(node, f.name))) for f in dataclasses.fields(node)
                      if f.name != "pos"))
    if isinstance(node, tuple):
        return tuple(_shape(item) for item in node)
    return node


def _fast(query: str) -> ast.Query | None:
    """The fast path's tree (None if it leaves the query to lark), its depth bound checked."""
    try:
        fast = descent.Parser(query, parser._fast_tokens(query))
        tree = fast.statement()
    except descent.Fallback:
        return None
    assert ast.depth(tree) <= fast.depth_bound(), query
    return tree


def _lark(query: str) -> ast.Query | AdqlSyntaxError:
    try:
        return parser._parse_with_lark(query)
    except AdqlSyntaxError as error:
        return error


def assert_same(query: str) -> bool:
    """The fast path's tree is lark's, or the fast path leaves the query to lark; whether it
    took the query."""
    fast = _fast(query)
    if fast is None:
        return False
    reference = _lark(query)
    assert not isinstance(reference, AdqlSyntaxError), (query, str(reference))
    assert _shape(fast) == _shape(reference), query
    return True


def _section_queries() -> list[str]:
    queries = []
    for path in sorted(Path(__file__).parent.glob("test_adql21_*.py")):
        module = importlib.import_module(f"tests.adql.{path.stem}")
        queries += module.VALID
        queries += [case[0] for case in module.INVALID]
    return queries


CORPUS = ([e.query for e in EXAMPLES] + lyonetia_queries.VALID
          + [q if isinstance(q, str) else q[0] for q in lyonetia_queries.INVALID]
          + _section_queries())

# Inputs at the edges of the fast path: readings lark settles by priority, numbers run on into
# names, newlines inside tokens, flattening of parenthesised AND/OR chains, nesting.
EDGES = [
    "SELECT a FROM t WHERE x IN ((SELECT b FROM u))",
    "SELECT a FROM t WHERE x IN ((1), (2))",
    "SELECT a FROM t WHERE x = ((SELECT b FROM u))",
    "SELECT a FROM t WHERE ((SELECT b FROM u)) + 1 > 2",
    "SELECT a FROM t WHERE ((SELECT b FROM u) UNION (SELECT c FROM v)) = 1",
    "SELECT a FROM ((SELECT b FROM u) AS q JOIN v ON q.b = v.b)",
    "SELECT a FROM ((t JOIN u ON t.a = u.a) JOIN v USING (a))",
    "((SELECT a FROM t)) ORDER BY a",
    "(SELECT a FROM t ORDER BY a) ORDER BY a",
    "(SELECT a FROM t) UNION ALL (SELECT a FROM u) INTERSECT SELECT a FROM v EXCEPT SELECT 1 FROM w",
    "SELECT a FROM t ORDER BY 2desc",
    "SELECT a FROM t WHERE a != 1 AND b <> 2 AND c >= 3 AND d <= 4 AND e < 5 AND f > 6",
    "SELECT 1e FROM t", "SELECT 0x1G FROM t", "SELECT 1.2.3 FROM t", "SELECT 0xFF FROM t",
    "SELECT 'a\nb', \"c\nd\" FROM t WHERE\n  x = 'y\n' -- c\n AND z = 1",
    "SELECT a FROM t WHERE (a = 1 OR b = 2) OR (c = 3 OR d = 4) AND (e = 5 AND f = 6)",
    "SELECT a FROM t WHERE NOT NOT a = 1 AND NOT (b BETWEEN 1 AND 2 OR c NOT IN (1, 2))",
    "SELECT - - ~ + a, a || b | c ^ d & e + f - g * h / i FROM t",
    "SELECT CASE WHEN a = 1 THEN CASE b WHEN 2 THEN 3 ELSE 4 END END FROM t",
    "SELECT CAST(a AS DOUBLE PRECISION), CAST(b AS CHAR(3)), CAST(c AS VARCHAR), "
    "CAST(d AS POINT) FROM t",
    "SELECT COUNT(*), COUNT(DISTINCT a), count(ALL b), MAX(c), ivo_hasword(d, 'x') FROM t",
    "SELECT s.t.*, t.*, * FROM s.t NATURAL LEFT OUTER JOIN u",
    "SELECT a FROM t WHERE a IS NOT NULL AND b NOT LIKE 'x%' AND c ILIKE 'y' OFFSET 5",
    "WITH a AS (SELECT 1 FROM t), b AS ((SELECT 2 FROM u)) SELECT * FROM a, b;",
    "SELECT a FROM t WHERE EXISTS ((SELECT 1 FROM u))",
    "SELECT a.b.c.d.e FROM t", "SELECT a FROM a.b.c.d", 'SELECT "a\0" FROM t',
    "SELECT a FROM t NATURAL JOIN u ON t.a = u.a",
    "SELECT a FROM t WHERE " + "(" * 40 + "a = 1" + ")" * 40,
    "SELECT " + "(" * 40 + "a" + ")" * 40 + " FROM t",
    "SELECT " + "- " * 80 + "a FROM t",
    "SELECT a FROM t WHERE a = " + " + ".join(["b"] * 120),
    "SELECT a FROM t WHERE a = " + "ABS(" * 29 + "b" + ")" * 29,
    "SELECT a FROM t WHERE a = " + "-(" * 25 + "b" + ")" * 25,
    "SELECT a FROM t WHERE " + "NOT " * 50 + "a = 1",
    " UNION ".join(["SELECT a FROM t"] * 60),
    "SELECT a FROM " + " JOIN ".join(["t"] * 60),
    "SELECT a FROM t WHERE x IN " + "(SELECT x FROM t WHERE x IN " * 12 + "(1)" + ")" * 12,
    "SELECT " + "CASE WHEN a = 1 THEN " * 20 + "1" + " END" * 20 + " FROM t",
]


def test_the_fast_path_takes_the_examples_and_most_of_lyonetia():
    """The speed of /tap/examples rests on the fast path taking them; lyonetia's valid queries
    it leaves to lark are only those with a number run on into a word (``2desc``) or a "(("
    before a subquery."""
    for example in EXAMPLES:
        assert assert_same(example.query), example.id
    left = [q for q in lyonetia_queries.VALID
            if not isinstance(_lark(q), AdqlSyntaxError) and not assert_same(q)]
    assert all("2desc" in q or "((" in q.replace(" ", "") for q in left), left


@pytest.mark.parametrize("query", EDGES)
def test_edges(query):
    assert_same(query)
    assert_same(query.lower())


def test_corpus():
    taken = sum(assert_same(query) for query in CORPUS)
    assert taken > len(CORPUS) / 2


def test_mutations():
    rng = random.Random(19)
    for _ in range(4000):
        assert_same(mutate(rng.choice(CORPUS + EDGES), rng))


@settings(max_examples=1500, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(adql_queries())
def test_generated(query):
    assert_same(query)


@pytest.mark.parametrize("query", [
    "SELECT a FROM t WHERE a = " + " + ".join(["b"] * 120),
    " UNION ".join(["SELECT a FROM t"] * 110),
    "SELECT a FROM " + " JOIN ".join(["t"] * 110),
    "SELECT a FROM t WHERE " + "NOT " * 110 + "a = 1",
    "SELECT a FROM t WHERE a = " + "ABS(" * 120 + "b" + ")" * 120,
])
def test_a_tree_too_deep_is_refused_when_the_fast_path_parses_it(query):
    """The depth bound lets the parser skip walking shallow trees, never deep ones."""
    with pytest.raises(AdqlSyntaxError, match="nested"):
        parser.parse(query)


def test_deep_nesting_is_a_syntax_error_not_a_recursion_error():
    """Beyond MAX_NESTING the fast path gives up and lark, which does not recurse, decides."""
    parenthesised = "SELECT a FROM t WHERE " + "(" * 5000 + "a = 1" + ")" * 5000
    assert parser.parse(parenthesised) == parser.parse("SELECT a FROM t WHERE a = 1")
    for query in ["SELECT " + "- " * 5000 + "a FROM t",
                  "SELECT " + "CASE WHEN a = 1 THEN " * 2000 + "1" + " END" * 2000 + " FROM t"]:
        with pytest.raises(AdqlSyntaxError):
            parser.parse(query)
