"""Write the demo archive: FITS files in the real layout plus the schedule that governs them.

The layout is the one the ingest path and the old archive's users know,
``YYYY-MM/DD/<instrument dir>/<file>.fits`` with the night's local date. Everything derives from
the seed through named random streams (per schedule, per night, per file), so a run is byte for
byte repeatable and a second run into the same tree rewrites nothing. Files get the readout time
as their modification time, as they would at the telescope; the access rules look at it.
"""
from __future__ import annotations

import os
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from archive.demo.header import header_bytes, pad_data
from archive.demo.instruments import SETUPS, Camera
from archive.demo.night import Exposure, plan_night
from archive.demo.pixels import frame_data
from archive.demo.schedule import SETUPS_BY_TELESCOPE, Schedule, build_schedule, setups_in_service
from archive.demo.sky import TARGETS, transients

DEFAULT_YEARS = 3


def _latest_calendar_start(today: date, years: int = DEFAULT_YEARS) -> date:
    """The 1 August that makes a ``years``-long calendar end on the last 31 July before today:
    the demo's recent nights are then still in their proprietary period, whatever the date."""
    last_end_year = today.year if today >= date(today.year, 8, 1) else today.year - 1
    return date(last_end_year - years, 8, 1)


DEFAULT_START = _latest_calendar_start(date.today())
DEFAULT_NIGHTS = 30

#: Real-world damage the ingest path repairs; each affected file gets one of them:
#: ``missing_end`` a header without END and no data after it (readable with astropy's
#: ``ignore_missing_end=True``), ``nul_byte`` a NUL inside the OBSERVER string,
#: ``no_coordinates`` no RA/DEC/HA and no celestial CRVALs.
QUIRKS = ("missing_end", "nul_byte", "no_coordinates")
_COORDINATE_CARDS = ("RA", "DEC", "HA", "CRVAL1", "CRVAL2", "CRVAL1S", "CRVAL2S")
#: Of the nights nobody was scheduled on, this share still produces data (engineering, stolen time).
_UNSCHEDULED_USE = 0.25


@dataclass
class DemoSummary:
    """What a run produced, for the admin's report and for tests."""

    root: Path
    counts: dict[str, Counter] = field(default_factory=dict)  # instrument -> frame type -> files
    total_bytes: int = 0
    written: int = 0
    unchanged: int = 0
    nights: list[tuple[str, date]] = field(default_factory=list)  # (telescope, night) with data
    unscheduled: list[tuple[str, date]] = field(default_factory=list)  # of those, not in the schedule
    quirks: dict[str, list[str]] = field(default_factory=dict)  # quirk -> relative paths
    schedule_csv: Path | None = None
    schedule_json: Path | None = None

    @property
    def files(self) -> int:
        return sum(sum(c.values()) for c in self.counts.values())

    def report(self) -> str:
        lines = [f"{self.files} files in {self.root} ({self.total_bytes / 1e6:.1f} MB; "
                 f"{self.written} written, {self.unchanged} unchanged)"]
        for instrument in sorted(self.counts):
            kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.counts[instrument].items()))
            lines.append(f"  {instrument}: {sum(self.counts[instrument].values())} ({kinds})")
        lines.append(f"{len(self.nights)} telescope-nights, {len(self.unscheduled)} of them unscheduled")
        for quirk in QUIRKS + ("corrupt",):
            if self.quirks.get(quirk):
                lines.append(f"  quirk {quirk}: {len(self.quirks[quirk])}")
        lines.append(f"schedule: {self.schedule_csv}, {self.schedule_json}")
        return "\n".join(lines)


@dataclass(frozen=True)
class _Night:
    telescope: str
    night: date
    frames: list[tuple[Exposure, Camera]]
    rng: random.Random
    scheduled: bool


def _calendar_end(start: date, years: int) -> date:
    try:
        return start.replace(year=start.year + years) - timedelta(days=1)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)


def _choose_nights(schedule: Schedule, seed: int, nights: int | None, files: int | None) -> list[_Night]:
    """Telescope-nights drawn at random from the calendar until the size asked for is reached.

    Drawing (rather than taking the first nights) spreads a small demo over all its years.
    """
    targets = TARGETS + transients(seed, schedule.first.year - 1, schedule.last.year)
    candidates = [(telescope, schedule.first + timedelta(days=i))
                  for i in range((schedule.last - schedule.first).days + 1) for telescope in SETUPS_BY_TELESCOPE]
    draw = random.Random(f"nights:{seed}")
    draw.shuffle(candidates)
    chosen: list[_Night] = []
    total = 0
    for telescope, night in candidates:
        if (nights is not None and len(chosen) >= nights) or (files is not None and total >= files):
            break
        slots = schedule.slots(telescope, night)
        if not slots and (draw.random() >= _UNSCHEDULED_USE or not setups_in_service(telescope, night)):
            continue
        rng = random.Random(f"night:{seed}:{telescope}:{night.isoformat()}")
        setup = SETUPS[slots[0].program.setup if slots else rng.choice(setups_in_service(telescope, night))]
        frames = [(exposure, camera) for exposure in plan_night(setup, night, slots, targets, rng)
                  for camera in setup.cameras]
        if files is not None:
            frames = frames[:files - total]
        total += len(frames)
        chosen.append(_Night(telescope, night, frames, rng, bool(slots)))
    return sorted(chosen, key=lambda n: (n.night, n.telescope))


