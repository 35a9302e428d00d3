"""What every instrument mapping shares: reading cards the way Lick headers need, dates, frame types.

An instrument mapping is an :class:`Instrument`: it says whether it :meth:`~Instrument.claims` a
file (from the archive directory and the header) and :meth:`~Instrument.read`\\ s the header into a
:class:`Reading`. :mod:`ingest.mapping` turns the reading into an observation row, adding what is
the same for every instrument (position, footprint, times in MJD, the directory-date fallback).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from astropy.io import fits

from ingest.flags import IngestFlag
from ingest.nights import ArchivePath

#: PROGRAM values that name the acquisition software, not an observing program.
SOFTWARE_PROGRAMS = frozenset({"NEWCAM", "KAST"})
_MISSING = object()


class Cards:
    """A header's values, cleaned as Lick headers need, with each problem recorded as a flag.

    Strings are stripped (2006-2012 NEWCAM right-justifies them), stray quotes removed
    (``'''nickel_spectrograph'``) and blanks become ``None``. Values that cannot be understood
    are ``None`` and set :attr:`IngestFlag.BAD_CARD_VALUE`; nothing here raises.
    """

    def __init__(self, header: fits.Header, flags: IngestFlag = IngestFlag(0)):
        self.header = header
        self.flags = flags
        self._values: dict[str, object] = {}  # astropy re-checks its config on every access

    def flag(self, flag: IngestFlag) -> None:
        self.flags |= flag

    def has(self, key: str) -> bool:
        try:
            return key in self.header
        except Exception:  # noqa: BLE001
            return False

    def values(self, key: str) -> list:
        """Every value of ``key``, in header order (some keywords are repeated)."""
        try:
            count = self.header.count(key)
        except Exception:  # noqa: BLE001  (KeyError when absent; anything on a broken card)
            return []
        found = []
        for index in range(count):
            try:
                found.append(self.header[key, index])
            except Exception:  # noqa: BLE001
                self.flag(IngestFlag.BAD_CARD_VALUE)
        return found

    def value(self, key: str):
        if key in self._values:
            return self._values[key]
        try:
            value = self.header.get(key, _MISSING)
        except Exception:  # noqa: BLE001
            self.flag(IngestFlag.BAD_CARD_VALUE)
            value = None
        if value is _MISSING or isinstance(value, fits.card.Undefined):
            value = None
        self._values[key] = value
        return value

    def text(self, key: str) -> str | None:
        """The first non-blank string value of ``key``, cleaned."""
        value = self.value(key)
        if isinstance(value, str):
            cleaned = clean_text(value)
            if cleaned is not None:
                return cleaned
        for other in self.values(key)[1:]:  # a repeated card may hold the text (OBSTYPE)
            if isinstance(other, str) and (cleaned := clean_text(other)) is not None:
                return cleaned
        if value is None or isinstance(value, str):
            return None
        return clean_text(str(value))

    def number(self, key: str) -> float | None:
        """The value of ``key`` as a finite float, or ``None``."""
        value = self.value(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            if isinstance(value, bool):
                raise ValueError(value)
            number = float(value.strip() if isinstance(value, str) else value)
        except (TypeError, ValueError, OverflowError):
            self.flag(IngestFlag.BAD_CARD_VALUE)
            return None
        if not math.isfinite(number):
            self.flag(IngestFlag.BAD_CARD_VALUE)
            return None
        return number

    def switch(self, key: str) -> bool | None:
        """A lamp status: ``True`` for T/'on', ``False`` for F/'off', ``None`` if absent."""
        value = self.value(key)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        return text in ("on", "t", "true", "1", "yes")


def clean_text(value: str) -> str | None:
    """Stripped of padding, stray quotes and unprintable characters; ``None`` when blank."""
    text = "".join(c if c.isprintable() else " " for c in value).strip().strip("'\"").strip()
    return text or None


# --- Dates --------------------------------------------------------------------------------------

_DATETIME = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?)?Z?")
_TIME = re.compile(r"(\d{1,2}):(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?")
_OLD_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2})")  # DD/MM/YY, pre-2000 FITS
FIRST_YEAR, LAST_YEAR = 1950, 2100


def parse_datetime(text: str | None) -> datetime | None:
    """An ISO date or date-time card value as an aware UTC datetime; ``None`` if impossible.

    Impossible dates (``584556019-04-03T...``, month 13, year 1900) give ``None``, so that the
    caller can fall back and flag.
    """
    if not text:
        return None
    text = text.strip()
    match = _DATETIME.fullmatch(text)
    if match:
        year, month, day, hour, minute, second = match.groups()
        return _build(int(year), int(month), int(day), hour, minute, second)
    match = _OLD_DATE.fullmatch(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return _build(1900 + year, month, day, None, None, None)
    return None


def parse_date_and_time(date_text: str | None, time_text: str | None) -> datetime | None:
    """``DATE-OBS='2014-05-20'`` plus ``TIME-OBS='22:49:25.515'``."""
    day = parse_datetime(date_text)
    match = _TIME.fullmatch(time_text.strip()) if time_text else None
    if day is None or match is None or day.time() != datetime.min.time():
        return None
    hour, minute, second = match.groups()
    return _build(day.year, day.month, day.day, hour, minute, second)


def _build(year, month, day, hour, minute, second) -> datetime | None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    try:
        moment = datetime(year, month, day, tzinfo=timezone.utc)
    except ValueError:
        return None
    h, m = int(hour or 0), int(minute or 0)
    s = float(second or 0)
    if h > 23 or m > 59 or s >= 61:
        return None
    return moment + timedelta(hours=h, minutes=m, seconds=s)  # s = 60.x: a leap or a rounding


# --- Frame types --------------------------------------------------------------------------------

#: Words observers type in OBJECT for each kind of calibration, checked in this order (a
#: 'flat field lamp' is a flat, a 'neon lamp' an arc).
_OBJECT_WORDS = (
    ("bias", re.compile(r"\b(bias(es)?|zero)\b|^bias")),
    ("dark", re.compile(r"\bdarks?\b")),
    ("flat", re.compile(r"flat")),
    ("arc", re.compile(r"\barcs?\b|arc_|\blamps?\b|\bthar\b|\bth ?ar\b|\bhg|\bneon\b|\bne ?ar\b|hehg|"
                       r"\bargon\b|\bhe\b|\bcd\b")),
    ("focus", re.compile(r"focus")),
)


def frame_type_from_object(target: str | None) -> str | None:
    """The calibration an OBJECT value names, or ``None`` when it names none (a science target)."""
    if not target:
        return None
    lowered = target.lower()
    for frame_type, words in _OBJECT_WORDS:
        if words.search(lowered):
            return frame_type
    return None


def frame_type_from_label(target: str | None, exptime: float | None) -> str:
    """What OBJECT alone says: a calibration it names, a bias if 0 s long, else science.

    A blank OBJECT says nothing: unknown.
    """
    named = frame_type_from_object(target)
    if named is not None:
        return named
    if exptime == 0:
        return "bias"
    return "science" if target else "unknown"


def dark_or_bias(exptime: float | None) -> str:
    """A closed-shutter frame: a bias if (nearly) zero seconds long, else a dark."""
    return "bias" if exptime is None or exptime < 0.5 else "dark"


# --- Wavelengths --------------------------------------------------------------------------------

NM = 1e-9


def band(low_nm: float, high_nm: float) -> tuple[float, float]:
    """A wavelength range in metres from nanometres."""
    return low_nm * NM, high_nm * NM


_CENTER_WIDTH = re.compile(r"(\d{3,4}(?:\.\d+)?)\s*/\s*(\d{1,3}(?:\.\d+)?)")


def band_from_center_width(name: str | None) -> tuple[float, float] | None:
    """A filter named ``center/width`` in nm (e.g. Villages ``900/40``)."""
    match = _CENTER_WIDTH.fullmatch(name or "")
    if not match:
        return None
    center, width = float(match.group(1)), float(match.group(2))
    return band(center - width / 2, center + width / 2)


# --- Readings and instruments -------------------------------------------------------------------

@dataclass
class Reading:
    """What an instrument mapping reads from a header; :mod:`ingest.mapping` makes the row."""

    telescope: str
    instrument: str
    dataproduct_type: str  # 'image' or 'spectrum'
    facility_name: str
    frame_type: str = "unknown"
    start: datetime | None = None
    end: datetime | None = None
    exptime: float | None = None
    target_name: str | None = None
    filters: str | None = None
    grating: str | None = None
    grism: str | None = None
    slit: str | None = None
    dichroic: str | None = None
    decker: str | None = None
    aperture: str | None = None
    em: tuple[float, float] | None = None  # metres
    #: Images without a celestial WCS: the field's (width, height) in degrees on the sky.
    field_size: tuple[float, float] | None = None
    #: Spectra: the slit's length in degrees, reported as s_fov.
    slit_length: float | None = None
    airmass: float | None = None
    observer: str | None = None
    program: str | None = None
    cover_id: str | None = None


FACILITIES = {
    "Shane": "Lick Observatory Shane 3-m Telescope",
    "Nickel": "Lick Observatory Nickel 1-m Telescope",
    "APF": "Lick Observatory Automated Planet Finder",
    "Unknown": "Lick Observatory",
}


class Instrument:
    """One mapping: which files it claims and how it reads their headers."""

    telescope = "Unknown"

    def claims(self, cards: Cards, where: ArchivePath) -> bool:
        raise NotImplementedError

    def read(self, cards: Cards, where: ArchivePath) -> Reading:
        raise NotImplementedError

    def reading(self, cards: Cards, instrument: str, dataproduct_type: str, **values) -> Reading:
        """A reading with what most headers record the same way (OBJECT, OBSERVER, ...)."""
        common = dict(
            target_name=cards.text("OBJECT"),
            airmass=airmass(cards),
            observer=cards.text("OBSERVER"),
            program=program(cards),
        )
        common.update(values)
        if common["target_name"] is None:
            cards.flag(IngestFlag.NO_OBJECT)
        return Reading(self.telescope, instrument, dataproduct_type, FACILITIES[self.telescope],
                       **common)


def airmass(cards: Cards) -> float | None:
    value = cards.number("AIRMASS")
    return value if value is not None and 1.0 <= value < 100.0 else None


def program(cards: Cards) -> str | None:
    value = cards.text("PROGRAM")
    return None if value is None or value.upper() in SOFTWARE_PROGRAMS else value


def exposure(cards: Cards, *keys: str) -> float | None:
    """The first of ``keys`` that holds a non-negative exposure time, in seconds."""
    for key in keys:
        value = cards.number(key)
        if value is not None and value >= 0:
            return value
    cards.flag(IngestFlag.NO_EXPOSURE_TIME)
    return None


def not_open(*names: str | None) -> str | None:
    """Filter wheel names that hold a filter, joined with ' + '; ``None`` when all are open."""
    held = [n for n in names if n and n.lower() not in ("open", "clear", "none", "home", "unknown", "out")]
    return " + ".join(dict.fromkeys(held)) or None


def newcam_times(cards: Cards, exptime: float | None) -> tuple[datetime | None, datetime | None]:
    """Start and end of a NEWCAM exposure (Kast, Nickel, APF), in UTC.

    * 2018 and later: DATE-BEG and DATE-END (UTC).
    * 2006-2012: DATE-STA and DATE-END, in local time (PST or PDT) on some cameras and in UTC on
      others, and DATE-OBS, the UTC time of the readout. The offset (0, 7 or 8 hours) is the
      whole hours between DATE-END and DATE-OBS; when it is none of these, the start is the
      readout minus the exposure time.
    * Older headers: DATE-OBS is the start (with TIME-OBS, UT or TIME if it holds a date alone).
    * Else DATE, the readout, minus the exposure time. ``None`` when nothing is usable.
    """
    begin = parse_datetime(cards.text("DATE-BEG"))
    if begin is not None:
        return begin, _end(parse_datetime(cards.text("DATE-END")), begin, exptime)
    if cards.has("DATE-BEG"):
        cards.flag(IngestFlag.DATE_BEG_UNUSABLE)
    date_obs = parse_datetime(cards.text("DATE-OBS"))
    start = parse_datetime(cards.text("DATE-STA"))
    if start is not None:
        end = parse_datetime(cards.text("DATE-END"))
        offset = _local_offset(end or start + timedelta(seconds=exptime or 0), date_obs)
        if offset is not None:
            if offset:
                cards.flag(IngestFlag.LOCAL_TIME_CONVERTED)
            start += offset
            return start, _end(end + offset if end else None, start, exptime)
        if date_obs is not None:  # DATE-STA makes no sense; DATE-OBS is the readout here
            return date_obs - timedelta(seconds=exptime or 0), date_obs
    if date_obs is not None and date_obs.time() == datetime.min.time():  # a date alone
        for key in ("TIME-OBS", "UT", "TIME"):
            with_time = parse_date_and_time(cards.text("DATE-OBS"), cards.text(key))
            if with_time is not None:
                date_obs = with_time
                break
    if date_obs is None:
        date_obs = parse_datetime(cards.text("DATE"))  # the readout: the best there is
        if date_obs is not None and exptime:
            date_obs -= timedelta(seconds=exptime)
    return date_obs, _end(None, date_obs, exptime) if date_obs else None


def date_obs_times(cards: Cards, exptime: float | None) -> tuple[datetime | None, datetime | None]:
    """Start and end for Kast and Nickel, whose observatory rule dates a frame by DATE-OBS.

    DATE-OBS is UTC wherever these cameras write it (shared/lick_archive_notes.md: Kast and
    Nickel ``obs_date``), to the header's full precision: NEWCAM writes hundredths of a second.
    The 2006-2012 DATE-STA/DATE-END beside it are local time to the whole second, so they never
    set the start; DATE-END is the end only beside DATE-BEG (2018 on, both UTC), else the end is
    the start plus the exposure time. Without a DATE-OBS that holds a time of day (2019 Nickel
    headers have DATE-BEG and DATE instead), :func:`newcam_times` decides.
    """
    match = _DATETIME.fullmatch(cards.text("DATE-OBS") or "")
    start = parse_datetime(match.group(0)) if match and match.group(4) is not None else None
    if start is None:
        return newcam_times(cards, exptime)
    end = parse_datetime(cards.text("DATE-END")) if cards.has("DATE-BEG") else None
    return start, _end(end, start, exptime)


def _local_offset(local_end: datetime, readout: datetime | None) -> timedelta | None:
    """Hours to add to a DATE-STA/DATE-END pair to get UTC, judged from the readout time."""
    if readout is None:
        return None
    difference = (readout - local_end).total_seconds()
    hours = round(difference / 3600)
    if hours in (0, 7, 8) and abs(difference - hours * 3600) < 600:
        return timedelta(hours=hours)
    return None


def _end(end: datetime | None, start: datetime | None, exptime: float | None) -> datetime | None:
    """The recorded end if it is plausible, else start + exposure time."""
    if start is None:
        return None
    if end is not None and start <= end <= start + timedelta(seconds=(exptime or 0) + 3600):
        return end
    return start + timedelta(seconds=exptime or 0)


def lamps(cards: Cards, keys: str) -> list[bool] | None:
    """The states of the lamps ``LAMPSTA<k>`` for each k in ``keys``; ``None`` if none is recorded."""
    states = [cards.switch(f"LAMPSTA{k}") for k in keys]
    known = [s for s in states if s is not None]
    return known or None


def is_after(where: ArchivePath, day: date) -> bool:
    return where.night is not None and where.night >= day
