"""A made-up observing schedule for the demo archive: programs, their observers, their nights.

Proprietary access is decided from the schedule, not from headers, so the demo needs one that
covers its data. It is written at the archive root in the format ``ingest.schedule`` imports,
as ``schedule.csv`` and ``schedule.json``, one row per slot::

    telescope,night,starts_at,ends_at,program_id,title,observers,release_date
    Shane,2023-03-14,,,2023A_S004,Spectra of young supernovae,jdoe;asmith,
    Nickel,2023-03-15,2023-03-15T20:00:00+00:00,2023-03-16T08:00:00+00:00,2023A_N002,...

``night`` is the local date at the start of the night; ``starts_at``/``ends_at`` (UTC, ISO 8601)
are empty for a whole-night slot, or split the night at local midnight (08:00 UTC) when two
programs share it; ``observers`` are user names joined by ``;`` (a list in the JSON); an empty
``release_date`` means the default proprietary period. The JSON file is
``{"slots": [{same keys}, ...]}``. Some nights are left out on purpose: unscheduled.
"""
from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from archive.demo.sky import local_noon

COLUMNS = ("telescope", "night", "starts_at", "ends_at", "program_id", "title", "observers", "release_date")

_FIRST = ("Alex", "Maria", "Jiani", "Minghao", "Naina", "Nick", "Rosa", "Tom", "Elena", "Wei",
          "Priya", "Sam", "Ana", "David", "Keiko", "Luis", "Grace", "Omar", "Ellie", "Ben")
_LAST = ("Doe", "Smith", "Ding", "Yue", "Asaravala", "Yee", "Moore", "Steele", "Wong", "Marchis",
         "Robertson", "Rich", "Browne", "Silverman", "Garcia", "Chen", "Patel", "Kim", "Gates", "Ito")
_TOPICS = ("Spectra of young supernovae", "Type Ia supernova light curves", "AGN reverberation mapping",
           "Nearby galaxy nuclei", "Exoplanet host star imaging", "Radial velocities of nearby stars",
           "Tidal disruption event follow-up", "Globular cluster photometry", "Brown dwarf companions",
           "Quasar host galaxies", "Kilonova candidates", "Variable star monitoring",
           "Search for technosignatures", "Undergraduate training", "Comet photometry")

#: Observing modes a program can ask for, per telescope.
SETUPS_BY_TELESCOPE = {
    "Shane": ("kast", "kast", "kast", "sharcs"),
    "Nickel": ("nickel_direct", "nickel_direct", "nickel_direct", "nickel_spectrograph"),
    "APF": ("apf",),
}
#: Modes that did not always exist: ShaneAO/ShARCS was commissioned in spring 2014, the APF
#: began regular observing in 2013.
_IN_SERVICE = {"sharcs": date(2014, 8, 1), "apf": date(2013, 8, 1)}
_LETTER = {"Shane": "S", "Nickel": "N", "APF": "A"}
_PROGRAMS_PER_SEMESTER = {"Shane": 8, "Nickel": 5, "APF": 3}
#: Share of nights nobody is scheduled on (engineering, shutdowns); data can still appear.
_UNSCHEDULED = {"Shane": 0.05, "Nickel": 0.15, "APF": 0.04}
_SPLIT = 0.12


@dataclass(frozen=True)
class Observer:
    username: str
    full_name: str

    @property
    def last_name(self) -> str:
        return self.full_name.split()[-1]


@dataclass(frozen=True)
class Program:
    program_id: str
    title: str
    telescope: str
    setup: str
    observers: tuple[Observer, ...]
    release_date: date | None
    cover_id: int
    #: What observers typed as OBSERVER; on the APF, the team's account, also the file prefix.
    observer_card: str


@dataclass(frozen=True)
class Slot:
    telescope: str
    night: date
    program: Program
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    def covers(self, moment: datetime) -> bool:
        return self.starts_at is None or self.starts_at <= moment < self.ends_at

    def row(self) -> dict[str, object]:
        return {
            "telescope": self.telescope,
            "night": self.night.isoformat(),
            "starts_at": self.starts_at.isoformat() if self.starts_at else "",
            "ends_at": self.ends_at.isoformat() if self.ends_at else "",
            "program_id": self.program.program_id,
            "title": self.program.title,
            "observers": [o.username for o in self.program.observers],
            "release_date": self.program.release_date.isoformat() if self.program.release_date else "",
        }


def semester(night: date) -> str:
    """Lick semesters: A is February to July, B is August to January (of the next year)."""
    if 2 <= night.month <= 7:
        return f"{night.year}A"
    return f"{night.year if night.month >= 8 else night.year - 1}B"


