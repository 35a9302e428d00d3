"""ADQL 2.1 cardinality: <set_limit> ::= TOP <unsigned_decimal>, <offset_clause> ::= OFFSET
<unsigned_decimal>, and ORDER BY."""
from __future__ import annotations

from .sections import section_tests

VALID = [
    "SELECT TOP 10 a FROM t",
    "SELECT TOP 0 a FROM t",
    "SELECT DISTINCT TOP 5 a FROM t ORDER BY a DESC",
    "SELECT a FROM t OFFSET 100",
    "SELECT a FROM t ORDER BY a OFFSET 0",
    "SELECT TOP 3 obs_id FROM ivoa.obscore ORDER BY s_ra DESC OFFSET 1",
    "SELECT obs_id, s_ra FROM ivoa.obscore ORDER BY 2, 1 DESC",
]

INVALID = [
    ("SELECT TOP -10 a FROM t", 1, 12, "expected an integer"),
    ("SELECT TOP 10.5 a FROM t", 1, 12, "expected an integer"),
    ("SELECT TOP a FROM t", 1, 12, "expected an integer"),
    ("SELECT a FROM t OFFSET -10", 1, 24, "expected an integer"),
    ("SELECT a FROM t OFFSET 10.5", 1, 24, "expected an integer"),
    ("SELECT a FROM t OFFSET 1 OFFSET 2", 1, 26, "found OFFSET"),
    ("SELECT a FROM t LIMIT 10", 1, 23, "found '10'"),  # LIMIT is read as an alias of t
    ("SELECT a, b FROM t ORDER BY 3", 1, 29, "the query selects 2 columns"),
    ("SELECT a FROM t ORDER BY 0", 1, 26, "ORDER BY 0"),
]

test_valid, test_invalid = section_tests(VALID, INVALID)
