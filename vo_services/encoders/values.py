"""What the database driver returns, turned into DALI values.

psycopg2 hands pgsphere values over as text, in radians: ``(ra , dec)`` for an spoint,
``<(ra , dec) , r>`` for an scircle and ``{(ra,dec),(ra,dec),...}`` for an spoly. DALI 1.1 §3.3
wants degrees with the longitude in [0, 360). Timestamps arrive as ``datetime`` and leave as
DALI 1.1 §3.3.3 strings: UTC, ``T`` separator, no zone suffix.

Every converter maps one batch's column (a sequence of driver values) to a list of Python
values with None for SQL NULL; the encoders serialise those. Numeric columns skip this step:
the encoders take them straight into numpy.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime, timezone

from archive.pgsphere import parse_pairs_deg

from archive.columns import Column

Converter = Callable[[Sequence], list]

_CIRCLE = re.compile(r"<\s*\(\s*([-+0-9.eE]+)\s*,\s*([-+0-9.eE]+)\s*\)\s*,\s*([-+0-9.eE]+)\s*>")


def point(value) -> tuple[float, float] | None:
    """DALI point (ra, dec) in degrees from an spoint; a (ra, dec) pair in degrees passes through."""
    if value is None:
        return None
    if isinstance(value, str):
        pairs = parse_pairs_deg(value)
        return pairs[0] if pairs else None
    ra, dec = value
    return (float(ra) % 360.0, float(dec))


def circle(value) -> tuple[float, float, float] | None:
    """DALI circle (ra, dec, radius) in degrees from an scircle."""
    if value is None:
        return None
    if isinstance(value, str):
        match = _CIRCLE.search(value)
        if match is None:
            raise ValueError(f"not a pgsphere circle: {value[:80]!r}")
        ra, dec, radius = (math.degrees(float(g)) for g in match.groups())
        return (ra % 360.0, dec, radius)
    ra, dec, radius = value
    return (float(ra) % 360.0, float(dec), float(radius))


def polygon(value) -> tuple[float, ...] | None:
    """DALI polygon as the flat vertex list (ra1, dec1, ra2, dec2, ...) in degrees.

    Vertices keep the order pgsphere stores them in.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return tuple(c for pair in parse_pairs_deg(value) for c in pair)
    return tuple(float(c) for c in value)


def region(value) -> str | None:
    """ADQL 2.1 §3.5.4 region as an STC-S string (ObsCore s_region practice, checklist O8).

    A pgsphere polygon, circle or point becomes ``Polygon ICRS ...``, ``Circle ICRS ...`` or
    ``Position ICRS ...``; any other text is taken to be STC-S already.
    """
    if value is None:
        return None
    text = value.strip()
    if text.startswith("{"):
        shape, numbers = "Polygon", polygon(text)
    elif text.startswith("<"):
        shape, numbers = "Circle", circle(text)
    elif text.startswith("("):
        shape, numbers = "Position", point(text)
    else:
        return text
    return f"{shape} ICRS " + " ".join(map(repr, numbers))


def timestamp(value) -> str | None:
    """DALI 1.1 §3.3.3 timestamp: ``YYYY-MM-DDThh:mm:ss[.SSS]`` in UTC, without a zone suffix."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        text = value.isoformat()  # seconds, or microseconds when there are any
        return text[:-3] if value.microsecond and text.endswith("000") else text
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00"
    return str(value)


def text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value)


_STR_OR_NONE = {str, type(None)}


def texts(column: Sequence) -> list:
    """A text column as str or None; the driver already gives str, so usually a no-op."""
    if set(map(type, column)) <= _STR_OR_NONE:
        return column if isinstance(column, list) else list(column)
    return [text(v) for v in column]


def boolean(value) -> bool | None:
    return None if value is None else bool(value)


_CONVERTERS: dict[str, Callable] = {
    "POINT": point,
    "CIRCLE": circle,
    "POLYGON": polygon,
    "REGION": region,
    "TIMESTAMP": timestamp,
    "BOOLEAN": boolean,
}

def converter(field: Column) -> Converter:
    """The column converter for a field; numeric columns are returned as they are (a list)."""
    if field.datatype in ("CHAR", "VARCHAR", "CLOB"):
        return texts
    one = _CONVERTERS.get(field.datatype)
    if one is None:
        return list
    return lambda column: [one(v) for v in column]
