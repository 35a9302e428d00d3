"""Observing nights and the archive's directory layout, as the mapping needs them.

A night runs from noon to noon Lick standard time (UTC-8, all year: the archive does not follow
daylight saving time) and is named by the local date at its start. Files live in
``YYYY-MM/DD/<instrument dir>/<file>``, where the date is the night's.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from ingest.layout import FITS_SUFFIXES

LICK_STANDARD_TIME = timezone(timedelta(hours=-8))
_MJD_EPOCH = datetime(1858, 11, 17, tzinfo=timezone.utc)
_LAYOUT = re.compile(r"(?:^|/)(\d{4})-(\d{2})/(\d{2})/([^/]+)/[^/]+$")


@dataclass(frozen=True)
class ArchivePath:
    """Where a file sits in the archive: its night and instrument directory, if the layout holds."""

    rel_path: str
    night: date | None
    directory: str | None  # 'shane', 'nickel', 'AO', 'APF', ...

    @property
    def obs_id(self) -> str:
        """The path without its FITS suffix: ``2019-05/02/shane/b607``."""
        lower = self.rel_path.lower()
        for suffix in FITS_SUFFIXES:
            if lower.endswith(suffix):
                return self.rel_path[:-len(suffix)]
        return self.rel_path

    @classmethod
    def parse(cls, rel_path: str) -> ArchivePath:
        match = _LAYOUT.search(rel_path)
        if not match:
            return cls(rel_path, None, None)
        year, month, day, directory = match.groups()
        try:
            night = date(int(year), int(month), int(day))
        except ValueError:
            return cls(rel_path, None, directory)
        return cls(rel_path, night, directory)


def night_start(night: date) -> datetime:
    """Noon, UTC-8, of the night's date, in UTC: when the night begins."""
    return datetime.combine(night, time(12), LICK_STANDARD_TIME).astimezone(timezone.utc)


def night_of(moment: datetime) -> date:
    """The observing night a UTC moment belongs to."""
    return (moment.astimezone(LICK_STANDARD_TIME) - timedelta(hours=12)).date()


def on_night(moment: datetime, night: date, slack: timedelta = timedelta(hours=2)) -> bool:
    """Whether ``moment`` falls in the night (give or take ``slack`` at either end)."""
    start = night_start(night)
    return start - slack <= moment < start + timedelta(days=1) + slack


def mjd(moment: datetime) -> float:
    """Modified Julian Date of an aware UTC moment (UTC days; leap seconds are ignored)."""
    return (moment - _MJD_EPOCH).total_seconds() / 86400.0
