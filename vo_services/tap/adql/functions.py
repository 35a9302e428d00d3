"""The functions of ADQL itself: how many arguments each takes, of what kind, and its result type.

The grammar accepts any argument list for any function name; this table is what the validator
checks calls against. Geometry functions get further checks in :mod:`.geometry`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .types import BIGINT, DOUBLE, INTEGER, POINT, POLYGON, VARCHAR, SqlType, common, wider


@dataclass(frozen=True)
class Signature:
    min_args: int
    max_args: int | None  # None: no upper limit
    argument_kind: str  # "numeric", "string", "geometry" or "any": what every argument must be
    result: Callable[[list[SqlType]], SqlType]

    def arity_text(self) -> str:
        if self.max_args == self.min_args:
            return {0: "no arguments", 1: "1 argument"}.get(self.min_args,
                                                             f"{self.min_args} arguments")
        if self.max_args is None:
            return f"{self.min_args} or more arguments"
        return f"{self.min_args} to {self.max_args} arguments"


def _always(result: SqlType) -> Callable[[list[SqlType]], SqlType]:
    return lambda _types: result


def _first(types: list[SqlType]) -> SqlType:
    return types[0]


def _mod(types: list[SqlType]) -> SqlType:
    # PostgreSQL's mod() is defined for integers and numeric only; doubles go through numeric.
    return wider(*types) if all(t.is_integer for t in types) else DOUBLE


def _math(n: int, max_args: int | None = None, result=_always(DOUBLE)) -> Signature:
    return Signature(n, n if max_args is None else max_args, "numeric", result)


FUNCTIONS: dict[str, Signature] = {
    # §2.3.1 mathematical functions
    "ABS": _math(1, result=_first), "CEILING": _math(1), "DEGREES": _math(1), "EXP": _math(1),
    "FLOOR": _math(1), "LOG": _math(1), "LOG10": _math(1), "MOD": _math(2, result=_mod),
    "PI": _math(0), "POWER": _math(2), "RADIANS": _math(1), "RAND": _math(0, 1),
    "ROUND": _math(1, 2), "SQRT": _math(1), "TRUNCATE": _math(1, 2),
    # §2.3.2 trigonometric functions
    "ACOS": _math(1), "ASIN": _math(1), "ATAN": _math(1), "ATAN2": _math(2), "COS": _math(1),
    "COT": _math(1), "SIN": _math(1), "TAN": _math(1),
    # §4.2 geometry
    "AREA": Signature(1, 1, "geometry", _always(DOUBLE)),
    "BOX": Signature(3, 5, "any", _always(POLYGON)),
    "CENTROID": Signature(1, 1, "geometry", _always(POINT)),
    "CIRCLE": Signature(2, 4, "any", _always(SqlType("CIRCLE"))),
    "CONTAINS": Signature(2, 2, "geometry", _always(INTEGER)),
    "COORD1": Signature(1, 1, "geometry", _always(DOUBLE)),
    "COORD2": Signature(1, 1, "geometry", _always(DOUBLE)),
    "COORDSYS": Signature(1, 1, "geometry", _always(VARCHAR)),
    "DISTANCE": Signature(2, 4, "any", _always(DOUBLE)),
    "INTERSECTS": Signature(2, 2, "geometry", _always(INTEGER)),
    "POINT": Signature(2, 3, "any", _always(POINT)),
    "POLYGON": Signature(3, None, "any", _always(POLYGON)),
    "REGION": Signature(1, 1, "string", _always(SqlType("REGION"))),
    # §4.4 string functions
    "LOWER": Signature(1, 1, "string", _always(VARCHAR)),
    "UPPER": Signature(1, 1, "string", _always(VARCHAR)),
    # §4.8 conditional function
    "COALESCE": Signature(1, None, "any", lambda types: common(types)),
    # §4.9 unit conversion
    "IN_UNIT": Signature(2, 2, "any", _always(DOUBLE)),
}

# Functions that return 1 or 0 and become bare conditions when compared with 1 or 0 (§4.2.6).
PREDICATES = frozenset({"CONTAINS", "INTERSECTS"})

# Aggregates (§2.2.4): their result type from their argument's.
AGGREGATE_RESULTS: dict[str, Callable[[SqlType], SqlType]] = {
    "COUNT": lambda _t: BIGINT,
    "AVG": lambda _t: DOUBLE,
    "SUM": lambda t: BIGINT if t.is_integer else t,
    "MIN": lambda t: t,
    "MAX": lambda t: t,
}
