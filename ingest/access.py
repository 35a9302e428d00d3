"""Who may see a file before its release, decided at ingest: the access rules, in one place.

The rules, first match wins:

1. an ``override.access`` file in the night's directory (see :mod:`ingest.overrides`);
2. always-public instruments and file suffixes (all-sky cameras, jpg/mp4 previews);
3. calibration frames: every program scheduled on that telescope that night;
4. otherwise the program(s) scheduled on that telescope at the time of the observation;
5. nobody scheduled: public.

The release date is the program's if set, else the observing night plus the default proprietary
period; with several programs, the latest of their dates, so that no owner's data is released
early. Any error in the rules fails closed: never public, and flagged.
"""
from __future__ import annotations

import calendar
import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from archive.schema import FRAME_TYPES
from ingest.nights import night_start
from ingest.overrides import OverrideError, Overrides
from ingest.schedule import Schedule, Slot

NEVER = datetime(9999, 12, 31, tzinfo=timezone.utc)
#: Calibration frames: every frame type but science and unknown, as the old archive's rule 3 has
#: it (bias, dark, flat, arc, focus). DataLink's #calibration links are these too.
CALIBRATION_FRAMES = frozenset(FRAME_TYPES) - {"science", "unknown"}
DEFAULT_PUBLIC_INSTRUMENTS = frozenset({"All Sky", "SkyCam 2", "APF Cam", "HamCam 1", "HamCam 2", "PF Cam"})
DEFAULT_PUBLIC_SUFFIXES = frozenset({".jpg", ".jpeg", ".mpg", ".mp4"})


@dataclass(frozen=True)
class Grant:
    principal: str  # 'program:<id>' or 'user:<name>'
    reason: str


@dataclass(frozen=True)
class AccessDecision:
    release_date: datetime
    grants: tuple[Grant, ...] = ()
    rule: str = ""
    failed: bool = False  # the rules raised: fail closed

    @property
    def is_public_now(self) -> bool:
        return self.release_date <= datetime.now(timezone.utc)


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later (29 February becomes 28 February)."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


@dataclass(frozen=True)
class AccessPolicy:
    """The configurable parts of the rules."""

    proprietary_years: int = 2
    public_instruments: frozenset[str] = DEFAULT_PUBLIC_INSTRUMENTS
    public_suffixes: frozenset[str] = DEFAULT_PUBLIC_SUFFIXES


@dataclass
class AccessRules:
    """Decides access for one file from its metadata, the schedule and any override rules."""

    schedule: Schedule
    policy: AccessPolicy = field(default_factory=AccessPolicy)
    overrides: Overrides | None = None

    def correct(self, meta):
        """The metadata with an override file's ``obstype`` correction applied, if any."""
        if self.overrides is None:
            return meta
        try:
            line = self.overrides.first(meta.file_path, "obstype")
        except OverrideError:
            return meta  # decide() fails closed on the same error
        return dataclasses.replace(meta, frame_type=line.values[0]) if line else meta

    def decide(self, meta) -> AccessDecision:
        try:
            return self._decide(meta)
        except Exception as exc:  # noqa: BLE001  (fail closed on any surprise)
            return AccessDecision(NEVER, (), f"error in the access rules: {exc}", failed=True)

    def _decide(self, meta) -> AccessDecision:
        night: date = meta.observing_night
        line = self.overrides.first(meta.file_path, "access") if self.overrides else None
        if line is not None:
            return self._override(meta, line.values)
        suffix = "." + meta.file_path.rsplit(".", 1)[-1].lower() if "." in meta.file_path else ""
        if meta.instrument in self.policy.public_instruments or suffix in self.policy.public_suffixes:
            return self.public(night, "rule 2: always-public instrument or file type")
        if meta.frame_type in CALIBRATION_FRAMES:
            slots = self.schedule.slots(meta.telescope, night)
            reason = "rule 3: calibration frame, all programs scheduled that night"
        else:
            slots = self.schedule.programs_at(meta.telescope, night, meta.date_obs)
            reason = "rule 4: program scheduled at the time of the observation"
        if not slots:
            return self.public(night, "rule 5: nobody scheduled")
        return self.proprietary(night, slots, reason)

    def _override(self, meta, values: tuple[str, ...]) -> AccessDecision:
        rule = "rule 1: override file"
        if values == ("public",):
            return self.public(meta.observing_night, rule)
        if values == ("all-observers",):
            slots = self.schedule.slots(meta.telescope, meta.observing_night)
            if not slots:
                return self.public(meta.observing_night, rule + ", nobody scheduled")
            return self.proprietary(meta.observing_night, slots, rule)
        return self.proprietary(meta.observing_night, [], rule, users=values)

    def public(self, night: date, rule: str) -> AccessDecision:
        return AccessDecision(night_start(night), (), rule)

    def proprietary(self, night: date, slots: list[Slot], reason: str,
                    users: tuple[str, ...] = ()) -> AccessDecision:
        default = add_years(night, self.policy.proprietary_years)
        release = max((s.release_date or default) for s in slots) if slots else default
        grants = tuple(dict.fromkeys(
            [Grant(f"program:{s.program_id}", reason) for s in slots]
            + [Grant(f"user:{u}", reason) for u in users]))
        return AccessDecision(night_start(release), grants, reason)
