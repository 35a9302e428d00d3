"""The Hamilton echelle spectrograph at the Shane coudé focus: best effort, from documentation only.

No public Hamilton header was found, so this follows the keyword sets that the XIDL and PypeIt
reductions read: the detector in DSENSOR (``Loral 2Kx2K``, ``e2v CCD203-82 4kx4k thin``), the
decker in PLATENAM (``640:5.0``), the filter in DFILTNAM, the calibration lamp in LAMPPOS
(``Thorium-Argon``, ``PolarQuartz``, ``Off``). A file is claimed when it is in the ``shane``
directory and carries the Hamilton-only PLATENAM or LAMPPOS cards, or says Hamilton outright.
The wavelength coverage depends on the cross-disperser setting and is left NULL.
"""
from __future__ import annotations

from ingest.instruments.base import (
    Cards, Instrument, Reading, dark_or_bias, exposure, frame_type_from_label, newcam_times)
from ingest.nights import ArchivePath


class Hamilton(Instrument):
    telescope = "Shane"

    def claims(self, cards: Cards, where: ArchivePath) -> bool:
        names = " ".join(cards.text(k) or "" for k in ("VERSION", "INSTRUME")).lower()
        if "hamilton" in names or "hamspec" in names:
            return True
        return where.directory == "shane" and (cards.has("PLATENAM") or cards.has("LAMPPOS"))

    def read(self, cards: Cards, where: ArchivePath) -> Reading:
        exptime = exposure(cards, "EXPTIME", "EXPOSURE")
        start, end = newcam_times(cards, exptime)
        decker = cards.text("PLATENAM")
        reading = self.reading(
            cards, "Hamilton", "spectrum", start=start, end=end, exptime=exptime,
            decker=decker, slit=decker, filters=cards.text("DFILTNAM"),
        )
        reading.frame_type = self._frame_type(cards, reading)
        return reading

    @staticmethod
    def _frame_type(cards: Cards, reading: Reading) -> str:
        if (cards.text("OBSTYPE") or "").upper() == "DARK":
            return dark_or_bias(reading.exptime)
        lamp = (cards.text("LAMPPOS") or "").lower()
        if "thorium" in lamp or "argon" in lamp:
            return "arc"
        if "quartz" in lamp:
            return "flat"
        return frame_type_from_label(reading.target_name, reading.exptime)