def setups_in_service(telescope: str, night: date) -> tuple[str, ...]:
    """The observing modes a program on ``telescope`` could use in the semester of ``night``."""
    label = semester(night)
    start = date(int(label[:4]), 2 if label.endswith("A") else 8, 1)
    return tuple(s for s in SETUPS_BY_TELESCOPE[telescope] if _IN_SERVICE.get(s, date.min) <= start)


def _semester_end(label: str) -> date:
    year = int(label[:4])
    return date(year, 7, 31) if label.endswith("A") else date(year + 1, 1, 31)


def _people(rng: random.Random, count: int = 40) -> list[Observer]:
    people: dict[str, Observer] = {}
    while len(people) < count:
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        username = (first[0] + last).lower()
        if username not in people:
            people[username] = Observer(username, f"{first} {last}")
    return list(people.values())


def _program(rng: random.Random, telescope: str, night: date, number: int, people: list[Observer]) -> Program:
    label = semester(night)
    team = tuple(rng.sample(people, rng.choice((1, 1, 2, 2, 3))))
    if telescope == "APF":
        campus = rng.choice(("ucb", "ucsc", "ucla", "ucsd"))
        card = f"{campus}-{''.join(rng.choices('abcdefghijklmnoprstuvwy', k=3))}"
    elif rng.random() < 0.5:
        card = ", ".join(o.last_name for o in team)
    else:
        card = ", ".join(o.full_name for o in team)
    release = None
    if rng.random() < 0.3:  # an explicit release date, earlier or later than the default
        release = _semester_end(label) + timedelta(days=rng.choice((183, 365, 548, 1096)))
    return Program(
        program_id=f"{label}_{_LETTER[telescope]}{number:03d}",
        title=rng.choice(_TOPICS),
        telescope=telescope,
        setup=rng.choice(setups_in_service(telescope, night)),
        observers=team,
        release_date=release,
        cover_id=rng.randrange(3000, 9999),
        observer_card=card,
    )


@dataclass(frozen=True)
class Schedule:
    """All slots of the demo calendar, by (telescope, night)."""

    nights: dict[tuple[str, date], tuple[Slot, ...]]
    first: date
    last: date

    def slots(self, telescope: str, night: date) -> tuple[Slot, ...]:
        """Empty for an unscheduled night."""
        return self.nights.get((telescope, night), ())

    def __iter__(self) -> Iterator[Slot]:
        for key in sorted(self.nights, key=lambda k: (k[1], k[0])):
            yield from self.nights[key]

    def write(self, root: Path) -> tuple[Path, Path]:
        """``schedule.csv`` and ``schedule.json`` at ``root``; an unchanged file is not touched."""
        rows = [slot.row() for slot in self]
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({**row, "observers": ";".join(row["observers"])} for row in rows)
        csv_path, json_path = root / "schedule.csv", root / "schedule.json"
        _write_if_changed(csv_path, text.getvalue())
        _write_if_changed(json_path, json.dumps({"slots": rows}, indent=1) + "\n")
        return csv_path, json_path


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def build_schedule(seed: int, first: date, last: date) -> Schedule:
    """Runs of one to four nights per program, some nights split at midnight, some unscheduled."""
    rng = random.Random(f"schedule:{seed}")
    people = _people(rng)
    nights: dict[tuple[str, date], tuple[Slot, ...]] = {}
    for telescope in SETUPS_BY_TELESCOPE:
        programs: dict[str, list[Program]] = {}
        current: Program | None = None
        left = 0
        night = first
        while night <= last:
            label = semester(night)
            if not setups_in_service(telescope, night):
                night += timedelta(days=1)
                continue
            if label not in programs:
                programs[label] = [_program(rng, telescope, night, i + 1, people)
                                   for i in range(_PROGRAMS_PER_SEMESTER[telescope])]
                left = 0
            pool = programs[label]
            if left == 0 or current not in pool:
                current, left = rng.choice(pool), rng.randint(1, 4) if telescope != "APF" else rng.randint(3, 8)
            left -= 1
            if rng.random() >= _UNSCHEDULED[telescope]:
                nights[telescope, night] = _slots(rng, telescope, night, current, pool)
            night += timedelta(days=1)
    return Schedule(nights, first, last)


def _slots(rng: random.Random, telescope: str, night: date, program: Program,
           pool: list[Program]) -> tuple[Slot, ...]:
    partners = [p for p in pool if p is not program and p.setup == program.setup]
    if not partners or rng.random() >= _SPLIT:
        return (Slot(telescope, night, program),)
    noon = local_noon(night)
    midnight = noon + timedelta(hours=12)
    second = rng.choice(partners)
    return (Slot(telescope, night, program, noon, midnight),
            Slot(telescope, night, second, midnight, noon + timedelta(days=1)))
