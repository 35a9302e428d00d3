"""ADQL 2.1 §4.5 common table expressions: <with_clause>, at the top of the query only."""
from __future__ import annotations

from .sections import section_tests

VALID = [
    "WITH q AS (SELECT a FROM t) SELECT a FROM q",
    "WITH q AS (SELECT * FROM t) SELECT whatever FROM q",
    "WITH q AS (SELECT a FROM t), r AS (SELECT a FROM q) SELECT r.a FROM r JOIN q USING (a)",
    "WITH near AS (SELECT obs_id, s_ra FROM ivoa.obscore WHERE s_dec > 0) "
    "SELECT n.obs_id FROM near AS n",
]

INVALID = [
    ("WITH q AS (SELECT a FROM t) SELECT b FROM q", 1, 36, "unknown column b"),
    ("WITH q AS (SELECT a FROM t), q AS (SELECT a FROM t) SELECT a FROM q", 1, 30,
     "defines q twice"),
    ("SELECT * FROM (WITH q AS (SELECT a FROM t) SELECT a FROM q) AS s", 1, 16,
     "WITH can only begin the whole query"),
    ("WITH q (SELECT a FROM t) SELECT a FROM q", 1, 8, "expected AS"),
    ("WITH q AS (SELECT a FROM t WHERE a) SELECT a FROM q", 1, 34, "WHERE needs a condition"),
]

test_valid, test_invalid = section_tests(VALID, INVALID)
