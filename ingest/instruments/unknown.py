"""Files no mapping claims: recorded, never dropped, with what any header can tell.

The telescope comes from the archive directory when it names one; the frame is taken to be an
image (most unknown files are guider, sky and test camera frames).
"""
from __future__ import annotations

from ingest.flags import IngestFlag
from ingest.instruments.base import (
    Cards, Instrument, Reading, FACILITIES, dark_or_bias, exposure, frame_type_from_object,
    newcam_times)
from ingest.nights import ArchivePath

DIRECTORY_TELESCOPES = {"shane": "Shane", "ao": "Shane", "nickel": "Nickel", "apf": "APF"}


class Unknown(Instrument):
    def claims(self, cards: Cards, where: ArchivePath) -> bool:
        return True

    def read(self, cards: Cards, where: ArchivePath) -> Reading:
        cards.flag(IngestFlag.UNKNOWN_INSTRUMENT)
        exptime = exposure(cards, "EXPTIME", "EXPOSURE")
        start, end = newcam_times(cards, exptime)
        reading = self.reading(cards, "Unknown", "image", start=start, end=end, exptime=exptime)
        reading.telescope = DIRECTORY_TELESCOPES.get((where.directory or "").lower(), "Unknown")
        reading.facility_name = FACILITIES[reading.telescope]
        if (cards.text("OBSTYPE") or "").upper() == "DARK":
            reading.frame_type = dark_or_bias(exptime)
        else:
            reading.frame_type = frame_type_from_object(reading.target_name) or "unknown"
        return reading
