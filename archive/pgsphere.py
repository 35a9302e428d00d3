"""pgsphere column types for SQLAlchemy.

Values cross the driver as pgsphere's text forms: ``(ra_rad , dec_rad)`` for an spoint and
``{(ra,dec),(ra,dec),...}`` for an spoly, both in radians. Callers hand in degrees.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence

from sqlalchemy.types import UserDefinedType

_NUMBER = r"[-+0-9.eE]+"
_PAIR = re.compile(rf"\(\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\)")


def spoint_literal(ra_deg: float, dec_deg: float) -> str:
    """pgsphere text form of a point given in degrees (full float precision, in radians)."""
    return f"({math.radians(ra_deg)!r},{math.radians(dec_deg)!r})"


def spoly_literal(vertices_deg: Sequence[tuple[float, float]]) -> str:
    """pgsphere text form of a polygon from (ra, dec) vertices in degrees."""
    return "{" + ",".join(spoint_literal(ra, dec) for ra, dec in vertices_deg) + "}"


def parse_pairs_deg(text: str) -> list[tuple[float, float]]:
    """Vertices of a pgsphere spoint or spoly text value, in degrees, RA in [0, 360)."""
    return [
        (math.degrees(float(a)) % 360.0, math.degrees(float(b)))
        for a, b in _PAIR.findall(text)
    ]


class SPoint(UserDefinedType):
    """pgsphere ``spoint``; Python value: ``(ra_deg, dec_deg)``."""

    cache_ok = True

    def get_col_spec(self, **kw) -> str:
        return "spoint"

    def bind_processor(self, dialect):
        def process(value):
            if value is None:
                return None
            return spoint_literal(*value)
        return process

    def result_processor(self, dialect, coltype):
        def process(value):
            if value is None:
                return None
            return parse_pairs_deg(value)[0]
        return process


class SPoly(UserDefinedType):
    """pgsphere ``spoly``; Python value: a list of ``(ra_deg, dec_deg)`` vertices."""

    cache_ok = True

    def get_col_spec(self, **kw) -> str:
        return "spoly"

    def bind_processor(self, dialect):
        def process(value):
            if value is None:
                return None
            return spoly_literal(value)
        return process

    def result_processor(self, dialect, coltype):
        def process(value):
            if value is None:
                return None
            return parse_pairs_deg(value)
        return process
