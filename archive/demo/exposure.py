"""One exposure of a demo night: the record the night's plan (:mod:`archive.demo.night`) makes and
each instrument's header template (:mod:`archive.demo.instruments`) fills its cards from."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta


@dataclass(frozen=True)
class Exposure:
    """One shutter opening; each camera of the setup writes a file for it."""

    night: date
    frame_type: str
    object: str
    start: datetime
    exptime: float
    ra: float
    dec: float
    observer: str
    program_card: str
    target_name: str | None = None
    cards: Mapping[str, object] = field(default_factory=dict)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.exptime)
