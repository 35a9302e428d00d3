"""An SIA 2.0 query (SIA 2.0 §2.1) as one SELECT on ivoa.obscore.

Every parameter may be repeated: its values are OR-ed, and the parameters AND-ed (§2.1). Numeric
intervals are ``lo hi`` with inclusive bounds, +Inf/-Inf for open ends, and a single value ``v``
meaning ``[v, v]`` (§2.1, DALI 1.1 §3.3.4 intervals); a NULL column never matches (its comparison
is NULL). Intervals and shapes are read by :mod:`vo_services.dali.values`, as SODA reads them.
POS is matched against ``s_region`` with the pgsphere overlap operator ``&&``, which the
published view lets the GiST index answer (its operator functions are LEAKPROOF,
scripts/leakproof.sql), as ADQL's INTERSECTS is.

The SQL is psycopg ``sql`` composition: the columns are identifiers of archive/published.py, and
every value from the request is an ``sql.Literal``, quoted by psycopg, never pasted text.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from psycopg import sql

from archive.columns import Column
from archive.pgsphere import spoly_literal
from archive.published import OBSCORE
from vo_services import limits
from vo_services.dali import DaliParameterError, DaliParams
from vo_services.dali.values import Circle, Polygon, Range, parse_interval, parse_pos
from vo_services.encoders import OutputFormat, UnknownFormat, resolve

#: The result's columns: every public ObsCore column, in the table's order (SIA 2.0 §3.1).
FIELDS: tuple[Column, ...] = tuple(OBSCORE.public_columns)
#: pgsphere's scircle takes radii up to a hemisphere (DALI 1.1 allows up to 180 degrees).
MAX_RADIUS_DEG = 90.0
#: Refused beyond this (a UsageFault, not a query the database chews on until its time-out); a
#: POLYGON's vertices are limited by vo_services.dali.values.MAX_VERTICES.
MAX_VALUES = 500  # values of one parameter (Django takes 1,000 fields in all)
#: ObsCore 1.1 §4.19: the polarization states pol_states lists, as /I/Q/.
POL_STATES = frozenset({"I", "Q", "U", "V", "RR", "LL", "RL", "LR", "XX", "YY", "XY", "YX", "POLI", "POLA"})


class SiaUsageError(DaliParameterError):
    """A parameter value the service cannot read; answered with a UsageFault (DALI 1.1 §4.4.2).
    The values' own errors (:mod:`vo_services.dali.values`) are answered alike."""


def _column(name: str) -> sql.Identifier:
    assert any(c.name == name for c in FIELDS), name  # only published columns, checked at import
    return sql.Identifier(name)


# -- POS (SIA 2.0 §2.1.1): CIRCLE, RANGE, POLYGON in ICRS degrees, read by vo_services.dali.values

def _point(lon: float, lat: float) -> sql.Composable:
    return sql.SQL("spoint(radians({}), radians({}))").format(sql.Literal(lon), sql.Literal(lat))


def _circle(circle: Circle) -> sql.Composable:
    return sql.SQL("scircle({}, radians({}))").format(_point(circle.ra, circle.dec), sql.Literal(circle.radius))


def _box(box: Range) -> sql.Composable:
    return sql.SQL("sbox({}, {})").format(_point(box.ra_min, box.dec_min), _point(box.ra_max, box.dec_max))


def _spoly(polygon: Polygon) -> sql.Composable:
    return sql.SQL("CAST({} AS spoly)").format(sql.Literal(spoly_literal(polygon.vertices)))


_REGIONS: dict[type, Callable[..., sql.Composable]] = {Circle: _circle, Range: _box, Polygon: _spoly}


def _pos(text: str, name: str) -> sql.Composable:
    shape = parse_pos(text, name, max_radius=MAX_RADIUS_DEG)
    return sql.SQL("{} && {}").format(_column("s_region"), _REGIONS[type(shape)](shape))


# -- the other parameters: each value one condition

def _overlap(low: str, high: str, unit: str) -> Callable[[str, str], sql.Composable]:
    """BAND, TIME: the data's [low, high] overlaps the interval (SIA 2.0 §2.1.2-3)."""
    def condition(text: str, name: str) -> sql.Composable:
        interval = parse_interval(text, name, unit)
        return sql.SQL("{} <= {} AND {} >= {}").format(_column(low), sql.Literal(interval.hi),
                                                       _column(high), sql.Literal(interval.lo))
    return condition


