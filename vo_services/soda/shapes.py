"""The regions a SODA request cuts by: CIRCLE, POLYGON and POS (SODA 1.0 §3.3), in ICRS degrees.

The values are DALI 1.1 §3.3.6-3.3.7 shapes, numbers separated by blanks: ``ra dec radius`` and
``ra1 dec1 ra2 dec2 ...``; POS (§3.3.1) prefixes the same with ``CIRCLE`` or ``POLYGON``, or is
``RANGE ra_min ra_max dec_min dec_max``. Anything else is a :class:`RegionError`, which the view
answers with ``UsageError``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

#: A radius beyond this is no cutout of a frame of this archive (all under a degree across) but
#: a mistake (arcseconds given as degrees, say); refused rather than served as the whole frame.
MAX_RADIUS_DEG = 90.0
MAX_VERTICES = 1000


class RegionError(ValueError):
    """A region parameter that is not a valid shape."""


@dataclass(frozen=True)
class Circle:
    ra: float
    dec: float
    radius: float


@dataclass(frozen=True)
class Polygon:
    vertices: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Range:
    """POS RANGE (SODA 1.0 §3.3.1): right ascension and declination intervals, inclusive."""

    ra_min: float
    ra_max: float
    dec_min: float
    dec_max: float


Region = Circle | Polygon | Range


def _numbers(name: str, text: str) -> list[float]:
    values = []
    for word in text.split():
        try:
            value = float(word)
        except ValueError:
            raise RegionError(f"{name} must be numbers separated by blanks, not '{word[:40]}'") from None
        if not math.isfinite(value):
            raise RegionError(f"{name} must be finite numbers, not '{word[:40]}'")
        values.append(value)
    return values


def _position(name: str, ra: float, dec: float) -> tuple[float, float]:
    # DALI 1.1 §3.3.5: longitude in [0, 360], latitude in [-90, 90], degrees.
    if not 0.0 <= ra <= 360.0 or not -90.0 <= dec <= 90.0:
        raise RegionError(f"{name}: a position must have 0 <= ra <= 360 and -90 <= dec <= 90 (ICRS degrees), "
                          f"not ({ra:g}, {dec:g})")
    return ra % 360.0, dec


def parse_circle(text: str, name: str = "CIRCLE") -> Circle:
    values = _numbers(name, text)
    if len(values) != 3:
        raise RegionError(f"{name} must be three numbers, ra dec radius (ICRS degrees); got {len(values)}")
    ra, dec = _position(name, values[0], values[1])
    radius = values[2]
    if radius <= 0:
        raise RegionError(f"{name}: the radius must be positive, not {radius:g}")
    if radius > MAX_RADIUS_DEG:
        raise RegionError(f"{name}: a radius of {radius:g} degrees is more than {MAX_RADIUS_DEG:g}; "
                          "the radius is in degrees")
    return Circle(ra, dec, radius)


def parse_polygon(text: str, name: str = "POLYGON") -> Polygon:
    values = _numbers(name, text)
    if len(values) % 2:
        raise RegionError(f"{name} must be pairs of numbers, ra dec (ICRS degrees); got {len(values)} numbers")
    if len(values) < 6:
        raise RegionError(f"{name} needs at least 3 vertices; got {len(values) // 2}")
    if len(values) > 2 * MAX_VERTICES:
        raise RegionError(f"{name} may have at most {MAX_VERTICES} vertices")
    vertices = tuple(_position(name, values[i], values[i + 1]) for i in range(0, len(values), 2))
    if len(set(vertices)) < 3:
        raise RegionError(f"{name} needs at least 3 distinct vertices")
    return Polygon(vertices)


def parse_range(text: str, name: str = "POS RANGE") -> Range:
    """``ra_min ra_max dec_min dec_max``; -Inf and +Inf stand for the ends of the axis (DALI 1.1
    §3.3.4 intervals)."""
    words = text.split()
    if len(words) != 4:
        raise RegionError(f"{name} must be four numbers, ra_min ra_max dec_min dec_max (ICRS degrees, "
                          f"-Inf and +Inf allowed); got {len(words)}")
    values = []
    for word, (low, high) in zip(words, ((0.0, 360.0),) * 2 + ((-90.0, 90.0),) * 2):
        try:
            value = float(word)
        except ValueError:
            raise RegionError(f"{name} must be numbers, not '{word[:40]}'") from None
        if math.isnan(value):
            raise RegionError(f"{name} must be numbers, not '{word[:40]}'")
        value = low if value == -math.inf else high if value == math.inf else value
        if not low <= value <= high:
            raise RegionError(f"{name}: {value:g} is outside [{low:g}, {high:g}]")
        values.append(value)
    ra_min, ra_max, dec_min, dec_max = values
    if ra_min > ra_max or dec_min > dec_max:
        raise RegionError(f"{name}: an interval's lower end must not exceed its upper end")
    return Range(ra_min, ra_max, dec_min, dec_max)


def parse_pos(text: str) -> Region:
    """POS (SODA 1.0 §3.3.1): ``CIRCLE ...``, ``POLYGON ...`` or ``RANGE ...``."""
    shape, _, rest = text.strip().partition(" ")
    kind = shape.upper()
    if kind == "CIRCLE":
        return parse_circle(rest, "POS CIRCLE")
    if kind == "POLYGON":
        return parse_polygon(rest, "POS POLYGON")
    if kind == "RANGE":
        return parse_range(rest)
    raise RegionError(f"POS must start with CIRCLE, POLYGON or RANGE, not '{shape[:40]}'")


PARSERS = {"POS": parse_pos, "CIRCLE": parse_circle, "POLYGON": parse_polygon}
