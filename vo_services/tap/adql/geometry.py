"""The arguments of ADQL's geometry functions (§4.2), in one canonical form.

ADQL lets a shape be written several ways — with or without the deprecated coordinate system
(§4.2.5), a centre as two numbers or as a POINT, polygon vertices as number pairs or POINTs,
REGION as an STC-S string. The validator and the generator both read calls through
:func:`shape_of`, so both agree on what a call means.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Union

from . import ast
from .types import SqlType

# §4.2.5: the only frame this service has; '' means "the service default".
SUPPORTED_FRAMES = ("", "ICRS")
MAX_CIRCLE_RADIUS = 90.0  # degrees; pgsphere's scircle cannot be larger


class GeometryError(ValueError):
    """A geometry written wrongly; the message says how, for the validator to report."""


@dataclass(frozen=True)
class Coords:
    """A position written as two numbers: (longitude, latitude) in degrees."""

    lon: ast.Expr
    lat: ast.Expr


Position = Union[Coords, ast.Expr]  # a Coords pair, or a POINT-valued expression


@dataclass(frozen=True)
class PointShape:
    lon: ast.Expr
    lat: ast.Expr


@dataclass(frozen=True)
class CircleShape:
    center: Position
    radius: ast.Expr


@dataclass(frozen=True)
class PolygonShape:
    vertices: tuple[Position, ...]


@dataclass(frozen=True)
class BoxShape:
    """BOX (deprecated, §4.2.9): the polygon with corners centre ± half width, ± half height.

    The corners are offsets in the coordinates (as DaCHS does) joined by great circles, like any
    polygon; pgsphere's sbox, whose edges follow lines of constant latitude, is not what ADQL
    describes.
    """

    center: Position
    width: ast.Expr
    height: ast.Expr


Shape = Union[PointShape, CircleShape, PolygonShape, BoxShape]

_CONSTRUCTORS = frozenset({"POINT", "CIRCLE", "BOX", "POLYGON"})


def split_coordsys(call: ast.FunctionCall) -> tuple[ast.Expr | None, tuple[ast.Expr, ...]]:
    """The coordinate-system argument (if given) and the rest, for POINT CIRCLE BOX POLYGON.

    §4.2.5: the frame is an optional first argument, a string literal; lyonetia also uses NULL.
    A first argument of another kind is a coordinate.
    """
    if call.name in _CONSTRUCTORS and call.args and isinstance(
            call.args[0], (ast.StringLiteral, ast.NullLiteral)):
        return call.args[0], call.args[1:]
    return None, call.args


# The words an STC-S coordinate system may have, in this order: frame (FK4 and FK5 with an
# optional equinox), reference position, flavour (STC-S 1.33 §4, to which ADQL 2.0 §2.4.1 and
# ADQL 2.1 §4.2 refer the deprecated coordinate-system argument).
_COORDSYS = re.compile(
    r"^\s*(?:(?:ICRS|(?:FK4|FK5)(?:\s+[JB]\d+(?:\.\d*)?)?|J2000|B1950|ECLIPTIC|GALACTIC|"
    r"GALACTIC_I|GALACTIC_II|SUPER_GALACTIC|GEO_C|GEO_D|UNKNOWNFRAME)\s*)?"
    r"(?:(?:BARYCENTER|GEOCENTER|HELIOCENTER|LSR|LSRK|LSRD|GALACTIC_CENTER|LOCAL_GROUP_CENTER|"
    r"MOON|EMBARYCENTER|MERCURY|VENUS|MARS|JUPITER|SATURN|URANUS|NEPTUNE|PLUTO|TOPOCENTER|"
    r"RELOCATABLE|UNKNOWNREFPOS)\s*)?"
    r"(?:(?:SPHERICAL2|CARTESIAN2|CARTESIAN3|UNITSPHERE|SPHERICAL3)\s*)?$", re.IGNORECASE)


def check_coordsys(frame: ast.Expr | None) -> None:
    """ADQL's own rule: the coordinate-system string, if given, is an STC-S coordinate system.

    ADQL 2.1 §4.2 deprecates the argument and lets services ignore it; it does not make any
    string valid, so 'fk5' and '' pass and 'foo' does not, whatever the tables.
    """
    if isinstance(frame, ast.StringLiteral) and not _COORDSYS.match(frame.value):
        raise GeometryError(f"'{frame.value}' is not a coordinate system: write an STC-S frame "
                            "such as 'ICRS', or '' (the argument is deprecated, ADQL 2.1 §4.2)")


def check_frame(frame: ast.Expr | None) -> None:
    """This service's rule: its positions are ICRS, and it converts between no frames."""
    if isinstance(frame, ast.StringLiteral) and frame.value.strip().upper() not in SUPPORTED_FRAMES:
        raise GeometryError(f"coordinate system '{frame.value}' is not supported: this service "
                            "has ICRS positions only; write 'ICRS' or ''")


