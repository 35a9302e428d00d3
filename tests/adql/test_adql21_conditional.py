"""ADQL 2.1 §4.8 conditional functions: COALESCE (one or more values of one type); and CASE,
an extension of ours (from the 2.1 drafts), whose WHEN takes conditions and whose results share
a type. NULLIF is a reserved word of ADQL 2.1 but not one of its functions."""
from __future__ import annotations

from .sections import section_tests

VALID = [
    "SELECT COALESCE(a), COALESCE(a, b, 0), COALESCE(NULL, 'x') FROM t",
    "SELECT COALESCE(target_name, obs_id, 'none') FROM ivoa.obscore",
    "SELECT CASE WHEN a > 1 THEN 'big' WHEN a IS NULL THEN 'none' ELSE 'small' END FROM t",
    "SELECT CASE a WHEN 1 THEN 'one' ELSE 'other' END FROM t",
    "SELECT CASE WHEN s_ra > 180 THEN 1 ELSE 0 END FROM ivoa.obscore",
]

INVALID = [
    ("SELECT COALESCE() FROM t", 1, 8, "COALESCE takes 1 or more arguments, not 0"),
    ("SELECT COALESCE(1, 'a') FROM t", 1, 8, "must all have one type"),
    ("SELECT COALESCE(POINT(1, 2), 0) FROM t", 1, 8, "must all have one type"),
    ("SELECT COALESCE(a > 1, 0) FROM t", 1, 19, "found '>'"),  # arguments are values
    ("SELECT CASE WHEN a THEN 1 END FROM t", 1, 18, "WHEN needs conditions"),
    ("SELECT CASE WHEN 1 THEN 1 END FROM t", 1, 18, "WHEN needs conditions"),
    ("SELECT CASE WHEN a > 1 THEN 1 ELSE 'x' END FROM t", 1, 8, "must all have one type"),
    ("SELECT CASE WHEN a > 1 THEN 1 FROM t", 1, 31, "found FROM"),
    ("SELECT CASE 1 WHEN 'a' THEN 1 END FROM t", 1, 20, "comparable with the CASE value"),
    ("SELECT NULLIF(a, 1) FROM t", 1, 8, "NULLIF"),
]

test_valid, test_invalid = section_tests(VALID, INVALID)
