"""The search form: what people ask for, checked field by field, and the ADQL that asks it.

A search is its query string (every search is a shareable URL). :func:`read_form` reads it into
a :class:`Criteria` with a message per bad field; :meth:`Criteria.adql` writes the one ADQL query
that the page runs through the TAP translator and the result engine as the caller
(:mod:`vo_services.portal.runner`), so the database's access rule is the only one. Paging is by
key (the sort value and obs_id of the row at the page's edge), never OFFSET, so page 50 costs
what page 1 costs.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone

from archive.schema import FRAME_TYPES
from vo_services.portal import adql_text
from vo_services.portal.adql_text import UnsafeText

PAGE_ROWS = 50
MAX_RADIUS_ARCMIN = 1800.0  # 30 degrees: wider searches are ADQL's job, not a form's
DEFAULT_RADIUS_ARCMIN = 10.0
MAX_TEXT = 200  # characters in a text field
MAX_EXPOSURE_S = 1e6

TELESCOPES = ("Shane", "Nickel", "APF")
INSTRUMENTS = ("Kast Blue", "Kast Red", "Hamilton", "ShaneAO/ShARCS", "Nickel Direct",
               "Nickel Spectrograph", "APF Levy")
ACCESS = {"": "public and proprietary", "public": "public only", "proprietary": "proprietary only"}

TABLE = "lick.observations"
COLUMNS = ("obs_id", "observing_night", "date_obs", "telescope", "instrument", "frame_type",
           "target_name", "exptime", "s_ra", "s_dec", "obs_release_date", "t_min")


@dataclass(frozen=True)
class SortKey:
    label: str
    column: str
    kind: str  # "number", "timestamp" or "text": how a page key's value is read back
    nullable: bool = True  # archive/schema.py: may the column be NULL?


SORTS = {
    "night": SortKey("Night", "observing_night", "timestamp", nullable=False),
    "time": SortKey("Time (UT)", "t_min", "number"),
    "instrument": SortKey("Instrument", "instrument", "text", nullable=False),
    "frame": SortKey("Frame type", "frame_type", "text", nullable=False),
    "object": SortKey("Object", "target_name", "text"),
    "exposure": SortKey("Exposure (s)", "exptime", "number"),
    "ra": SortKey("RA", "s_ra", "number"),
    "dec": SortKey("Dec", "s_dec", "number"),
    "release": SortKey("Release date", "obs_release_date", "timestamp", nullable=False),
}
DEFAULT_SORT = "time"


@dataclass(frozen=True)
class PageKey:
    """Where a page starts: after (or, going back, before) the row with this sort value and id."""

    value: object  # float, datetime, str or None, as the sort column holds it
    obs_id: str
    backward: bool = False

    def encode(self) -> str:
        value = self.value.isoformat() if isinstance(self.value, datetime) else self.value
        return json.dumps([value, self.obs_id], ensure_ascii=False, separators=(",", ":"))


@dataclass
class Criteria:
    """A checked search. ``names`` are the archive's target names that the typed target matched
    (:mod:`vo_services.portal.targets`); the view fills them before it writes the ADQL."""

    target: str = ""
    names: tuple[str, ...] = ()
    position: tuple[float, float] | None = None
    radius_arcmin: float = DEFAULT_RADIUS_ARCMIN
    night: date | None = None
    start: date | None = None
    end: date | None = None
    telescope: str = ""
    instrument: str = ""
    frames: tuple[str, ...] = ()
    exp_min: float | None = None
    exp_max: float | None = None
    program: str = ""
    programs: tuple[str, ...] | None = None  # "my programs only": the caller's programs
    access: str = ""
    sort: str = DEFAULT_SORT
    descending: bool = True
    page: PageKey | None = None
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc).replace(second=0, microsecond=0))

    @property
    def sort_key(self) -> SortKey:
        return SORTS[self.sort]

    def conditions(self) -> list[str]:
        """The ADQL conditions of the search itself (without the page key)."""
        where: list[str] = []
        if self.target:
            where.append(f"target_name IN ({', '.join(map(adql_text.string, self.names))})")
        if self.position is not None:
            ra, dec = self.position
            where.append("1 = CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', "
                         f"{adql_text.number(ra)}, {adql_text.number(dec)}, "
                         f"{adql_text.number(self.radius_arcmin / 60)}))")
        if self.night is not None:
            where.append(f"observing_night = {adql_text.timestamp(self.night)}")
        if self.start is not None:
            where.append(f"observing_night >= {adql_text.timestamp(self.start)}")
        if self.end is not None:
            where.append(f"observing_night <= {adql_text.timestamp(self.end)}")
        if self.telescope:
            where.append(f"telescope = {adql_text.string(self.telescope)}")
        if self.instrument:
            where.append(f"instrument = {adql_text.string(self.instrument)}")
        if self.frames:
            where.append(f"frame_type IN ({', '.join(map(adql_text.string, self.frames))})")
        if self.exp_min is not None:
            where.append(f"exptime >= {adql_text.number(self.exp_min)}")
        if self.exp_max is not None:
            where.append(f"exptime <= {adql_text.number(self.exp_max)}")
        if self.program:
            where.append(f"program = {adql_text.string(self.program)}")
        if self.programs is not None:
            # No programs: nothing is "mine"; an empty IN list is not ADQL.
            where.append(f"program IN ({', '.join(map(adql_text.string, self.programs))})"
                         if self.programs else "1 = 0")
        now = adql_text.timestamp(self.now)
        if self.access == "public":
            where.append(f"obs_release_date <= {now}")
        elif self.access == "proprietary":
            where.append(f"(obs_release_date > {now} OR obs_release_date IS NULL)")
        return where

    def _order(self, descending: bool) -> str:
        direction = "DESC" if descending else "ASC"
        return f"ORDER BY {self.sort_key.column} {direction}, obs_id {direction}"

    def _where(self, extra: Sequence[str] = ()) -> str:
        conditions = [*self.conditions(), *extra]
        return ("\nWHERE " + "\n  AND ".join(conditions)) if conditions else ""

    def adql(self, rows: int = PAGE_ROWS + 1) -> str:
        """The page's query: ``rows`` rows (one more than shown tells whether a next page exists)
        from the page key on, in the order asked (reversed when paging back)."""
        descending = self.descending != bool(self.page and self.page.backward)
        select = f"SELECT TOP {int(rows)} {', '.join(COLUMNS)}\nFROM {TABLE}"
        order = self._order(descending)
        if self.page is None:
            return f"{select}{self._where()}\n{order}"
        column, obs_id = self.sort_key.column, adql_text.string(self.page.obs_id)
        less = "<" if descending else ">"
        if self.page.value is None:
            # In the NULLs (PostgreSQL sorts them last ascending, first descending).
            nulls = f"{column} IS NULL AND obs_id {less} {obs_id}"
            if not descending:
                return f"{select}{self._where([nulls])}\n{order}"
            return self._union(select, order, [nulls], [f"{column} IS NOT NULL"])
        value = self._literal(self.page.value)
        # The pair spelled out (ADQL has no row comparison), with a bound on the column alone
        # that an index can scan from: keyset paging costs the same on page 50 as on page 1.
        after = f"{column} {less}= {value} AND ({column} {less} {value} OR obs_id {less} {obs_id})"
        if descending or not self.sort_key.nullable:
            return f"{select}{self._where([after])}\n{order}"
        return self._union(select, order, [after], [f"{column} IS NULL"])

    def _union(self, select: str, order: str, first: list[str], then: list[str]) -> str:
        """Two index-friendly parts of one page, in order: the rows after the key, and the NULLs
        that follow them (ADQL 2.1 §2.2: UNION, each part with its own TOP and ORDER BY)."""
        return (f"({select}{self._where(first)}\n{order})\nUNION ALL\n"
                f"({select}{self._where(then)}\n{order})\n{order}")

    def export_adql(self) -> str:
        """Every result of the search, in the page's order: what Export hands to /tap/sync."""
        return f"SELECT {', '.join(COLUMNS)}\nFROM {TABLE}{self._where()}\n{self._order(self.descending)}"

    def ids_adql(self, rows: int) -> str:
        """The first ``rows`` identifiers of the search ("add all results to the basket")."""
        return f"SELECT TOP {int(rows)} obs_id\nFROM {TABLE}{self._where()}\n{self._order(self.descending)}"

    def count_adql(self, cap: int) -> str:
        """How many results, counting no further than ``cap`` (a count of a million rows would
        cost more than the page; the basket takes no more than a bundle holds anyway)."""
        return (f"SELECT COUNT(*) AS n FROM (SELECT TOP {int(cap)} obs_id\nFROM {TABLE}{self._where()}) AS s")

    def _literal(self, value) -> str:
        if self.sort_key.kind == "number":
            return adql_text.number(value)
        if self.sort_key.kind == "timestamp":
            return adql_text.timestamp(value)
        return adql_text.string(value)

    def key_of(self, row: Mapping, backward: bool = False) -> PageKey:
        return PageKey(row[self.sort_key.column], row["obs_id"], backward)

    def with_page(self, page: PageKey | None) -> "Criteria":
        return replace(self, page=page)


