"""ShaneAO/ShARCS, the Shane adaptive-optics infrared camera (directory ``AO``, from April 2014).

The header names neither telescope nor instrument: the ``AO`` directory (which held IRCAL data
before 2014) and the date identify it. Times: DATE-BEG is right; DATE-OBS + TIME-OBS is right in
2014 but later files carry a stale DATE-OBS from 2007, so it is used only when it falls on the
observing night. The exposure is TRUITIME (per coadd) x COADDONE (coadds completed).

Filter bands: approximate, from the ShARCS filter list (Mauna Kea J/H/Ks and narrow bands).
Plate scale: 0.033 arcsec per pixel.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

from ingest.flags import IngestFlag
from ingest.instruments.base import (
    Cards, Instrument, Reading, band, frame_type_from_label, frame_type_from_object, is_after, lamps,
    not_open,
    parse_date_and_time, parse_datetime)
from ingest.nights import ArchivePath, on_night

FIRST_NIGHT = date(2014, 4, 1)
PIXEL = 0.033 / 3600
#: Filter name (lower case, as in FILT1NAM/FILT2NAM) -> band, metres.
FILTER_BANDS = {
    "j": band(1170, 1330),
    "h": band(1490, 1780),
    "k": band(2030, 2360),
    "ks": band(1990, 2310),
    "brg-2.16": band(2150, 2180),
    "brgamma": band(2150, 2180),
    "ch4": band(1560, 1650),
    "feii": band(1630, 1660),
    "h2-2.12": band(2110, 2135),
    "j+ch4": band(1150, 1370),
}
#: Named positions of the filter wheels that are not filters.
_NOT_FILTERS = ("open", "blank25", "home", "unknown")
_GRISM = re.compile(r"grism", re.IGNORECASE)
_COVER_ID = re.compile(r"^(.*?)\s*\[(\d+)\]$")


class ShARCS(Instrument):
    telescope = "Shane"

    def claims(self, cards: Cards, where: ArchivePath) -> bool:
        if where.directory == "AO":
            return where.night is None or is_after(where, FIRST_NIGHT)
        return cards.has("TRUITIME") and cards.has("FILT1NAM")  # a ShARCS file out of its place

    def read(self, cards: Cards, where: ArchivePath) -> Reading:
        exptime = self._exposure(cards)
        start = self._start(cards, where)
        wheels = [cards.text("FILT1NAM"), cards.text("FILT2NAM")]
        grism = next((w for w in wheels if w and _GRISM.search(w)), None)
        filters = [w for w in wheels if w and w != grism and w.lower() not in _NOT_FILTERS]
        program, cover_id = self._program(cards)
        reading = self.reading(
            cards, "ShaneAO/ShARCS", "image",
            start=start, end=start + timedelta(seconds=exptime or 0) if start else None,
            exptime=exptime, grism=grism, filters=not_open(*filters),
            aperture=cards.text("APERNAM"), program=program, cover_id=cover_id,
            em=next((FILTER_BANDS[f.lower()] for f in filters if f.lower() in FILTER_BANDS), None),
            field_size=self._field(cards),
        )
        reading.frame_type = self._frame_type(cards, reading, wheels)
        return reading

    @staticmethod
    def _exposure(cards: Cards) -> float | None:
        true_itime, coadds = cards.number("TRUITIME"), cards.number("COADDONE")
        if true_itime is not None and coadds is not None and true_itime >= 0 and coadds >= 0:
            return true_itime * coadds
        itime, requested = cards.number("ITIME"), cards.number("COADDS")
        if itime is not None and itime >= 0:
            return itime / 1000 * (requested or 1)  # ITIME is in milliseconds
        cards.flag(IngestFlag.NO_EXPOSURE_TIME)
        return None

    @staticmethod
    def _start(cards: Cards, where: ArchivePath):
        begin = parse_datetime(cards.text("DATE-BEG"))
        if begin is not None and (where.night is None or on_night(begin, where.night)):
            return begin
        cards.flag(IngestFlag.DATE_BEG_UNUSABLE)
        date_obs = parse_date_and_time(cards.text("DATE-OBS"), cards.text("TIME-OBS"))
        if date_obs is not None and (where.night is None or on_night(date_obs, where.night)):
            cards.flag(IngestFlag.DATE_OBS_USED)
            return date_obs
        if date_obs is not None:
            cards.flag(IngestFlag.STALE_DATE_OBS)
        return None  # the mapping falls back to the directory's date

    @staticmethod
    def _program(cards: Cards) -> tuple[str | None, str | None]:
        """PROGRAM is the real program here; '2019A_S014 [4662]' carries the cover sheet id."""
        program = cards.text("PROGRAM")
        match = _COVER_ID.match(program or "")
        return (match.group(1) or None, match.group(2)) if match else (program, None)

    @staticmethod
    def _field(cards: Cards) -> tuple[float, float] | None:
        naxis1, naxis2 = cards.number("NAXIS1"), cards.number("NAXIS2")
        return (naxis1 * PIXEL, naxis2 * PIXEL) if naxis1 and naxis2 else None

    @staticmethod
    def _frame_type(cards: Cards, reading: Reading, wheels: list[str | None]) -> str:
        if any(w and w.lower() == "blank25" for w in wheels):
            return "dark"  # the blank blocks all light
        if (cards.text("CALYNAM") or "").lower() in ("red light", "argon"):
            return "arc"
        flat_lamps = lamps(cards, "12345")
        if flat_lamps is None:
            cards.flag(IngestFlag.NO_LAMP_CARDS)
        elif any(flat_lamps):
            return "flat"
        if frame_type_from_object(reading.target_name) == "dark" and wheels[1] is not None:
            return "unknown"  # a dark needs the blank filter, and the wheel says it is not in
        return frame_type_from_label(reading.target_name, reading.exptime)
