"""What the TAP capabilities declare about the language (TAPRegExt 1.0 §2.3, ADQL 2.1 §4.1).

Declared from the translator's own tables, so the capabilities promise exactly what it
accepts. The extensions (CASE, bitwise operators, hex literals) are not declared: they are not
ADQL 2.1 REC features, and taplint reports unknown standard feature types.
"""
from __future__ import annotations

from .udf import REGISTRY

GEOMETRY = "ivo://ivoa.net/std/TAPRegExt#features-adqlgeo"
USER_DEFINED = "ivo://ivoa.net/std/TAPRegExt#features-udf"
_ADQL_21 = "ivo://ivoa.net/std/tapregext#features-adql-"

# §4.2: every geometry function; CENTROID of polygons excepted (pgsphere 1.2 has none).
_GEOMETRY_FORMS = ("AREA", "BOX", "CENTROID", "CIRCLE", "CONTAINS", "COORD1", "COORD2",
                   "COORDSYS", "DISTANCE", "INTERSECTS", "POINT", "POLYGON", "REGION")
_OPTIONAL = {  # §4.4 to §4.10
    "string": ("LOWER", "UPPER", "ILIKE"),
    "common-table": ("WITH",),
    "sets": ("UNION", "EXCEPT", "INTERSECT"),
    "type": ("CAST",),
    "conditional": ("COALESCE",),
    "unit": ("IN_UNIT",),
    "offset": ("OFFSET",),
}
_NOTES = {
    "CENTROID": "Points, circles and boxes only.",
    "REGION": "STC-S Position, Circle, Box and Polygon in ICRS.",
    "COORDSYS": "Always ICRS.",
}


def language_features() -> dict[str, list[tuple[str, str | None]]]:
    """Feature type URI -> [(form, description)], for TAPRegExt <languageFeatures>."""
    features: dict[str, list[tuple[str, str | None]]] = {
        GEOMETRY: [(form, _NOTES.get(form)) for form in _GEOMETRY_FORMS],
        USER_DEFINED: [(f.form, f.description) for f in REGISTRY.values()],
    }
    for kind, forms in _OPTIONAL.items():
        features[_ADQL_21 + kind] = [(form, None) for form in forms]
    return features
