"""ADQL 2.1 §4.9 unit conversion: IN_UNIT(<numeric value>, <string literal VOUnit>)."""
from __future__ import annotations

from .sections import section_tests

VALID = [
    "SELECT IN_UNIT(a, 'arcsec') FROM t",
    "SELECT IN_UNIT(sqrt(power(pm_ra, 2) + power(pm_dec, 2)), 'rad/yr') FROM stars",
    "SELECT IN_UNIT(s_ra, 'arcmin'), IN_UNIT(t_exptime, 'h') FROM ivoa.obscore",
]

INVALID = [
    ("SELECT IN_UNIT(a) FROM t", 1, 8, "IN_UNIT takes 2 arguments, not 1"),
    ("SELECT IN_UNIT(a, 'm', 'km') FROM t", 1, 8, "IN_UNIT takes 2 arguments, not 3"),
    ("SELECT IN_UNIT(a, b) FROM t", 1, 19, "must be a string literal"),
    ("SELECT IN_UNIT(a, 'furlongs per fortnight') FROM t", 1, 19, "is not a VOUnit"),
    ("SELECT IN_UNIT('a', 'm') FROM t", 1, 16, "IN_UNIT converts numbers"),
    ("SELECT IN_UNIT(POINT(1, 2), 'deg') FROM t", 1, 16, "IN_UNIT converts numbers"),
]

test_valid, test_invalid = section_tests(VALID, INVALID)
