"""The observing schedule: who was scheduled on which telescope, when.

Imported by an admin from CSV or JSON, one row per slot::

    telescope,night,starts_at,ends_at,program_id,title,observers,release_date
    Shane,2019-05-02,,,2019A_S014,Quasar hosts,jdoe;asmith,2021-06-01

``night`` is the local date at the start of the night; ``starts_at``/``ends_at`` (ISO 8601, UTC
unless an offset is given) narrow a slot to part of the night, empty means the whole night;
``observers`` are user names separated by ``;``; an empty ``release_date`` means the night plus
the default proprietary period.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects.postgresql import insert

from archive.errors import AdminError
from archive.schema import TELESCOPES, program, program_observer, schedule


@dataclass(frozen=True)
class Slot:
    """One scheduled program on one telescope for (part of) one night."""

    telescope: str
    night: date
    program_id: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    title: str | None = None
    observers: tuple[str, ...] = ()
    release_date: date | None = None

    def covers(self, moment: datetime | None) -> bool:
        """Whether the slot includes ``moment``; a whole-night slot, or an unknown moment, always does."""
        if self.starts_at is None or moment is None:
            return True
        return self.starts_at <= moment < self.ends_at


def _datetime(value: str | None, where: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise AdminError(f"{where}: '{value}' is not an ISO 8601 date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _date(value: str | None, where: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise AdminError(f"{where}: '{value}' is not an ISO 8601 date (YYYY-MM-DD)") from None


def parse_slot(record: dict, where: str) -> Slot:
    """One CSV row or JSON object to a Slot, with a clear error naming the row."""
    def text(key: str) -> str:
        value = record.get(key)
        return "" if value is None else str(value).strip()

    telescope = text("telescope")
    if telescope not in TELESCOPES:
        raise AdminError(f"{where}: telescope '{telescope}' is not one of {', '.join(TELESCOPES)}")
    if not text("program_id"):
        raise AdminError(f"{where}: program_id is empty")
    night = _date(text("night"), where)
    if night is None:
        raise AdminError(f"{where}: night is empty")
    starts_at, ends_at = _datetime(text("starts_at"), where), _datetime(text("ends_at"), where)
    if (starts_at is None) != (ends_at is None) or (starts_at and starts_at >= ends_at):
        raise AdminError(f"{where}: starts_at and ends_at must both be empty, or both set with starts_at first")
    observers = record.get("observers") or ()
    if isinstance(observers, str):
        observers = observers.split(";")
    return Slot(
        telescope=telescope, night=night, program_id=text("program_id"),
        starts_at=starts_at, ends_at=ends_at, title=text("title") or None,
        observers=tuple(o.strip() for o in observers if o.strip()),
        release_date=_date(text("release_date"), where),
    )


def read_schedule(path: Path) -> list[Slot]:
    """Slots from a ``.csv`` or ``.json`` file (a list of objects, or ``{"slots": [...]}``)."""
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text())
            records = data.get("slots", data) if isinstance(data, dict) else data
            if not isinstance(records, list):
                raise AdminError(f"{path}: expected a JSON list of slots")
            return [parse_slot(r, f"{path} slot {i + 1}") for i, r in enumerate(records)]
        with path.open(newline="") as f:
            return [parse_slot(r, f"{path} line {i + 2}") for i, r in enumerate(csv.DictReader(f))]
    except OSError as exc:
        raise AdminError(f"cannot read {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, csv.Error, UnicodeDecodeError) as exc:
        raise AdminError(f"{path} is not valid {path.suffix[1:].upper()}: {exc}") from None


def import_schedule(conn: Connection, slots: Iterable[Slot], *, replace: bool = True) -> int:
    """Store the slots; with ``replace``, the nights they cover are replaced as a whole.

    Programs and memberships are upserted, so a later import can move a program's release date.
    """
    slots = list(slots)
    for slot in slots:
        conn.execute(insert(program).values(
            program_id=slot.program_id, title=slot.title, release_date=slot.release_date,
        ).on_conflict_do_update(index_elements=["program_id"], set_={
            "title": slot.title, "release_date": slot.release_date}))
        for observer in slot.observers:
            conn.execute(insert(program_observer).values(
                program_id=slot.program_id, observer=observer).on_conflict_do_nothing())
    if replace:
        for telescope, night in {(s.telescope, s.night) for s in slots}:
            conn.execute(delete(schedule).where(schedule.c.telescope == telescope, schedule.c.night == night))
    if slots:
        conn.execute(schedule.insert(), [
            {"telescope": s.telescope, "night": s.night, "starts_at": s.starts_at,
             "ends_at": s.ends_at, "program_id": s.program_id} for s in slots])
    return len(slots)


class Schedule:
    """Read access to the stored schedule, cached per (telescope, night) for bulk ingest."""

    def __init__(self, conn: Connection):
        self._conn = conn
        self._nights: dict[tuple[str, date], list[Slot]] = {}

    def slots(self, telescope: str, night: date) -> list[Slot]:
        key = (telescope, night)
        if key not in self._nights:
            rows = self._conn.execute(
                select(schedule.c.telescope, schedule.c.night, schedule.c.program_id,
                       schedule.c.starts_at, schedule.c.ends_at, program.c.release_date)
                .join(program, program.c.program_id == schedule.c.program_id)
                .where(schedule.c.telescope == telescope, schedule.c.night == night)
                .order_by(schedule.c.program_id)
            )
            self._nights[key] = [
                Slot(telescope=r.telescope, night=r.night, program_id=r.program_id,
                     starts_at=r.starts_at, ends_at=r.ends_at, release_date=r.release_date)
                for r in rows
            ]
        return self._nights[key]

    def programs_at(self, telescope: str, night: date, moment: datetime | None) -> list[Slot]:
        return [s for s in self.slots(telescope, night) if s.covers(moment)]

