"""ADQL 2.1 §4.6 set operators: UNION, EXCEPT, INTERSECT [ALL] (<query_set_expression>)."""
from __future__ import annotations

from .sections import section_tests

VALID = [
    "SELECT a FROM t UNION SELECT b FROM u",
    "SELECT a FROM t UNION ALL SELECT b FROM u",
    "SELECT a FROM t EXCEPT SELECT b FROM u",
    "SELECT a FROM t INTERSECT ALL SELECT b FROM u",
    "SELECT a FROM t UNION SELECT * FROM u",  # how many columns * gives is the catalogue's
    "(SELECT TOP 2 a FROM t ORDER BY a) UNION (SELECT TOP 2 b FROM u ORDER BY b DESC)",
    "SELECT obs_id FROM ivoa.obscore UNION SELECT obs_id FROM lick.observations ORDER BY 1",
    "SELECT s_ra FROM ivoa.obscore EXCEPT SELECT s_ra FROM lick.observations",
    "SELECT s_ra FROM ivoa.obscore INTERSECT SELECT s_ra FROM lick.observations",
]

INVALID = [
    ("SELECT a FROM t UNION SELECT b, c FROM u", 1, 1, "same number of columns, not 1 and 2"),
    ("SELECT 'a' FROM t UNION SELECT POINT(1, 2) FROM u", 1, 1, "column 1 is VARCHAR"),
    ("SELECT a FROM t ORDER BY a UNION SELECT b FROM u", 1, 28, "found UNION"),
    ("SELECT a FROM t UNION", 1, 22, "found the end of the query"),
    ("SELECT a FROM t UNION SELECT b FROM u ORDER BY 2", 1, 48, "selects 1 column"),
    ("SELECT a FROM t UNION (WITH q AS (SELECT 1 FROM t) SELECT * FROM q)", 1, 24,
     "WITH can only begin the whole query"),
]

test_valid, test_invalid = section_tests(VALID, INVALID)
