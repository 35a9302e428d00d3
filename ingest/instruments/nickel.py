"""The Nickel 1-m: the direct camera, the spectrograph and the Villages AO camera.

Headers: ``VERSION='nickel_direct'``, ``'''nickel_spectrograph'`` (sic, 2006-2007) or
``'villages'``; else ``INSTRUME='Nickel Direct Camera'``/``'Nickel Spectrograph'``. There are no
lamp cards: the frame type comes from OBSTYPE (``DARK`` means the shutter stayed closed) and from
what the observer typed in OBJECT.

Filter bands are approximate (Johnson-Cousins UBVRI as on the Nickel direct camera page); the
direct camera's field is 6.3 arcmin across at 0.184 arcsec per unbinned pixel.
"""
from __future__ import annotations

from ingest.flags import IngestFlag
from ingest.instruments.base import (
    Cards, Instrument, Reading, band, band_from_center_width, date_obs_times, exposure,
    frame_type_from_label, frame_type_from_object)
from ingest.nights import ArchivePath

FILTER_BANDS = {
    "U": band(320, 400),
    "B": band(390, 490),
    "V": band(500, 600),
    "R": band(570, 730),
    "I": band(720, 880),
}
#: Direct camera plate scale, degrees per unbinned pixel.
DIRECT_PIXEL = 0.184 / 3600


class Nickel(Instrument):
    telescope = "Nickel"

    def claims(self, cards: Cards, where: ArchivePath) -> bool:
        return self._instrument(cards) is not None

    @staticmethod
    def _instrument(cards: Cards) -> str | None:
        for key in ("VERSION", "INSTRUME"):
            value = (cards.text(key) or "").lower()
            if "villages" in value:
                return "Nickel Villages"
            if "nickel" in value and "direct" in value:
                return "Nickel Direct"
            if "nickel" in value and "spectrograph" in value:
                return "Nickel Spectrograph"
        return None

    def read(self, cards: Cards, where: ArchivePath) -> Reading:
        instrument = self._instrument(cards)
        exptime = exposure(cards, "EXPTIME")
        start, end = date_obs_times(cards, exptime)
        filter_name = cards.text("SCFIL" if instrument == "Nickel Villages" else "FILTNAM")
        reading = self.reading(
            cards, instrument, "spectrum" if instrument == "Nickel Spectrograph" else "image",
            start=start, end=end, exptime=exptime,
            filters=filter_name if (filter_name or "").lower() != "open" else None,
            aperture=cards.text("APERNAM"),
        )
        if instrument == "Nickel Direct":
            reading.filters = reading.filters and reading.filters.upper()
            reading.em = FILTER_BANDS.get(reading.filters or "")
            reading.field_size = _direct_field(cards)
        elif instrument == "Nickel Villages":
            reading.em = band_from_center_width(filter_name)
        else:
            reading.grating = cards.text("GRATING")
            reading.slit = reading.aperture
        reading.frame_type = self._frame_type(cards, reading)
        return reading

    @staticmethod
    def _frame_type(cards: Cards, reading: Reading) -> str:
        obstype = (cards.text("OBSTYPE") or "").upper()
        if obstype == "DARK":  # the observatory's rule: a bias only at exactly 0 s
            return "bias" if not reading.exptime else "dark"
        if not obstype:
            cards.flag(IngestFlag.NO_OBSTYPE)
        named = frame_type_from_object(reading.target_name)
        if named == "bias" and reading.exptime:  # 'bias' with the shutter open for seconds
            return "unknown"
        if named == "dark":  # a dark needs a closed shutter, which OBSTYPE would say
            return "unknown"
        return frame_type_from_label(reading.target_name, reading.exptime)


def _direct_field(cards: Cards) -> tuple[float, float] | None:
    """The direct camera's field from the image size and binning, for headers without a WCS."""
    naxis1, naxis2 = cards.number("NAXIS1"), cards.number("NAXIS2")
    if not naxis1 or not naxis2:
        return None
    binning = cards.number("CBIN") or abs(cards.number("CDELT1U") or cards.number("CDELT1") or 1)
    binning = binning if 1 <= binning <= 8 else 1
    overscan = cards.number("COVER") or 0
    return (naxis1 - overscan) * binning * DIRECT_PIXEL, naxis2 * binning * DIRECT_PIXEL