def _file_name(camera: Camera, exposure: Exposure, counters: dict[tuple[str, str], int],
               rng: random.Random) -> tuple[str, int]:
    """Frame numbers run per camera (and, on the APF, per observer prefix) through the night."""
    prefix = exposure.observer if "{prefix}" in camera.file_name else ""
    key = (camera.key, prefix)
    if key not in counters:
        counters[key] = rng.choice(camera.first_numbers)
    number = counters[key]
    counters[key] += 1
    return camera.file_name.format(n=number, prefix=prefix), number


def _write(path: Path, content: bytes, mtime: float) -> bool:
    """Write unless the file already holds exactly these bytes; True if written."""
    if path.exists() and path.stat().st_size == len(content) and path.read_bytes() == content:
        return False
    path.write_bytes(content)
    os.utime(path, (mtime, mtime))
    return True


def generate_demo(
    root: Path,
    *,
    seed: int = 42,
    nights: int | None = None,
    files: int | None = None,
    start: date = DEFAULT_START,
    years: int = DEFAULT_YEARS,
    quirk_rate: float = 0.01,
    corrupt_rate: float = 0.0,
) -> DemoSummary:
    """Write a demo archive under ``root`` and its schedule at ``root``.

    Size it by ``nights`` (telescope-nights with data) or ``files`` (exact count; the last night
    drawn is cut short); with neither, ``DEFAULT_NIGHTS``. The calendar runs from ``start`` for
    ``years``. ``quirk_rate`` is the share of files with a real-world defect the ingest path
    repairs (:data:`QUIRKS`); ``corrupt_rate`` the share cut short so that no reader can open
    them (off by default).

    Running again with the same arguments leaves every file untouched. Other arguments write a
    different archive, and files of the old one that the new one lacks stay: start from an empty
    ``root`` then.
    """
    if nights is None and files is None:
        nights = DEFAULT_NIGHTS
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    schedule = build_schedule(seed, start, _calendar_end(start, years))
    summary = DemoSummary(root)
    summary.schedule_csv, summary.schedule_json = schedule.write(root)
    telescopes = list(SETUPS_BY_TELESCOPE)
    for night in _choose_nights(schedule, seed, nights, files):
        summary.nights.append((night.telescope, night.night))
        if not night.scheduled:
            summary.unscheduled.append((night.telescope, night.night))
        counters: dict[tuple[str, str], int] = {}
        for index, (exposure, camera) in enumerate(night.frames):
            name, number = _file_name(camera, exposure, counters, night.rng)
            relative = f"{night.night:%Y-%m}/{night.night:%d}/{camera.directory}/{name}"
            pixels = np.random.default_rng(
                [seed, night.night.toordinal(), telescopes.index(night.telescope), index])
            content, quirk = _frame_bytes(camera, exposure, number, pixels, quirk_rate, corrupt_rate)
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if _write(path, content, exposure.end.timestamp() + 2):
                summary.written += 1
            else:
                summary.unchanged += 1
            summary.total_bytes += len(content)
            summary.counts.setdefault(camera.name, Counter())[exposure.frame_type] += 1
            if quirk:
                summary.quirks.setdefault(quirk, []).append(relative)
    return summary


def _frame_bytes(camera: Camera, exposure: Exposure, number: int, rng: np.random.Generator,
                 quirk_rate: float, corrupt_rate: float) -> tuple[bytes, str | None]:
    cards = camera.cards(exposure, number)
    quirk = None
    if rng.random() < corrupt_rate:
        quirk = "corrupt"
    elif rng.random() < quirk_rate:
        quirk = QUIRKS[rng.integers(len(QUIRKS))]
    if quirk == "no_coordinates":
        cards.update(dict.fromkeys(_COORDINATE_CARDS))
    elif quirk == "nul_byte":
        cards["OBSERVER"] = f"{exposure.observer}\x00"
    fmt = camera.format(exposure.night)
    header = header_bytes(fmt.template.render(cards), end=quirk != "missing_end")
    data = frame_data(rng, camera.shape, camera.dataproduct, exposure.frame_type, exposure.exptime,
                      fmt.bitpix, fmt.bzero)
    content = header + pad_data(data.tobytes())
    if quirk == "missing_end":
        # Without END no reader can tell where the data would start (astropy's
        # ignore_missing_end takes the rest of the file as header), so, as when the writer
        # died after the header, the file stops there.
        content = header
    elif quirk == "corrupt":
        content = content[:len(header) // 2]
    return content, quirk
