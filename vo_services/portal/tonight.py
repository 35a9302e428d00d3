"""Tonight: the frames of an observer's current night, as the watcher brings them in.

The night is the observing night ingest gives a frame (:func:`ingest.nights.night_of`: noon to
noon, Lick standard time). The telescopes are those where one of the observer's programs is
scheduled that night (the schedule import, ``lick.schedule``); staff, and an observer with nothing
scheduled, see the night's frames of every telescope. The rows themselves are read through the
query path as the caller (:func:`vo_services.results.query.run_query` over the published view), so
the access rule decides which frames appear, as everywhere else.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from django.db import connection

from archive.visibility import STAFF_PRINCIPAL
from ingest.nights import night_of
from vo_services.results.query import run_query

#: The most frames the page lists (a long night on every telescope stays below it).
MOST_FRAMES = 300

_COLUMNS = ("SELECT obs_id, date_obs, telescope, instrument, frame_type, target_name, exptime, program "
            "FROM lick.observations WHERE observing_night = %s::timestamp")
_ORDER = " ORDER BY date_obs DESC NULLS LAST, obs_id DESC LIMIT %s"
FRAMES_ON_TELESCOPES = _COLUMNS + " AND telescope = ANY(%s)" + _ORDER
FRAMES_OF_NIGHT = _COLUMNS + _ORDER


@dataclass(frozen=True)
class Frame:
    """A row of the page: a frame of the night that the caller may see."""

    obs_id: str
    date_obs: datetime | None
    telescope: str
    instrument: str
    frame_type: str | None
    target_name: str | None
    exptime: float | None
    program: str | None


@dataclass(frozen=True)
class Tonight:
    night: date
    scheduled: tuple[tuple[str, str], ...]  # (telescope, program_id) of the observer's programs
    frames: tuple[Frame, ...]

    @property
    def version(self) -> str:
        """Changes whenever the list does (a frame added or withdrawn): the page's poll asks
        for the rows only when it differs from the one it shows."""
        newest = self.frames[0].obs_id if self.frames else ""
        return f"{self.night.isoformat()}|{len(self.frames)}|{newest}"


def current_night(now: datetime | None = None) -> date:
    return night_of(now or datetime.now(timezone.utc))


def scheduled(principals: tuple[str, ...], night: date) -> tuple[tuple[str, str], ...]:
    """The (telescope, program) slots of the caller's programs on ``night``. The schedule is the
    archive's own bookkeeping, not a published table: read as the owner, for the caller's
    programs only."""
    programs = [p.removeprefix("program:") for p in principals if p.startswith("program:")]
    if not programs:
        return ()
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT telescope, program_id FROM lick.schedule "
                       "WHERE night = %s AND program_id = ANY(%s) ORDER BY telescope, program_id",
                       [night, programs])
        return tuple(cursor.fetchall())


def tonight(principals: tuple[str, ...], now: datetime | None = None) -> Tonight:
    """The caller's night and its frames that the caller may see, newest first."""
    night = current_night(now)
    slots = scheduled(principals, night)
    if slots and STAFF_PRINCIPAL not in principals:
        rows = run_query(FRAMES_ON_TELESCOPES, (night, sorted({t for t, _ in slots}), MOST_FRAMES), principals)
    else:
        rows = run_query(FRAMES_OF_NIGHT, (night, MOST_FRAMES), principals)
    return Tonight(night, slots, tuple(Frame(*row) for row in rows))