def shape_of(call: ast.FunctionCall, type_of: Callable[[ast.Expr], SqlType]) -> Shape:
    """The canonical shape a POINT, CIRCLE, BOX or POLYGON call builds."""
    _frame, args = split_coordsys(call)
    name = call.name
    if name == "POINT":
        if len(args) != 2:
            raise GeometryError("POINT takes a longitude and a latitude: POINT(ra, dec)")
        return PointShape(*args)
    if name == "CIRCLE":
        if len(args) == 3:
            return CircleShape(Coords(args[0], args[1]), args[2])
        if len(args) == 2 and _is_point(args[0], type_of):
            return CircleShape(args[0], args[1])
        raise GeometryError("CIRCLE takes a centre and a radius: CIRCLE(ra, dec, radius) or "
                            "CIRCLE(point, radius)")
    if name == "BOX":
        if len(args) == 4:
            return BoxShape(Coords(args[0], args[1]), args[2], args[3])
        if len(args) == 3 and _is_point(args[0], type_of):
            return BoxShape(*args)
        raise GeometryError("BOX takes a centre, a width and a height: "
                            "BOX(ra, dec, width, height)")
    if name == "POLYGON":
        if args and all(_is_point(a, type_of) for a in args):
            vertices: tuple[Position, ...] = tuple(args)
        elif len(args) % 2 == 0 and not any(type_of(a).name == "POINT" for a in args):
            vertices = tuple(Coords(args[i], args[i + 1]) for i in range(0, len(args), 2))
        else:
            raise GeometryError("POLYGON takes vertices as ra, dec pairs or as POINTs, "
                                "not a mixture and no odd number of coordinates")
        if len(vertices) < 3:
            raise GeometryError(f"a POLYGON needs at least 3 vertices, not {len(vertices)}")
        return PolygonShape(vertices)
    raise GeometryError(f"{name} does not build a shape")


def _is_point(expr: ast.Expr, type_of: Callable[[ast.Expr], SqlType]) -> bool:
    """Whether ``expr`` may be a POINT: a column of unknown type (ANY) may."""
    return type_of(expr).name in ("POINT", "ANY")


# REGION (§4.2.13) and CAST to a geometry (§4.7): constant shapes from text ----------------------

_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
# STC-S frames and reference positions this service accepts (all mean ICRS positions).
_STCS_PREFIX = re.compile(
    r"^\s*(?P<shape>[A-Za-z]+)\s+(?:(?P<frame>ICRS|UNKNOWNFrame)\s+)?"
    r"(?:(?:BARYCENTER|GEOCENTER|TOPOCENTER|UNKNOWNRefPos)\s+)?(?:SPHERICAL2\s+)?",
    re.IGNORECASE)


@dataclass(frozen=True)
class ConstantShape:
    """A shape with numeric coordinates in degrees: kind POINT, CIRCLE or POLYGON."""

    kind: str
    numbers: tuple[float, ...]

    @property
    def vertices(self) -> list[tuple[float, float]]:
        return list(zip(self.numbers[0::2], self.numbers[1::2]))


def parse_stcs(text: str) -> ConstantShape:
    """A REGION literal: STC-S Position, Circle, Box or Polygon in ICRS (or no frame)."""
    match = _STCS_PREFIX.match(text)
    if not match:
        raise GeometryError(f"REGION('{text}') is not an STC-S shape")
    kind = match.group("shape").upper()
    rest = text[match.end():].split()
    if kind not in ("POSITION", "CIRCLE", "BOX", "POLYGON"):
        raise GeometryError(f"REGION supports Position, Circle, Box and Polygon in ICRS; "
                            f"'{match.group('shape')}' is not supported")
    if not all(re.fullmatch(_NUMBER, word) for word in rest):
        frame = rest[0] if rest else ""
        raise GeometryError(f"REGION('{text}'): expected the ICRS coordinates of a {kind.lower()}"
                            + (f"; frame '{frame}' is not supported" if frame.isalpha() else ""))
    numbers = tuple(float(w) for w in rest)
    expected = {"POSITION": "2", "CIRCLE": "3", "BOX": "4"}.get(kind)
    if kind == "POLYGON":
        if len(numbers) < 6 or len(numbers) % 2:
            raise GeometryError(f"REGION('{text}'): a polygon needs 3 or more ra dec pairs")
        return ConstantShape("POLYGON", numbers)
    if len(numbers) != int(expected):
        raise GeometryError(f"REGION('{text}'): a {kind.lower()} takes {expected} numbers")
    if kind == "POSITION":
        return ConstantShape("POINT", numbers)
    if kind == "CIRCLE":
        return ConstantShape("CIRCLE", numbers)
    return ConstantShape("POLYGON", sum(box_corners(*numbers), ()))


def box_corners(lon: float, lat: float, width: float, height: float) -> list[tuple[float, float]]:
    """Counter-clockwise corners of a box (see :class:`BoxShape`)."""
    return [(lon + dx * width / 2, lat + dy * height / 2)
            for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]


def parse_dali(text: str, kind: str) -> ConstantShape:
    """A DALI 1.1 §3.3 serialisation ('12.3 45.6' for a point) cast to POINT, CIRCLE or POLYGON."""
    words = text.split()
    if not words or not all(re.fullmatch(_NUMBER, w) for w in words):
        raise GeometryError(f"'{text}' is not a DALI {kind.lower()}: expected numbers")
    numbers = tuple(float(w) for w in words)
    sizes_ok = {"POINT": len(numbers) == 2, "CIRCLE": len(numbers) == 3,
                "POLYGON": len(numbers) >= 6 and len(numbers) % 2 == 0}[kind]
    if not sizes_ok:
        raise GeometryError(f"'{text}' is not a DALI {kind.lower()}: "
                            + {"POINT": "2 numbers", "CIRCLE": "3 numbers",
                               "POLYGON": "3 or more ra dec pairs"}[kind] + " expected")
    return ConstantShape(kind, numbers)