# --- reading the form ----------------------------------------------------------------------------

class Form:
    """The query string as typed (to fill the form again) and a message per bad field."""

    def __init__(self, params: Mapping, logged_in: bool):
        self.params = params
        self.logged_in = logged_in
        self.errors: dict[str, str] = {}
        self.notices: list[str] = []

    def text(self, name: str) -> str:
        value = (self.params.get(name) or "").strip()
        if len(value) > MAX_TEXT:
            self.errors[name] = f"at most {MAX_TEXT} characters"
            return ""
        try:
            return adql_text.check_text(value)
        except UnsafeText as exc:
            self.errors[name] = str(exc)
            return ""

    def number(self, name: str, low: float, high: float, what: str) -> float | None:
        value = self.text(name)
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            self.errors[name] = f"{what} must be a number, not “{value}”"
            return None
        if not math.isfinite(number) or not low <= number <= high:
            self.errors[name] = f"{what} must be between {low:g} and {high:g}"
            return None
        return number

    def day(self, name: str) -> date | None:
        value = self.text(name)
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.errors[name] = f"“{value}” is not a date; write it as YYYY-MM-DD"
            return None

    def choice(self, name: str, allowed: Sequence[str]) -> str:
        value = self.text(name)
        if value and value not in allowed:
            self.errors[name] = f"“{value}” is not one of the choices"
            return ""
        return value


