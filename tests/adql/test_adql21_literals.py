"""ADQL 2.1 §2.1 literals: <unsigned_numeric_literal>, <character_string_literal>, hex.

<exact_numeric_literal> ::= <unsigned_decimal> [<period> [<unsigned_decimal>]] | <period>
<unsigned_decimal>; <approximate_numeric_literal> ::= <mantissa>E<exponent>, the exponent a
<signed_integer> (digits required). Hexadecimal literals (0x...) are an extension from the 2.1
drafts: digits 0-9 A-F, at least one, within a BIGINT.
"""
from __future__ import annotations

from .sections import section_tests

VALID = [
    "SELECT 42, 3.14, 3., .5, 1E3, 1.5e-3, 10E+2, .5E1 FROM t",
    "SELECT 'it''s', '', '--', '\"' FROM t",
    "SELECT 0x2F, 0XFF FROM t",
    "SELECT a, b FROM t ORDER BY a ASC, 2desc",  # a keyword may follow a number (lyonetia)
    "SELECT 1, 2.5, 'x', NULL FROM ivoa.obscore",
]

INVALID = [
    ("SELECT 1.2.3 FROM t", 1, 8, "malformed number '1.2.3'"),
    ("SELECT 1e FROM t", 1, 8, "the exponent of a number needs digits"),
    ("SELECT 1.5E+ 3 FROM t", 1, 8, "the exponent of a number needs digits"),
    ("SELECT\n  2E FROM t", 2, 3, "malformed number '2E'"),
    ("SELECT 0x FROM t", 1, 8, "needs at least one digit after 0x"),
    ("SELECT 0x1G FROM t", 1, 8, "only the digits 0-9, A-F"),
    ("SELECT 0xFFFFFFFFFFFFFFFFF FROM t", 1, 8, "does not fit a BIGINT"),
    ("SELECT 'open FROM t", 1, 8, "this string has no closing quote"),
    ("SELECT a FROM t WHERE b = 'it's'", 1, 31, "found 's'"),  # 'it' ends at the second quote
    ('SELECT "open FROM t', 1, 8, 'this name has no closing double quote'),
    ("SELECT 'a' 'b' FROM t", 1, 12, "found ''b''"),  # no SQL-92 string continuation
    ("SELECT 'nul\0' FROM t", 1, 8, "NUL character"),
]

test_valid, test_invalid = section_tests(VALID, INVALID)
