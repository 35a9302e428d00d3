"""Ingest flags: what was wrong with a file's header and what the ingest did about it.

The flags are stored as one integer in ``lick.observation.ingest_flags``, so each bit's meaning is
fixed forever: add new flags at the end, never renumber or reuse a bit. Bits 1 to 2048 have the
meanings of the old Lick archive's flags of the same value, so rows ingested by either can be
compared.
"""
from __future__ import annotations

import enum


class IngestFlag(enum.IntFlag):
    #: The header has no lamp status cards; the frame type was guessed from OBJECT.
    NO_LAMP_CARDS = 1
    #: DATE-BEG (ShARCS, or any instrument that should have it) is missing or unreadable.
    DATE_BEG_UNUSABLE = 2
    #: ShARCS: the start time came from DATE-OBS + TIME-OBS instead of DATE-BEG.
    DATE_OBS_USED = 4
    #: No usable date card: the time is noon (UTC-8) of the directory's date.
    DATE_FROM_DIRECTORY = 8
    #: No OBJECT card (or a blank one).
    NO_OBJECT = 16
    #: The header has no END card; it was taken to stop at the last card-like record.
    NO_END_CARD = 32
    #: The file does not start with SIMPLE; one was supplied.
    NO_SIMPLE_CARD = 64
    #: Some cards could not be parsed as FITS and were dropped or fixed.
    VERIFY_FIXED = 128
    #: No mapping claims the file: recorded with instrument 'Unknown'.
    UNKNOWN_INSTRUMENT = 256
    #: No usable celestial WCS nor RA/DEC cards: no position.
    NO_COORDINATES = 512
    #: NUL or non-ASCII bytes in the header were replaced by spaces.
    INVALID_CHARACTERS = 1024
    #: No OBSTYPE card where the instrument normally writes one.
    NO_OBSTYPE = 2048
    #: A keyword appears more than once (e.g. two OBSTYPE cards); the first usable value was used.
    REPEATED_CARD = 4096
    #: ShARCS: DATE-BEG was unusable and DATE-OBS, not on the observing night (a stale date
    #: from 2007), was ignored too. (Files with a good DATE-BEG are not flagged: all have it.)
    STALE_DATE_OBS = 8192
    #: DATE-STA/DATE-END were in local time (2006-2012 NEWCAM) and were converted to UTC.
    LOCAL_TIME_CONVERTED = 16384
    #: No usable exposure time.
    NO_EXPOSURE_TIME = 32768
    #: A card value could not be understood (wrong type, impossible value) and was ignored.
    BAD_CARD_VALUE = 65536
    #: The data section is shorter than NAXISn demand: the file is incomplete or still being written.
    DATA_TRUNCATED = 131072

    def names(self) -> list[str]:
        """The names of the set bits, for reports and logs."""
        return [flag.name for flag in type(self) if flag in self and flag.name]