def _within(column: str, unit: str) -> Callable[[str, str], sql.Composable]:
    """FOV, SPATRES, EXPTIME, TIMERES, SPECRP: the column's value lies in the interval."""
    def condition(text: str, name: str) -> sql.Composable:
        interval = parse_interval(text, name, unit)
        return sql.SQL("{} BETWEEN {} AND {}").format(_column(column), sql.Literal(interval.lo),
                                                      sql.Literal(interval.hi))
    return condition


def _equal(column: str) -> Callable[[str, str], sql.Composable]:
    """Strings compare exactly, case-sensitively (SIA 2.0 §2.1)."""
    def condition(text: str, name: str) -> sql.Composable:
        return sql.SQL("{} = {}").format(_column(column), sql.Literal(text))
    return condition


def _id(text: str, name: str) -> sql.Composable:
    """SIA 2.0 §2.1.9 and ObsCore §2.5: IVOA identifiers compare case-insensitively. Equality in
    the case-insensitive collation lick.ci is leakproof, so its index serves it through the
    view (archive/migrations/versions/0011_did_case_insensitive.py); lower() would not be."""
    return sql.SQL("{} = {} COLLATE lick.ci").format(_column("obs_publisher_did"), sql.Literal(text))


def _calib(text: str, name: str) -> sql.Composable:
    if not re.fullmatch(r"\s*[+-]?\d{1,9}\s*", text):
        raise SiaUsageError(f"CALIB must be an integer calibration level, not '{text}'")
    return sql.SQL("{} = {}").format(_column("calib_level"), sql.Literal(int(text)))


def _pol(text: str, name: str) -> sql.Composable:
    """ObsCore §4.19: pol_states lists the states between slashes, /I/Q/U/."""
    state = text.strip().upper()
    if state not in POL_STATES:
        raise SiaUsageError(f"POL: '{text}' is not a polarization state ({', '.join(sorted(POL_STATES))})")
    return sql.SQL("position({} in {}) > 0").format(sql.Literal(f"/{state}/"), _column("pol_states"))


PARAMETERS: dict[str, Callable[[str, str], sql.Composable]] = {
    "POS": _pos,
    "BAND": _overlap("em_min", "em_max", "metres"),
    "TIME": _overlap("t_min", "t_max", "MJD"),
    "POL": _pol,
    "FOV": _within("s_fov", "degrees"),
    "SPATRES": _within("s_resolution", "arcseconds"),
    "EXPTIME": _within("t_exptime", "seconds"),
    "TIMERES": _within("t_resolution", "seconds"),
    "SPECRP": _within("em_res_power", "λ/δλ"),
    "ID": _id,
    "COLLECTION": _equal("obs_collection"),
    "FACILITY": _equal("facility_name"),
    "INSTRUMENT": _equal("instrument_name"),
    "DPTYPE": _equal("dataproduct_type"),
    "CALIB": _calib,
    "TARGET": _equal("target_name"),
    "FORMAT": _equal("access_format"),
}


@dataclass(frozen=True)
class SiaSearch:
    """One request: its conditions (AND of ORs), MAXREC and output format."""

    conditions: tuple[sql.Composable, ...]
    maxrec: int
    output: OutputFormat
    content_type: str

    @classmethod
    def from_params(cls, params: DaliParams) -> "SiaSearch":
        conditions = []
        for name, condition in PARAMETERS.items():
            # An empty value constrains nothing (DALI 1.1 §3.1: as if not given).
            values = [v for v in params.getlist(name) if v.strip()]
            if len(values) > MAX_VALUES:
                raise SiaUsageError(f"{name} may be given at most {MAX_VALUES} times")
            if values:
                ored = sql.SQL(" OR ").join(sql.SQL("({})").format(condition(v, name)) for v in values)
                conditions.append(sql.SQL("({})").format(ored))
        maxrec = limits.OUTPUT_ROWS.clamp(params.integer("MAXREC"))  # DALI 1.1 §3.4.4
        try:
            output, content_type = resolve(params.get("RESPONSEFORMAT"))  # DALI 1.1 §3.4.3
        except UnknownFormat as exc:
            raise SiaUsageError(str(exc)) from None
        return cls(tuple(conditions), maxrec, output, content_type)

    def sql(self) -> bytes:
        """The SELECT, bound: one row more than MAXREC, so that the encoder sees an overflow."""
        where = (sql.SQL(" WHERE ") + sql.SQL(" AND ").join(self.conditions)) if self.conditions else sql.SQL("")
        query = sql.SQL("SELECT {} FROM ivoa.obscore{} LIMIT {}").format(
            sql.SQL(", ").join(_column(c.name) for c in FIELDS), where, sql.Literal(self.maxrec + 1))
        return query.as_bytes(None)
