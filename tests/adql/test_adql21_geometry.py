"""ADQL 2.1 §4.2 geometry: the constructors, predicates and the functions on geometries.

The coordinate-system first argument is deprecated (§4.2) and may be ignored, but when given it
is a string literal naming an STC-S coordinate system: 'fk5' passes the catalogue-free check
(this service then refuses frames other than ICRS, see test_translate.py), 'foo' does not.
"""
from __future__ import annotations

from .sections import section_tests

VALID = [
    "SELECT POINT('ICRS', 1, 2), POINT(1, 2), POINT(NULL, 1, 2), POINT('', 1, 2) FROM t",
    "SELECT POINT('fk5', 1, 2), CIRCLE('FK4 B1950', 1, 2, 3), "
    "BOX('GALACTIC', 1, 2, 3, 4) FROM t",
    "SELECT CIRCLE(1, 2, 3), CIRCLE(p, 3), BOX(1, 2, 3, 4), POLYGON(1, 2, 3, 4, 5, 6), "
    "POLYGON(p, q, r) FROM t",
    "SELECT AREA(c), CENTROID(c), COORD1(p), COORD2(p), COORDSYS(p) FROM t",
    "SELECT DISTANCE(p, q), DISTANCE(1, 2, 3, 4) FROM t",
    "SELECT x FROM t WHERE 1 = CONTAINS(POINT(ra, dec), CIRCLE(1, 2, 3))",
    "SELECT x FROM t WHERE INTERSECTS(r, POLYGON(1, 2, 3, 4, 5, 6)) = 0",
    "SELECT x FROM t WHERE 1 = CONTAINS(CIRCLE('ICRS', 4, 4, 2), POINT('', ra, dec))",
    "SELECT x FROM t WHERE 1 = CONTAINS(REGION('Union ICRS (Position 1 2 Circle 1 2 3)'), p)",
    "SELECT obs_id, DISTANCE(POINT(s_ra, s_dec), POINT(150, 20)) AS d FROM ivoa.obscore "
    "WHERE 1 = CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 150, 20, 1)) ORDER BY d",
    "SELECT AREA(s_region), COORD1(CENTROID(CIRCLE(s_ra, s_dec, 1))) FROM ivoa.obscore",
    "SELECT obs_id FROM ivoa.obscore WHERE INTERSECTS(s_region, BOX(150, 20, 1, 1)) = 1",
]

INVALID = [
    ("select x from t where Point('fk5',2,3)", 1, 23, "WHERE needs a condition"),
    ("SELECT x FROM t WHERE CONTAINS(POINT(1, 2), CIRCLE(1, 2, 3))", 1, 23,
     "compare it with 1"),
    ("SELECT POINT('foo', 1, 2) FROM t", 1, 8, "'foo' is not a coordinate system"),
    ("SELECT CIRCLE('ICRS GEOCENTER NONSENSE', 1, 2, 3) FROM t", 1, 8,
     "is not a coordinate system"),
    ("SELECT POINT(1) FROM t", 1, 8, "POINT takes 2 to 3 arguments, not 1"),
    ("SELECT POINT(1, 2, 3) FROM t", 1, 8, "POINT takes a longitude and a latitude"),
    ("SELECT POINT('ICRS', 'a', 2) FROM t", 1, 22, "POINT needs numbers in degrees"),
    ("SELECT CIRCLE(1, 2) FROM t", 1, 8, "CIRCLE takes a centre and a radius"),
    ("SELECT CIRCLE(1, 2, -1) FROM t", 1, 21, "radius must be between 0"),
    ("SELECT BOX(1, 2, 3, 4, 5, 6) FROM t", 1, 8, "BOX takes 3 to 5 arguments, not 6"),
    ("SELECT POLYGON(1, 2, 3, 4) FROM t", 1, 8, "at least 3 vertices, not 2"),
    ("SELECT POLYGON(1, 2, 3, 4, 5) FROM t", 1, 8, "not a mixture and no odd number"),
    ("SELECT AREA(1) FROM t", 1, 13, "AREA needs a geometry"),
    ("SELECT COORD1(CIRCLE(1, 2, 3)) FROM t", 1, 15, "COORD1 takes a POINT"),
    ("SELECT COORDSYS() FROM t", 1, 8, "COORDSYS takes 1 argument, not 0"),
    ("SELECT DISTANCE(1, 2, 3) FROM t", 1, 8, "two points or four numbers"),
    ("SELECT DISTANCE(POINT(1, 2), 3) FROM t", 1, 30, "DISTANCE takes two POINTs"),
    ("SELECT x FROM t WHERE CONTAINS(1, CIRCLE(1, 2, 3)) = 1", 1, 32,
     "CONTAINS needs a geometry"),
    ("SELECT x FROM t WHERE INTERSECTS(p) = 1", 1, 23, "INTERSECTS takes 2 arguments"),
    ("SELECT REGION(a) FROM t", 1, 8, "REGION takes a string literal"),
    ("SELECT CENTROID('x') FROM t", 1, 17, "CENTROID needs a geometry"),
    ("SELECT SIN(POINT(1, 2)) FROM t", 1, 12, "SIN needs a number"),
]

test_valid, test_invalid = section_tests(VALID, INVALID)
