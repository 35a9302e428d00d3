"""One header mapping per instrument; :data:`INSTRUMENTS` in the order they are asked.

Mappings that recognise a file by its header come first; the ones that also go by the archive
directory (APF without VERSION, ShARCS in ``AO``, Hamilton in ``shane``) after them, so a file in
the wrong directory still finds its instrument. A file nobody claims is read by :data:`UNKNOWN`.
"""
from __future__ import annotations

from ingest.instruments.apf import APF
from ingest.instruments.base import Instrument
from ingest.instruments.hamilton import Hamilton
from ingest.instruments.kast import Kast
from ingest.instruments.nickel import Nickel
from ingest.instruments.sharcs import ShARCS
from ingest.instruments.unknown import Unknown

INSTRUMENTS: tuple[Instrument, ...] = (Kast(), Nickel(), APF(), ShARCS(), Hamilton())
UNKNOWN = Unknown()

__all__ = ["INSTRUMENTS", "UNKNOWN", "Instrument"]
