"""The demo schedule: consistent with the data, the same in CSV and JSON, importable."""
from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from datetime import date, datetime, timezone

import pytest

from archive.demo.generate import DEFAULT_START, DEFAULT_YEARS
from archive.demo.schedule import COLUMNS, build_schedule, semester
from tests.demo.headers import start_time


def _csv_rows(path):
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_csv_and_json_agree(demo):
    rows = _csv_rows(demo.schedule_csv)
    slots = json.loads(demo.schedule_json.read_text())["slots"]
    assert list(rows[0]) == list(COLUMNS)
    assert len(rows) == len(slots) > 1000
    for row, slot in zip(rows, slots):
        assert row == {**slot, "observers": ";".join(slot["observers"])}


def test_nights_with_data_are_scheduled_unless_deliberately_not(demo):
    scheduled = {(r["telescope"], r["night"]) for r in _csv_rows(demo.schedule_csv)}
    for telescope, night in demo.nights:
        assert ((telescope, night.isoformat()) in scheduled) != ((telescope, night) in demo.unscheduled)
    calendar_nights = 3 * 3 * 365
    assert 0.02 < 1 - len(scheduled) / calendar_nights < 0.2  # some nights nobody is scheduled


def test_slot_values(demo):
    rows = _csv_rows(demo.schedule_csv)
    by_night = defaultdict(list)
    release = {}
    for row in rows:
        assert row["telescope"] in ("Shane", "Nickel", "APF")
        night = date.fromisoformat(row["night"])
        assert re.fullmatch(r"20[0-9]{2}[AB]_[SNA][0-9]{3}", row["program_id"])
        assert row["program_id"].startswith(semester(night))
        assert row["title"]
        assert all(re.fullmatch(r"[a-z]+", name) for name in row["observers"].split(";"))
        assert release.setdefault(row["program_id"], row["release_date"]) == row["release_date"]
        by_night[row["telescope"], night].append(row)
    assert any(release.values()) and not all(release.values())
    split = [slots for slots in by_night.values() if len(slots) == 2]
    assert split and all(len(slots) <= 2 for slots in by_night.values())
    for first, second in split:
        start, middle = datetime.fromisoformat(first["starts_at"]), datetime.fromisoformat(first["ends_at"])
        assert middle == datetime.fromisoformat(second["starts_at"]) < datetime.fromisoformat(second["ends_at"])
        assert start.hour == 20 and middle.hour == 8  # noon and midnight, PST
        assert first["program_id"] != second["program_id"]
    whole = [slots[0] for slots in by_night.values() if len(slots) == 1]
    assert all(s["starts_at"] == s["ends_at"] == "" for s in whole)


def test_observer_card_follows_the_slot(demo_headers):
    """OBSERVER is the program's, and changes at midnight on a shared night."""
    schedule = build_schedule(7, DEFAULT_START, date(DEFAULT_START.year + DEFAULT_YEARS, 7, 31))
    telescopes = {"shane": "Shane", "AO": "Shane", "nickel": "Nickel", "APF": "APF"}
    checked, shared = 0, set()
    for path, hdr, _, _ in demo_headers:
        night = date.fromisoformat(f"{path.parts[-4]}-{path.parts[-3]}")
        slots = schedule.slots(telescopes[path.parent.name], night)
        if not slots:
            continue
        moment = start_time(hdr).replace(tzinfo=timezone.utc)
        slot = next(s for s in slots if s.covers(moment))
        assert str(hdr["OBSERVER"]).strip() == slot.program.observer_card, path
        checked += 1
        if len(slots) == 2:
            shared.add(slot.program.program_id)
    assert checked > 500
    assert len(shared) >= 2  # both programs of some shared night have frames


def test_ingest_can_read_it(demo):
    schedule = pytest.importorskip("ingest.schedule")
    for path in (demo.schedule_csv, demo.schedule_json):
        slots = schedule.read_schedule(path)
        assert len(slots) == len(_csv_rows(demo.schedule_csv))
