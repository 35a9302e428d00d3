"""Positions and footprints from Lick headers: the celestial WCS, else the RA/DEC cards.

The WCS is evaluated here rather than with :class:`astropy.wcs.WCS`: Lick headers only ever use
the TAN projection with a CD matrix, and building an astropy WCS costs milliseconds per file on
the bulk-ingest path (and warns about every non-standard card). Anything else (another projection,
a singular matrix) falls back to the reference point without a footprint.

FK5 J2000 coordinates are taken as ICRS (they differ by less than 0.03 arcsec). Coordinates of
another equinox (2006-2012 headers give the pointing at the current epoch) are precessed.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ingest.instruments.base import Cards

_SEXAGESIMAL = re.compile(r"([+-]?)\s*(\d{1,3})[:\s]+(\d{1,2})(?:[:\s]+(\d{1,2}(?:\.\d*)?))?")


@dataclass(frozen=True)
class Wcs:
    """A celestial TAN WCS: reference pixel and value (degrees) and the CD matrix (degrees/pixel)."""

    crpix: tuple[float, float]
    crval: tuple[float, float]
    cd: tuple[float, float, float, float]  # CD1_1, CD1_2, CD2_1, CD2_2

    @property
    def usable(self) -> bool:
        """Whether pixels map to the sky: a non-singular matrix of sane scale (< 1 degree/pixel)."""
        a, b, c, d = self.cd
        det = a * d - b * c
        scale = math.sqrt(abs(det))
        return 1e-8 < scale < 1.0

    def world(self, x: float, y: float) -> tuple[float, float]:
        """(ra, dec) in degrees of the FITS pixel (x, y) (1-based, centre of the first pixel)."""
        a, b, c, d = self.cd
        dx, dy = x - self.crpix[0], y - self.crpix[1]
        xi = math.radians(a * dx + b * dy)
        eta = math.radians(c * dx + d * dy)
        ra0, dec0 = math.radians(self.crval[0]), math.radians(self.crval[1])
        denominator = math.cos(dec0) - eta * math.sin(dec0)
        ra = ra0 + math.atan2(xi, denominator)
        dec = math.atan2(math.sin(dec0) + eta * math.cos(dec0), math.hypot(xi, denominator))
        return math.degrees(ra) % 360.0, math.degrees(dec)

    def corners(self, shape: tuple[int, ...]) -> list[tuple[float, float]]:
        """The image's four outer corners on the sky."""
        n1, n2 = shape[0], shape[1]
        return [self.world(x, y) for x, y in ((0.5, 0.5), (n1 + 0.5, 0.5), (n1 + 0.5, n2 + 0.5), (0.5, n2 + 0.5))]


def celestial_wcs(cards: Cards) -> Wcs | None:
    """The header's celestial WCS: the primary one, else alternate ``S`` (Lick's sky WCS)."""
    for suffix in ("", "S"):
        ctype1 = (cards.text(f"CTYPE1{suffix}") or "").upper()
        ctype2 = (cards.text(f"CTYPE2{suffix}") or "").upper()
        if not (ctype1.startswith("RA--") and ctype2.startswith("DEC-")):
            continue
        crval = cards.number(f"CRVAL1{suffix}"), cards.number(f"CRVAL2{suffix}")
        if crval[0] is None or crval[1] is None or not -90 <= crval[1] <= 90:
            continue
        crpix = cards.number(f"CRPIX1{suffix}"), cards.number(f"CRPIX2{suffix}")
        cd = _cd_matrix(cards, suffix)
        projection_ok = ctype1.endswith("-TAN") and ctype2.endswith("-TAN")
        if cd is None or None in crpix or not projection_ok:
            cd, crpix = (0.0, 0.0, 0.0, 0.0), (0.0, 0.0)  # the reference point alone is still good
        return Wcs(crpix, (crval[0] % 360.0, crval[1]), cd)
    return None


def _cd_matrix(cards: Cards, suffix: str) -> tuple[float, float, float, float] | None:
    names = [f"CD{i}_{j}{suffix}" for i, j in ((1, 1), (1, 2), (2, 1), (2, 2))]
    if any(cards.has(n) for n in names):
        return tuple(cards.number(n) or 0.0 for n in names)
    cdelt1, cdelt2 = cards.number(f"CDELT1{suffix}"), cards.number(f"CDELT2{suffix}")
    if cdelt1 is None or cdelt2 is None:
        return None
    pc = [cards.number(f"PC{i}_{j}{suffix}") for i, j in ((1, 1), (1, 2), (2, 1), (2, 2))]
    p11, p12, p21, p22 = (v if v is not None else d for v, d in zip(pc, (1.0, 0.0, 0.0, 1.0)))
    return cdelt1 * p11, cdelt1 * p12, cdelt2 * p21, cdelt2 * p22


