"""Shane Kast, the double spectrograph: a blue and a red camera exposing through one slit.

Headers: ``VERSION='kastb'``/``'kastr'`` (NEWCAM, 2008 on); before that ``INSTRUME='KAST'`` and
``SPSIDE='blue'``/``'red'`` with the exposure time in ``EXPOSURE``. Lamps: ``LAMPSTA1-5`` are
the dome (flat-field) lamps, ``LAMPSTAA-K`` the arc lamps; headers before 2018 have none.

Wavelength coverage: the disperser's approximate range (Kast web pages; the red side depends on
the grating tilt, so its whole usable range is given), cut at the dichroic's split. Approximate.
"""
from __future__ import annotations

import re

from ingest.flags import IngestFlag
from ingest.instruments.base import (
    Cards, Instrument, Reading, band, dark_or_bias, exposure, frame_type_from_label,
    date_obs_times, lamps, not_open)
from ingest.nights import ArchivePath

#: Blue grisms, lines/mm / blaze Angstrom -> (shortest, longest) nm.
GRISMS = {
    "452/3306": (320, 560),
    "600/4310": (330, 550),
    "830/3460": (320, 470),
}
#: Red gratings, lines/mm / blaze Angstrom -> the usable first-order range, nm.
GRATINGS = {
    "300/7500": (500, 1100),
    "600/5000": (400, 750),
    "600/7500": (500, 1000),
    "830/8460": (600, 1050),
    "1200/5000": (400, 700),
}
#: The Kast long slit is 145 arcsec long.
SLIT_LENGTH = 145 / 3600
#: Frame-type limits of the observatory's rule, seconds: a bias is at most 1 s, an arc at most 61.
BIAS_LONGEST, ARC_LONGEST = 1.0, 61.0
_DICHROIC = re.compile(r"d(\d{2})", re.IGNORECASE)


class Kast(Instrument):
    telescope = "Shane"

    def claims(self, cards: Cards, where: ArchivePath) -> bool:
        version = (cards.text("VERSION") or "").lower()
        instrume = (cards.text("INSTRUME") or "").upper()
        return version in ("kastb", "kastr") or instrume == "KAST" or (
            not instrume and (cards.text("PROGRAM") or "").upper() == "KAST")

    def read(self, cards: Cards, where: ArchivePath) -> Reading:
        blue = self._is_blue(cards)
        exptime = exposure(cards, "EXPTIME", "EXPOSURE")
        start, end = date_obs_times(cards, exptime)
        dichroic = cards.text("BSPLIT_N")
        grism = cards.text("GRISM_N") if blue else None
        grating = None if blue else cards.text("GRATNG_N")
        side_filter = cards.text("BLFILT_N" if blue else "RDFILT_N")
        reading = self.reading(
            cards, "Kast Blue" if blue else "Kast Red", "spectrum",
            start=start, end=end, exptime=exptime,
            grism=grism, grating=grating, dichroic=dichroic,
            slit=cards.text("SLIT_N"), decker=cards.text("DECKER_N"),
            filters=not_open(cards.text("UPFILT_N"), cards.text("LOFILT_N"), side_filter),
            em=_coverage(blue, grism or grating, dichroic), slit_length=SLIT_LENGTH,
        )
        reading.frame_type = self._frame_type(cards, reading)
        return reading

    @staticmethod
    def _is_blue(cards: Cards) -> bool:
        version = (cards.text("VERSION") or "").lower()
        if version in ("kastb", "kastr"):
            return version == "kastb"
        return (cards.text("SPSIDE") or "").lower() == "blue"

    @staticmethod
    def _frame_type(cards: Cards, reading: Reading) -> str:
        """The observatory's Kast rule (shared/lick_archive_notes.md, Kast), in its order.

        A closed-shutter frame (OBSTYPE DARK) is a bias or dark whatever else is said. Without
        lamp cards, OBJECT decides. With them: at most 1 s is a bias (checked before the lamps:
        the lamps are often left on for a bias); a flat lamp on is a flat; an arc lamp on is an
        arc if at most 61 s long; every lamp off is science; anything else (an arc lamp on for
        longer than an arc takes) is unknown.
        """
        if (cards.text("OBSTYPE") or "").upper() == "DARK":
            return dark_or_bias(reading.exptime)
        flat_lamps, arc_lamps = lamps(cards, "12345"), lamps(cards, "ABCDEFGHIJK")
        if flat_lamps is None and arc_lamps is None:
            cards.flag(IngestFlag.NO_LAMP_CARDS)
            return frame_type_from_label(reading.target_name, reading.exptime)
        exptime = reading.exptime
        if exptime is not None and exptime <= BIAS_LONGEST:
            return "bias"
        if any(flat_lamps or ()):
            return "flat"
        if any(arc_lamps or ()):
            return "arc" if exptime is not None and exptime <= ARC_LONGEST else "unknown"
        return "science" if exptime is not None else "unknown"

def _coverage(blue: bool, disperser: str | None, dichroic: str | None) -> tuple[float, float] | None:
    limits = (GRISMS if blue else GRATINGS).get((disperser or "").replace(" ", ""))
    if limits is None:
        return None
    low, high = limits
    match = _DICHROIC.fullmatch(dichroic or "")
    if match:  # d55: the split is at 550 nm
        split = int(match.group(1)) * 10
        low, high = (low, min(high, split)) if blue else (max(low, split), high)
    return band(low, high) if low < high else None
