"""ADQL 2.1 §2.3 mathematical and trigonometric functions: arity and numeric arguments.

ROUND and TRUNCATE take an optional <signed_integer> literal, RAND an optional
<unsigned_decimal> seed.
"""
from __future__ import annotations

from .sections import section_tests

VALID = [
    "SELECT ABS(a), CEILING(a), DEGREES(a), EXP(a), FLOOR(a), LOG(a), LOG10(a), MOD(a, 2), "
    "PI(), POWER(a, 2), RADIANS(a), RAND(), RAND(5), ROUND(a), ROUND(a, -2), SQRT(a), "
    "TRUNCATE(a), TRUNCATE(a, 3) FROM t",
    "SELECT ACOS(a), ASIN(a), ATAN(a), ATAN2(a, b), COS(a), COT(a), SIN(a), TAN(a) FROM t",
    "SELECT ROUND(s_ra, 2), MOD(s_xel1, 3), POWER(s_dec, 2), ATAN2(s_dec, s_ra), PI() "
    "FROM ivoa.obscore",
    "SELECT a FROM t WHERE SQRT(POWER(a, 2) + POWER(b, 2)) < 1",
]

INVALID = [
    ("SELECT ABS(1, 2) FROM t", 1, 8, "ABS takes 1 argument, not 2"),
    ("SELECT PI(1) FROM t", 1, 8, "PI takes no arguments, not 1"),
    ("SELECT MOD(1) FROM t", 1, 8, "MOD takes 2 arguments, not 1"),
    ("SELECT ATAN2(1, 2, 3) FROM t", 1, 8, "ATAN2 takes 2 arguments, not 3"),
    ("SELECT ROUND(1, 2, 3) FROM t", 1, 8, "ROUND takes 1 to 2 arguments, not 3"),
    ("SELECT RAND(1, 2) FROM t", 1, 8, "RAND takes 0 to 1 arguments, not 2"),
    ("SELECT ROUND(a, b) FROM t", 1, 17, "must be an integer literal"),
    ("SELECT TRUNCATE(a, 1.5) FROM t", 1, 20, "must be an integer literal"),
    ("SELECT RAND(a) FROM t", 1, 13, "the seed of RAND must be an integer literal"),
    ("SELECT SQRT('a') FROM t", 1, 13, "SQRT needs a number"),
    ("SELECT COS(POINT(1, 2)) FROM t", 1, 12, "COS needs a number"),
    ("SELECT POWER(a, 'b') FROM t", 1, 17, "POWER needs a number"),
    ("SELECT LOG(a > 1) FROM t", 1, 14, "found '>'"),  # arguments are values
    ("SELECT a FROM t WHERE SIN(a)", 1, 23, "WHERE needs a condition"),
]

test_valid, test_invalid = section_tests(VALID, INVALID)