def read_form(params: Mapping, programs: Sequence[str] | None) -> tuple[Criteria, Form]:
    """The criteria of a query string, and the form's messages. ``programs`` are the caller's
    programs (None: not logged in)."""
    form = Form(params, programs is not None)
    criteria = Criteria()
    criteria.target = form.text("target")
    criteria.position = _position(form)
    radius = form.number("radius", 0, MAX_RADIUS_ARCMIN, "The radius (arcmin)")
    if radius is not None:
        if radius <= 0:
            form.errors["radius"] = "The radius must be more than 0 arcmin"
        else:
            criteria.radius_arcmin = radius
    criteria.night = form.day("night")
    criteria.start = form.day("start")
    criteria.end = form.day("end")
    if criteria.start and criteria.end and criteria.start > criteria.end:
        form.errors["end"] = "The last night is before the first night"
    criteria.telescope = form.choice("telescope", TELESCOPES)
    criteria.instrument = form.choice("instrument", INSTRUMENTS)
    frames = [f for f in _getlist(params, "frame") if f]
    if any(f not in FRAME_TYPES for f in frames):
        form.errors["frame"] = "Choose frame types from the list"
    else:
        criteria.frames = tuple(dict.fromkeys(frames))
    criteria.exp_min = form.number("exp_min", 0, MAX_EXPOSURE_S, "The shortest exposure")
    criteria.exp_max = form.number("exp_max", 0, MAX_EXPOSURE_S, "The longest exposure")
    if criteria.exp_min is not None and criteria.exp_max is not None and criteria.exp_min > criteria.exp_max:
        form.errors["exp_max"] = "The longest exposure is shorter than the shortest"
    criteria.program = form.text("program")
    if params.get("mine"):
        if programs is None:
            form.errors["mine"] = "Log in to search your own programs"
        else:
            criteria.programs = tuple(programs)
    criteria.access = form.choice("access", tuple(ACCESS))
    criteria.sort = params.get("sort") if params.get("sort") in SORTS else DEFAULT_SORT
    criteria.descending = params.get("dir", "desc") != "asc"
    criteria.page = _page_key(params, criteria, form)
    return criteria, form