def parse_ra(value) -> float | None:
    """RA in degrees from a card: sexagesimal hours ('07:38:50.11', '+00:29:43') or degrees."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) % 360.0 if 0 <= value <= 360 else None
    hours = _sexagesimal(value)
    if hours is None or not 0 <= hours <= 24:
        return None
    return (hours * 15.0) % 360.0


def parse_dec(value) -> float | None:
    """Declination in degrees from a card: sexagesimal degrees ('-20:40:06.0') or degrees."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        degrees = float(value)
    else:
        degrees = _sexagesimal(value)
    return degrees if degrees is not None and -90 <= degrees <= 90 else None


def _sexagesimal(value) -> float | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _SEXAGESIMAL.fullmatch(text)
    if not match:
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    sign, whole, minutes, seconds = match.groups()
    minutes_, seconds_ = int(minutes), float(seconds or 0)
    if minutes_ > 59 or seconds_ > 60:  # 60.0 seconds happens (a rounding in the camera software)
        return None
    magnitude = int(whole) + minutes_ / 60 + seconds_ / 3600
    return -magnitude if sign == "-" else magnitude


def pointing_from_cards(cards: Cards) -> tuple[float, float] | None:
    """ICRS (ra, dec) from the RA/DEC cards, precessed from EQUINOX when that is not J2000."""
    ra, dec = parse_ra(cards.value("RA")), parse_dec(cards.value("DEC"))
    if ra is None or dec is None:
        return None
    equinox = cards.number("EQUINOX")
    if equinox is None or abs(equinox - 2000.0) < 0.01 or not 1900 < equinox < 2100:
        return ra, dec
    return _precess_to_icrs(ra, dec, equinox)


def _precess_to_icrs(ra: float, dec: float, equinox: float) -> tuple[float, float]:
    from astropy import units as u
    from astropy.coordinates import FK5, ICRS, SkyCoord
    from astropy.time import Time

    sky = SkyCoord(ra * u.deg, dec * u.deg, frame=FK5(equinox=Time(equinox, format="jyear")))
    icrs = sky.transform_to(ICRS())
    return float(icrs.ra.deg) % 360.0, float(icrs.dec.deg)


# --- Footprints ---------------------------------------------------------------------------------

def box(ra: float, dec: float, width: float, height: float) -> list[tuple[float, float]]:
    """A north-up box of ``width`` x ``height`` degrees centred on (ra, dec), as a TAN footprint."""
    w, h = width / 2, height / 2
    tangent = Wcs((0.0, 0.0), (ra, dec), (-1.0, 0.0, 0.0, 1.0))
    return [tangent.world(x, y) for x, y in ((w, -h), (-w, -h), (-w, h), (w, h))]


def circle(ra: float, dec: float, radius: float, sides: int = 12) -> list[tuple[float, float]]:
    """A polygon that contains the circle of ``radius`` degrees around (ra, dec)."""
    outer = radius / math.cos(math.pi / sides)
    tangent = Wcs((0.0, 0.0), (ra, dec), (-1.0, 0.0, 0.0, 1.0))
    return [tangent.world(outer * math.cos(2 * math.pi * k / sides), outer * math.sin(2 * math.pi * k / sides))
            for k in range(sides)]


def separation(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Angle between two (ra, dec) points, degrees."""
    ra1, dec1, ra2, dec2 = map(math.radians, (*a, *b))
    cos = math.sin(dec1) * math.sin(dec2) + math.cos(dec1) * math.cos(dec2) * math.cos(ra1 - ra2)
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def diameter(vertices: list[tuple[float, float]]) -> float:
    """The largest distance between two vertices, degrees."""
    return max(separation(p, q) for p in vertices for q in vertices)


def counter_clockwise(vertices: list[tuple[float, float]], centre: tuple[float, float]) -> list[tuple[float, float]]:
    """The vertices in counter-clockwise order on the sky (as seen from inside the sphere, east
    of north), which pgsphere needs to take the small polygon and not its complement."""
    def angle(vertex: tuple[float, float]) -> float:
        dra = ((vertex[0] - centre[0] + 180.0) % 360.0) - 180.0
        return math.atan2(vertex[1] - centre[1], dra * math.cos(math.radians(centre[1])))
    return sorted(vertices, key=angle)
