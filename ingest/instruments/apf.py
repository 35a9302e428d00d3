"""The Automated Planet Finder's Levy echelle spectrograph (directory ``APF``).

Headers: ``VERSION='apf'``. OBJECT labels the frame (``WideFlat``, ``NarrowFlat``, ``ThAr``,
``Iodine``, ``Bias``, ``Dark``) and TOBJECT names the telescope's target (blank on calibrations).
Times: DATE-BEG/DATE-END; 2011 commissioning files have DATE-STA/DATE-END instead.
The decker (DECKRNAM, e.g. ``W (1.00:3.0)``: 1.00 arcsec wide, 3.0 long) is the slit.

Wavelength coverage: the Levy's fixed echelle format, about 374-970 nm (APF web pages).
"""
from __future__ import annotations

import re

from ingest.instruments.base import (
    Cards, Instrument, Reading, band, dark_or_bias, exposure, frame_type_from_label, newcam_times)
from ingest.nights import ArchivePath

COVERAGE = band(374, 970)
_DECKER = re.compile(r"\(\s*\d+(?:\.\d*)?\s*:\s*(\d+(?:\.\d*)?)\s*\)")
_FLAT_LABELS = ("wideflat", "narrowflat", "iodine", "pinhole")  # a pinhole frame traces orders


class APF(Instrument):
    telescope = "APF"

    def claims(self, cards: Cards, where: ArchivePath) -> bool:
        version = (cards.text("VERSION") or "").lower()
        return version == "apf" or (not version and (where.directory or "").upper() == "APF")

    def read(self, cards: Cards, where: ArchivePath) -> Reading:
        exptime = exposure(cards, "EXPTIME")
        start, end = newcam_times(cards, exptime)
        label = cards.text("OBJECT")
        decker = cards.text("DECKRNAM")
        reading = self.reading(
            cards, "APF Levy", "spectrum",
            start=start, end=end, exptime=exptime,
            target_name=cards.text("TOBJECT") or label,
            decker=decker, slit=decker, em=COVERAGE, slit_length=_decker_length(decker),
        )
        reading.frame_type = self._frame_type(cards, label, exptime)
        return reading

    @staticmethod
    def _frame_type(cards: Cards, label: str | None, exptime: float | None) -> str:
        if (cards.text("OBSTYPE") or "").upper() == "DARK":
            return dark_or_bias(exptime)
        lowered = (label or "").lower().replace(" ", "")
        if lowered in _FLAT_LABELS:
            return "flat"
        if any(cards.switch(k) for k in ("THORIUM1", "THORIUM2")):
            return "arc"
        if any(cards.switch(k) for k in ("HALOGEN1", "HALOGEN2")):
            return "flat"
        return frame_type_from_label(label or cards.text("TOBJECT"), exptime)


def _decker_length(decker: str | None) -> float | None:
    match = _DECKER.search(decker or "")
    return float(match.group(1)) / 3600 if match else None
