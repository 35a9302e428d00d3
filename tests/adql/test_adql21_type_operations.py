"""ADQL 2.1 §4.7 type operations: <cast_specification> ::= CAST(<value_expression> AS
<cast_target>), the targets numeric, CHAR/VARCHAR [(n)], TIMESTAMP and the geometry types; and
the type rules every operator applies: numbers for arithmetic, strings for || and LIKE."""
from __future__ import annotations

from .sections import section_tests

VALID = [
    "SELECT CAST(a AS SMALLINT), CAST(a AS INTEGER), CAST(a AS BIGINT), CAST(a AS REAL), "
    "CAST(a AS DOUBLE PRECISION) FROM t",
    "SELECT CAST(a AS CHAR), CAST(a AS VARCHAR(30)), CAST(a AS TIMESTAMP) FROM t",
    "SELECT CAST('12.3 45.6' AS POINT), CAST('1 2 3' AS CIRCLE) FROM t",
    "SELECT CAST(s_ra AS INTEGER), CAST(obs_id AS VARCHAR(10)), "
    "CAST('2020-01-01T00:00:00' AS TIMESTAMP) FROM ivoa.obscore",
    "SELECT a || 'x', 1 + a * 2 - b / 3 FROM t",
    "SELECT obs_id || '-' || target_name FROM ivoa.obscore",
]

INVALID = [
    ("SELECT CAST(1 AS FLOAT) FROM t", 1, 18, "found 'FLOAT'"),
    ("SELECT CAST(1 AS NULL) FROM t", 1, 18, "found NULL"),
    ("SELECT CAST(1) FROM t", 1, 14, "expected AS"),
    ("SELECT CAST(POINT(1, 2) AS INTEGER) FROM t", 1, 8, "cannot CAST a value of type POINT"),
    ("SELECT CAST(a AS POINT) FROM t", 1, 8, "CAST to POINT needs a string literal"),
    ("SELECT CAST('1 2 3' AS POINT) FROM t", 1, 8, "is not a DALI point"),
    ("SELECT CAST(12 AS TIMESTAMP) FROM t", 1, 8, "cannot CAST a value of type INTEGER"),
    # geometry where a number or string is needed, and back
    ("select point('icrs',3,4) || 'aaaa' from t", 1, 8, "|| joins strings, not geometries"),
    ("SELECT 'a' || CIRCLE(1, 2, 3) FROM t", 1, 15, "|| joins strings, not geometries"),
    ("SELECT POINT(1, 2) + 1 FROM t", 1, 8, "operator + needs a number"),
    ("SELECT -CIRCLE(1, 2, 3) FROM t", 1, 9, "unary - needs a number"),
    ("SELECT 'a' * 2 FROM t", 1, 8, "operator * needs a number"),
    ("SELECT a FROM t WHERE 1 LIKE 'x'", 1, 23, "LIKE needs a string"),
    ("SELECT a FROM t WHERE POINT(1, 2) = 'x'", 1, 23, "cannot compare a value of type POINT"),
    ("SELECT a FROM t WHERE 1 BETWEEN 'a' AND 2", 1, 33, "cannot compare"),
    ("SELECT a FROM t WHERE a IN (1, POINT(1, 2))", 1, 32, "cannot compare"),
]

test_valid, test_invalid = section_tests(VALID, INVALID)
