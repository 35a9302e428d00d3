"""ADQL 2.1 §4.4 string functions and operators: LOWER, UPPER, ||, LIKE and ILIKE."""
from __future__ import annotations

from .sections import section_tests

VALID = [
    "SELECT LOWER(a), UPPER(a), a || b FROM t",
    "SELECT a FROM t WHERE a LIKE 'x%' OR a NOT LIKE '_y' OR a ILIKE 'NgC %'",
    "SELECT a FROM t WHERE LOWER(a) NOT ILIKE UPPER(b)",
    "SELECT UPPER(target_name) FROM ivoa.obscore WHERE obs_id ILIKE 'obs-%'",
    "SELECT a FROM t WHERE ivo_nocasematch(a, 'x%') = 1 AND ivo_hasword(a, 'b') = 1",
]

INVALID = [
    ("SELECT LOWER() FROM t", 1, 8, "LOWER takes 1 argument, not 0"),
    ("SELECT UPPER(a, b) FROM t", 1, 8, "UPPER takes 1 argument, not 2"),
    ("SELECT LOWER(1) FROM t", 1, 14, "LOWER needs a string"),
    ("SELECT UPPER(POINT(1, 2)) FROM t", 1, 14, "UPPER needs a string"),
    ("SELECT a FROM t WHERE a LIKE 1", 1, 30, "LIKE needs a string"),
    ("SELECT a FROM t WHERE POINT(1, 2) ILIKE 'x'", 1, 23, "ILIKE needs a string"),
    ("SELECT a FROM t WHERE a LIKE", 1, 29, "found the end of the query"),
    ("SELECT ivo_nocasematch(a) FROM t", 1, 8, "ivo_nocasematch takes 2 arguments, not 1"),
    ("SELECT a FROM t WHERE ivo_hasword(a, 'b')", 1, 23, "compare it with 1"),
    ("SELECT no_such_function(a) FROM t", 1, 8, "unknown function no_such_function"),
    ("SELECT SUBSTRING(a, 1, 2) FROM t", 1, 8, "SUBSTRING"),
]

test_valid, test_invalid = section_tests(VALID, INVALID)