def _getlist(params: Mapping, name: str) -> list[str]:
    getlist = getattr(params, "getlist", None)
    if getlist is not None:
        return [v.strip() for v in getlist(name)]
    value = params.get(name)
    return [value.strip()] if value else []


def _position(form: Form) -> tuple[float, float] | None:
    """Degrees ("150.1 -20.5", "150.1, -20.5") or sexagesimal ("10h00m24s +02d12m00s",
    "10:00:24 +02:12:00"), read by astropy, ICRS."""
    value = form.text("coords")
    if not value:
        return None
    text = value.replace(",", " ")
    parts = text.split()
    try:
        if len(parts) == 2 and all(_is_number(p) for p in parts):
            ra, dec = float(parts[0]), float(parts[1])  # degrees: no need of astropy's parser
            if not -90 <= dec <= 90:
                raise ValueError("declination out of range")
        else:
            from astropy import units as u
            from astropy.coordinates import SkyCoord

            coord = SkyCoord(text, unit=(u.hourangle, u.deg), frame="icrs")
            ra, dec = float(coord.ra.deg), float(coord.dec.deg)
    except Exception:  # noqa: BLE001  (astropy raises many kinds for text it cannot read)
        form.errors["coords"] = (f"“{value}” is not a position; give RA and Dec in degrees "
                                 "(150.1 -20.5) or sexagesimal (10:00:24 +02:12:00)")
        return None
    if not (math.isfinite(ra) and math.isfinite(dec)):
        form.errors["coords"] = "RA and Dec must be finite numbers"
        return None
    return ra % 360.0, dec


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _page_key(params: Mapping, criteria: Criteria, form: Form) -> PageKey | None:
    """The key of a next or previous link; a damaged one starts again at the first page."""
    for name, backward in (("after", False), ("before", True)):
        raw = params.get(name)
        if not raw:
            continue
        try:
            value, obs_id = json.loads(raw)
            if not isinstance(obs_id, str):
                raise ValueError
            adql_text.check_text(obs_id)
            value = _key_value(value, criteria.sort_key.kind)
        except (ValueError, TypeError, UnsafeText):
            form.notices.append("The page link was damaged; here is the first page.")
            return None
        return PageKey(value, obs_id, backward)
    return None


def _key_value(value, kind: str):
    if value is None:
        return None
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError
        return float(value)
    if not isinstance(value, str):
        raise ValueError
    adql_text.check_text(value)
    if kind == "timestamp":
        return datetime.fromisoformat(value)
    return value


def has_criteria(params: Mapping) -> bool:
    """Whether the query string asks for a search at all (an empty form shows no results)."""
    return any(params.get(name) for name in (
        "target", "coords", "night", "start", "end", "telescope", "instrument", "frame", "exp_min",
        "exp_max", "program", "mine", "access", "run"))



def is_proprietary(release: datetime | None) -> bool:
    """Whether a row with this release date is still in its proprietary period (the lock icon);
    release dates come with or without a zone depending on the view's column (UTC either way)."""
    if release is None:
        return True
    if release.tzinfo is None:
        release = release.replace(tzinfo=timezone.utc)
    return release > datetime.now(timezone.utc)
