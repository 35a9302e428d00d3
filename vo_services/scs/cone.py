"""Simple Cone Search 1.03: the request, the columns per VERB, and the cone query.

The cone runs through the same query session, published view and GiST index as TAP
(``pos <@ scircle``), so it obeys the same access rule.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

from archive.columns import Column
from archive.published import OBSCORE
from vo_services import limits
from vo_services.dali import DaliParameterError, DaliParams
from vo_services.results.statements import Prepared, PreparedCall, number_literal

MAX_SR_DEG = 10.0
# SCS 1.03 §2: exactly one FIELD each with these UCDs (the 1.03 UCD1 words, which pyvo's
# SCSResults and the cone search validators look for).
SCS_UCDS = {"obs_publisher_did": "ID_MAIN", "s_ra": "POS_EQ_RA_MAIN", "s_dec": "POS_EQ_DEC_MAIN"}
VERB_COLUMNS = {
    1: ("obs_publisher_did", "s_ra", "s_dec"),
    2: ("obs_publisher_did", "s_ra", "s_dec", "target_name", "dataproduct_type", "instrument_name",
        "facility_name", "t_min", "t_exptime", "em_min", "em_max", "access_url", "access_format",
        "access_estsize"),
    3: tuple(c.name for c in OBSCORE.public_columns),
}


class ConeError(ValueError):
    """A parameter problem, answered with the SCS error VOTable."""


@dataclass(frozen=True)
class Cone:
    ra: float
    dec: float
    sr: float
    verb: int
    maxrec: int

    @classmethod
    def from_params(cls, params: DaliParams) -> "Cone":
        try:
            ra, dec, sr = (_number(params, name) for name in ("RA", "DEC", "SR"))
            verb = params.get("VERB") or "2"
            maxrec = limits.OUTPUT_ROWS.clamp(params.integer("MAXREC"))
        except DaliParameterError as exc:
            raise ConeError(str(exc)) from None
        if not 0 <= ra <= 360:
            raise ConeError(f"RA must be between 0 and 360 degrees, not {ra}")
        if not -90 <= dec <= 90:
            raise ConeError(f"DEC must be between -90 and 90 degrees, not {dec}")
        if not 0 <= sr <= MAX_SR_DEG:
            raise ConeError(f"SR must be between 0 and {MAX_SR_DEG} degrees (the largest radius "
                            f"this service searches), not {sr}")
        # SCS 1.03 §2: VERB is 1, 2 or 3; anything else gets the default columns.
        return cls(ra % 360.0, dec, sr, int(verb) if verb in ("1", "2", "3") else 2, maxrec)

    @property
    def fields(self) -> tuple[Column, ...]:
        return _verb_fields(self.verb)

    def sql(self) -> tuple[str, tuple]:
        """The cone as the GiST index answers it; one row more than MAXREC to detect overflow."""
        return _cone_sql(self.verb, PSYCOPG2), self._parameters

    @property
    def _parameters(self) -> tuple[float, float, float, int]:
        return (self.ra, self.dec, self.sr, self.maxrec + 1)

    def bound_sql(self) -> bytes:
        """:meth:`sql` with its parameters in it, exactly as psycopg2 binds them."""
        return _cone_sql(self.verb, PSYCOPG2).encode() % tuple(map(number_literal, self._parameters))

    def prepared(self) -> PreparedCall:
        """The same query as a prepared statement of the VERB level (planned once per connection)."""
        return _STATEMENTS[self.verb](*self._parameters)


PSYCOPG2 = ("%s",) * 4
PREPARE = ("$1", "$2", "$3", "$4")


def _cone_sql(verb: int, placeholders: tuple[str, ...]) -> str:
    """The cone query with the placeholders of psycopg2 or of PREPARE for (ra, dec, sr, limit)."""
    ra, dec, sr, limit = placeholders
    return (f"SELECT {', '.join(VERB_COLUMNS[verb])} FROM ivoa.obscore "
            f"WHERE pos <@ scircle(spoint(radians({ra}), radians({dec})), radians({sr})) LIMIT {limit}")


_STATEMENTS = {verb: Prepared(f"lick_cone_verb{verb}", _cone_sql(verb, PREPARE),
                              ("float8", "float8", "float8", "int8"))
               for verb in VERB_COLUMNS}


@lru_cache(maxsize=None)
def _verb_fields(verb: int) -> tuple[Column, ...]:
    """The FIELDs of a VERB level: the published columns themselves, with SCS's UCDs. Made once:
    the published columns are fixed."""
    published = {c.name: c for c in OBSCORE.public_columns}
    return tuple(replace(published[name], ucd=SCS_UCDS[name]) if name in SCS_UCDS else published[name]
                 for name in VERB_COLUMNS[verb])


def _number(params: DaliParams, name: str) -> float:
    value = params.get(name)
    if value is None or not value.strip():
        raise ConeError(f"the {name} parameter is missing (RA, DEC and SR are required, in decimal degrees)")
    try:
        number = float(value)
    except ValueError:
        raise ConeError(f"{name} must be a number of decimal degrees, not '{value}'") from None
    if not math.isfinite(number):
        raise ConeError(f"{name} must be a finite number, not '{value}'")
    return number
