"""ADQL 2.1 §2.1 tokens and separators: whitespace and comments.

<comment> ::= <comment_introducer> [<comment_character>...] <newline>, where a
<comment_character> is any character, a quote included.
"""
from __future__ import annotations

from .sections import section_tests

VALID = [
    "select * from bar where a='qua' -- cmt 'tsch'",
    "select * from bar where a='qua' -- cmt 'tsch'\n",
    "select * from bar -- it's a table\nwhere a = 1",
    "-- leading comment with \"quotes\" and 'quotes'\nSELECT a FROM t",
    "SELECT a --- three dashes\nFROM t",
    "SELECT a\r\nFROM t\r\nWHERE a = '--not a comment'",
    "SELECT\ta\n\n\tFROM\n t",
    "SELECT obs_id -- the id\nFROM ivoa.obscore -- 'real' table\nWHERE s_ra > 1 -- done",
]

INVALID = [
    ("SELECT a -- the comment hides the rest FROM t", 1, 46, "found the end of the query"),
    ("SELECT a FROM t /* C comments are not ADQL */", 1, 17, "found '/'"),
    ("SELECT a FROM t # no", 1, 17, "unexpected character '#'"),
    ("SELECT a FROM t WHERE b = 'x -- y", 1, 27, "this string has no closing quote"),
]

test_valid, test_invalid = section_tests(VALID, INVALID)
