"""The values of DALI's shape and interval parameters, read once for every service.

SIA 2.0 (POS, BAND, TIME, FOV, ...; SIA 2.0 §2.1) and SODA 1.0 (POS, CIRCLE, POLYGON; SODA 1.0
§3.3) take the same serializations, DALI 1.1 §3.3: numbers separated by blanks, shapes in ICRS
degrees. This module turns a value into a typed one (:class:`Circle`, :class:`Range`,
:class:`Polygon`, :class:`Interval`) or refuses it with a :class:`~vo_services.dali.DaliParameterError`
whose message starts with the parameter's name; each service then makes of the value what it
does (SIA a condition in SQL, SODA a box of pixels) and answers the error in its own document.
No Django here: the SODA cutout code and the benchmarks use it as plain Python.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from vo_services.dali import DaliParameterError

#: DALI 1.1 §3.3.6: a circle's radius is in (0, 180] degrees. Services may take less (pgsphere's
#: scircle stops at a hemisphere).
MAX_RADIUS_DEG = 180.0
#: Refused beyond this: a polygon of more vertices is a mistake or an attack, not a search.
MAX_VERTICES = 1000
#: DALI 1.1 §3.3.1 numbers: decimal or exponent notation; +Inf/-Inf (any case) where a value
#: may be open (intervals, RANGE). NaN is never a bound; Python's other spellings ('1_0') are not
#: DALI's.
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?inf(inity)?", re.IGNORECASE)
_QUOTED = 40  # characters of a bad word that an error message repeats


@dataclass(frozen=True)
class Circle:
    """DALI 1.1 §3.3.6: ``ra dec radius``, ICRS degrees; ra in [0, 360)."""

    ra: float
    dec: float
    radius: float


@dataclass(frozen=True)
class Range:
    """POS RANGE (SIA 2.0 §2.1.1, SODA 1.0 §3.3.1): ra and dec intervals, inclusive, with
    -Inf/+Inf already replaced by the ends of their axis."""

    ra_min: float
    ra_max: float
    dec_min: float
    dec_max: float


@dataclass(frozen=True)
class Polygon:
    """DALI 1.1 §3.3.7: at least 3 (distinct) vertices ``ra dec``, ICRS degrees; ra in [0, 360)."""

    vertices: tuple[tuple[float, float], ...]


Shape = Circle | Range | Polygon


@dataclass(frozen=True)
class Interval:
    """DALI 1.1 §3.3.4 (SIA 2.0 §2.1): ``lo hi``, both inclusive; -Inf/+Inf for an open end."""

    lo: float
    hi: float


# The axes of a position (DALI 1.1 §3.3.5): longitude in [0, 360], latitude in [-90, 90].
_RA = (0.0, 360.0, "ra, longitude")
_DEC = (-90.0, 90.0, "dec, latitude")


def numbers(text: str, name: str) -> list[float]:
    """The blank-separated numbers of a value; ±Inf are read, NaN and other words refused."""
    values = []
    for word in text.split():
        if not _NUMBER.fullmatch(word):
            raise DaliParameterError(f"{name} must be numbers separated by blanks; "
                                     f"'{word[:_QUOTED]}' is not a number")
        values.append(float(word))
    return values


def _finite(values: list[float], name: str) -> list[float]:
    if not all(map(math.isfinite, values)):
        raise DaliParameterError(f"{name} must be finite numbers (only intervals and RANGE take -Inf/+Inf)")
    return values


def _on_axis(value: float, axis: tuple[float, float, str], name: str) -> float:
    low, high, label = axis
    if not low <= value <= high:
        raise DaliParameterError(f"{name}: {value:g} is outside {low:g}..{high:g} degrees ({label})")
    return value


def _position(ra: float, dec: float, name: str) -> tuple[float, float]:
    return _on_axis(ra, _RA, name) % 360.0, _on_axis(dec, _DEC, name)


def parse_interval(text: str, name: str, unit: str) -> Interval:
    """``lo hi`` or a single value ``v`` meaning ``v v`` (DALI 1.1 §3.3.4; SIA 2.0 §2.1)."""
    values = numbers(text, name)
    if len(values) == 1:
        values *= 2
    if len(values) != 2:
        raise DaliParameterError(f"{name} must be an interval 'lo hi' or a single value, in {unit}; "
                                 f"not '{text[:2 * _QUOTED]}'")
    lo, hi = values
    if lo > hi:
        raise DaliParameterError(f"{name}: the interval '{text[:2 * _QUOTED]}' is inverted (lower bound above upper)")
    if lo == math.inf or hi == -math.inf:
        raise DaliParameterError(f"{name}: the interval '{text[:2 * _QUOTED]}' is empty")
    return Interval(lo, hi)


def parse_circle(text: str, name: str = "CIRCLE", *, max_radius: float = MAX_RADIUS_DEG) -> Circle:
    """``ra dec radius`` (DALI 1.1 §3.3.6), the radius in (0, ``max_radius``]."""
    values = numbers(text, name)
    if len(values) != 3:
        raise DaliParameterError(f"{name} must be three numbers, ra dec radius (ICRS degrees); got {len(values)}")
    ra, dec, radius = _finite(values, name)
    ra, dec = _position(ra, dec, name)
    if radius <= 0:
        raise DaliParameterError(f"{name}: the radius must be positive, not {radius:g}")
    if radius > max_radius:
        raise DaliParameterError(f"{name}: a radius of {radius:g} degrees is more than {max_radius:g}; "
                                 "the radius is in degrees")
    return Circle(ra, dec, radius)


def parse_polygon(text: str, name: str = "POLYGON", *, max_vertices: int = MAX_VERTICES) -> Polygon:
    """``ra1 dec1 ra2 dec2 ...`` (DALI 1.1 §3.3.7): three or more distinct vertices."""
    if len(text.split()) > 2 * max_vertices:  # before reading a word of it
        raise DaliParameterError(f"{name} may have at most {max_vertices} vertices")
    values = _finite(numbers(text, name), name)
    if len(values) % 2:
        raise DaliParameterError(f"{name} must be pairs of numbers, ra dec (ICRS degrees); "
                                 f"got {len(values)} numbers")
    if len(values) < 6:
        raise DaliParameterError(f"{name} needs at least 3 vertices (three or more ra dec pairs); "
                                 f"got {len(values) // 2}")
    vertices = tuple(_position(ra, dec, name) for ra, dec in zip(values[::2], values[1::2]))
    if len(set(vertices)) < 3:
        raise DaliParameterError(f"{name} needs at least 3 distinct vertices")
    return Polygon(vertices)


def parse_range(text: str, name: str = "RANGE") -> Range:
    """``ra_min ra_max dec_min dec_max``; -Inf/+Inf stand for the ends of the axis (DALI 1.1
    §3.3.4 intervals, SIA 2.0 §2.1.1)."""
    values = numbers(text, name)
    if len(values) != 4:
        raise DaliParameterError(f"{name} must be four numbers, ra_min ra_max dec_min dec_max (ICRS degrees, "
                                 f"-Inf and +Inf allowed); got {len(values)}")
    ends = []
    for value, axis in zip(values, (_RA, _RA, _DEC, _DEC)):
        if math.isinf(value):
            value = axis[0] if value < 0 else axis[1]
        ends.append(_on_axis(value, axis, name))
    ra_min, ra_max, dec_min, dec_max = ends
    if ra_min > ra_max or dec_min > dec_max:
        raise DaliParameterError(f"{name}: an interval must go from low to high (its lower end is above "
                                 "its upper end); a range across ra 0 is two ranges")
    return Range(ra_min, ra_max, dec_min, dec_max)


def parse_pos(text: str, name: str = "POS", *, max_radius: float = MAX_RADIUS_DEG) -> Shape:
    """POS (SIA 2.0 §2.1.1, SODA 1.0 §3.3.1): ``CIRCLE ...``, ``RANGE ...`` or ``POLYGON ...``,
    the shape's name in any case. The messages name the parameter and the shape (``POS CIRCLE``)."""
    shape, *rest = text.split(None, 1) or [""]
    kind = shape.upper()
    values = rest[0] if rest else ""
    if kind == "CIRCLE":
        return parse_circle(values, f"{name} CIRCLE", max_radius=max_radius)
    if kind == "RANGE":
        return parse_range(values, f"{name} RANGE")
    if kind == "POLYGON":
        return parse_polygon(values, f"{name} POLYGON")
    what = f"unknown shape '{shape[:_QUOTED]}'" if shape else "it is empty"
    raise DaliParameterError(f"{name} must start with CIRCLE, RANGE or POLYGON: {what}")
