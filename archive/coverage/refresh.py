"""Computing, storing and reading the MOC coverage of the public archive, and when to refresh it.

The coverage is computed in the database, by pgsphere: the ``smoc`` union (``sum``) of the rows'
footprints (``s_region``; the position where a row has none) at :data:`MOC_ORDER`, per ObsCore
collection and for the whole archive in one pass (GROUPING SETS). It runs as the **query role**,
as an **anonymous** caller, through the published view ``ivoa.obscore`` in a read-only
transaction: the access rule of the view decides which rows shape it, exactly as for any user's
query, so a proprietary pointing cannot leak into the public MOC, and there is no second query path
around the rule. The result is stored in ``lick.coverage`` by the ingest role (a table, not a file
under var/: every web worker and host reads the same coverage in one indexed query, a refresh
replaces it in one transaction, and nothing has to be kept on a shared disk).

Refresh is debounced in the database: a change (ingest, withdrawal, a curator's release date)
calls :func:`request_refresh`, which sets ``lick.coverage_refresh.dirty_since`` only if it was
clear and only then sends the refresh task, ``countdown`` seconds later. A thousand files ingested
in a minute thus cost one or two refreshes, not a thousand. The task claims the flag (clears it)
before its snapshot, so a change committed while it computes sets the flag again and sends the
next refresh. Rows also become public by the clock (their release date passes): beat's sweep
(:func:`sweep`) sees those, and re-sends a refresh whose message was lost.
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime

from archive.config import configured_int
from archive.coverage.moc import Moc
from archive.db import engine

log = logging.getLogger(__name__)

#: MOC order of the stored coverage (order-8 cells are 0.23° across: a Nickel or Kast field
#: touches one to four of them).
MOC_ORDER = 8
#: The whole public archive's key in ``lick.coverage``.
ARCHIVE = ""
REFRESH_TASK = "ingest.tasks.refresh_coverage"


def debounce_s() -> int:
    """Seconds between the first change after a refresh and the refresh (``LICK_COVERAGE_DEBOUNCE``)."""
    return configured_int("LICK_COVERAGE_DEBOUNCE", 60)


@dataclass(frozen=True)
class Coverage:
    """One stored coverage: a collection's, or the whole archive's (``collection == ''``)."""

    collection: str
    instrument: str | None
    moc: Moc
    public_rows: int
    t_min: float | None
    t_max: float | None
    em_min: float | None
    em_max: float | None
    digest: str
    refreshed_at: datetime | None = None


# As an anonymous caller (empty principals) through the published view: the view's access rule
# picks the rows. pgsphere's sum(smoc) copies its whole running union at each row, so one flat
# sum over n rows costs O(n x MOC size) (67 s for 14,000 rows): the union is taken as a tree
# instead, grouped by the HEALPix cell of each row's position at order 6, then 4, 2 and 0, so
# that every sum adds small MOCs of one neighbourhood (0.2 s for the same rows). A row per
# collection, and the whole archive (obs_collection NULL) as the union of the collections.
def _level(source: str) -> str:
    return (f"SELECT c, k >> 4 AS k, min(i) AS i, sum(n)::bigint AS n, sum(m) AS m, min(t0) AS t0, max(t1) AS t1, "
            f"min(e0) AS e0, max(e1) AS e1 FROM {source} GROUP BY 1, 2")


COVERAGE_SQL = f"""
WITH leaf AS (
    SELECT obs_collection AS c, healpix_nest(6, pos) AS k, min(instrument_name) AS i, count(*) AS n,
           sum(CASE WHEN s_region IS NOT NULL THEN smoc(%(order)s, s_region) ELSE smoc(%(order)s, pos) END) AS m,
           min(t_min) AS t0, max(t_max) AS t1, min(em_min) AS e0, max(em_max) AS e1
    FROM ivoa.obscore
    WHERE obs_collection IS NOT NULL AND (s_region IS NOT NULL OR pos IS NOT NULL)
    GROUP BY 1, 2),
order4 AS ({_level("leaf")}),
order2 AS ({_level("order4")}),
order0 AS ({_level("order2")}),
collections AS (
    SELECT c, min(i) AS i, sum(n)::bigint AS n, sum(m) AS m, min(t0) AS t0, max(t1) AS t1, min(e0) AS e0, max(e1) AS e1
    FROM order0 GROUP BY c)
SELECT c, i, n, m::text, t0, t1, e0, e1 FROM collections
UNION ALL
SELECT NULL, NULL, coalesce(sum(n), 0)::bigint, sum(m)::text, min(t0), max(t1), min(e0), max(e1) FROM collections
"""


def compute(order: int = MOC_ORDER) -> tuple[list[Coverage], datetime]:
    """Every public coverage now, and the time of the snapshot it was computed from."""
    conn = engine("query").raw_connection()
    try:
        with conn.cursor() as cur:
            cur.execute("SET TRANSACTION READ ONLY")
            # The MOC text form is a session setting of pgsphere: set it on this connection each time.
            cur.execute("SELECT set_smoc_output_type(0), set_config('lick.principals', '', true), "
                        "set_config('statement_timeout', '0', true), transaction_timestamp()")
            snapshot = cur.fetchone()[3]
            cur.execute(COVERAGE_SQL, {"order": order})
            rows = cur.fetchall()
        conn.rollback()
    finally:
        conn.close()
    found = []
    for collection, instrument, count, moc_text, t_min, t_max, em_min, em_max in rows:
        moc = Moc.from_ascii(moc_text or "", order)
        key = ARCHIVE if collection is None else collection
        found.append(Coverage(key, None if collection is None else instrument, moc, count,
                              t_min, t_max, em_min, em_max, _digest(moc, t_min, t_max, em_min, em_max)))
    if not any(c.collection == ARCHIVE for c in found):  # no public row at all
        empty = Moc.empty(order)
        found.append(Coverage(ARCHIVE, None, empty, 0, None, None, None, None,
                              _digest(empty, None, None, None, None)))
    return found, snapshot


def _digest(moc: Moc, *stats: float | None) -> str:
    return hashlib.sha256(f"{moc.to_ascii()}|{stats!r}".encode()).hexdigest()


def store(found: list[Coverage], snapshot: datetime, sky_png: bytes) -> bool:
    """Replace the stored coverage with ``found`` in one transaction (ingest role). A row whose
    content did not change keeps its digest and time, so clients' cached copies stay valid.
    Two refreshes may run at once (an ingest's and the sweep's): the one whose snapshot is older
    than the stored one's stores nothing (False), so a slow refresh never undoes a newer one."""
    with engine("ingest").begin() as conn:
        cur = conn.connection.cursor()
        cur.execute("SELECT refreshed_at FROM lick.coverage_refresh FOR UPDATE")
        (stored_snapshot,) = cur.fetchone()
        if stored_snapshot is not None and stored_snapshot > snapshot:
            return False
        cur.execute("DELETE FROM lick.coverage WHERE NOT (collection = ANY(%s))",
                    ([c.collection for c in found],))
        for c in found:
            cur.execute(
                """INSERT INTO lick.coverage AS old (collection, instrument, moc_order, moc, public_rows,
                       t_min, t_max, em_min, em_max, sky_png, digest, refreshed_at)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                   ON CONFLICT (collection) DO UPDATE SET instrument = EXCLUDED.instrument,
                       moc_order = EXCLUDED.moc_order, moc = EXCLUDED.moc, public_rows = EXCLUDED.public_rows,
                       t_min = EXCLUDED.t_min, t_max = EXCLUDED.t_max, em_min = EXCLUDED.em_min,
                       em_max = EXCLUDED.em_max, sky_png = EXCLUDED.sky_png, digest = EXCLUDED.digest,
                       refreshed_at = EXCLUDED.refreshed_at
                   WHERE old.digest IS DISTINCT FROM EXCLUDED.digest OR old.public_rows <> EXCLUDED.public_rows""",
                (c.collection, c.instrument, c.moc.order, c.moc.to_ascii(), c.public_rows, c.t_min, c.t_max,
                 c.em_min, c.em_max, sky_png if c.collection == ARCHIVE else None, c.digest, snapshot))
        cur.execute("UPDATE lick.coverage_refresh SET refreshed_at = %s", (snapshot,))
    return True


@dataclass(frozen=True)
class RefreshReport:
    collections: int
    public_rows: int
    cells: int
    compute_s: float
    picture_s: float

    def summary(self) -> str:
        return (f"coverage of {self.collections} collections, {self.public_rows} public rows, "
                f"{self.cells} order-{MOC_ORDER} cells: computed in {self.compute_s:.2f} s, "
                f"picture in {self.picture_s:.2f} s")


def refresh() -> RefreshReport:
    """Compute, draw and store the coverage now (the task's work; also ``lick-admin``/tests)."""
    from archive.coverage.skymap import render

    claimed = _claim()
    try:
        started = time.monotonic()
        found, snapshot = compute()
        computed = time.monotonic()
        whole = next(c for c in found if c.collection == ARCHIVE)
        picture = render(whole.moc)
        drawn = time.monotonic()
        store(found, snapshot, picture)
    except BaseException:
        if claimed is not None:  # the change is not in the coverage yet: leave the flag for the sweep
            _mark_dirty(claimed)
        raise
    return RefreshReport(sum(c.collection != ARCHIVE for c in found), whole.public_rows, len(whole.moc.cells),
                         computed - started, drawn - computed)


def _claim() -> datetime | None:
    """Clear the flag before the snapshot is taken (a later change sets it again)."""
    with engine("ingest").begin() as conn:
        row = conn.exec_driver_sql(
            "UPDATE lick.coverage_refresh r SET dirty_since = NULL FROM lick.coverage_refresh old "
            "WHERE r.id AND old.id AND r.dirty_since IS NOT NULL RETURNING old.dirty_since").first()
    return row[0] if row else None


def _mark_dirty(since: datetime | None = None) -> bool:
    """Set the flag if it is clear; True when this call set it (its caller sends the task)."""
    with engine("ingest").begin() as conn:
        row = conn.exec_driver_sql(
            "UPDATE lick.coverage_refresh SET dirty_since = coalesce(%(since)s, now()) "
            "WHERE dirty_since IS NULL RETURNING 1", {"since": since}).first()
    return row is not None


def _send(countdown: float) -> bool:
    from archive.broker import app

    try:
        app.send_task(REFRESH_TASK, countdown=countdown)
        return True
    except Exception as exc:  # the broker is down: beat's sweep sends it once the flag is old
        log.warning("could not send the coverage refresh (%s); the sweep will", exc)
        return False


def request_refresh() -> bool:
    """The public rows may have changed: refresh the coverage within :func:`debounce_s` seconds.
    Only the first request after a refresh sends the task; True if this one did."""
    return _mark_dirty() and _send(debounce_s())


RELEASED_SINCE_SQL = """
SELECT r.dirty_since IS NOT NULL AND r.dirty_since < now() - make_interval(secs => %(overdue)s),
       r.dirty_since IS NULL AND (r.refreshed_at IS NULL OR EXISTS (
           SELECT 1 FROM lick.observation o
           WHERE o.obs_release_date > r.refreshed_at AND o.obs_release_date <= now()))
FROM lick.coverage_refresh r
"""


def sweep() -> str:
    """Beat's check: rows that became public by their release date, a coverage never computed, or
    a refresh that is overdue (its message lost, its task failed) -> send the refresh."""
    with engine("ingest").connect() as conn:
        row = conn.exec_driver_sql(RELEASED_SINCE_SQL, {"overdue": 2 * debounce_s() + 60}).first()
    if row is None:
        return "no refresh state"
    overdue, released = row
    if released and _mark_dirty():
        _send(0)
        return "rows were released (or never computed): refresh sent"
    if overdue:
        _send(0)
        return "overdue refresh sent again"
    return "coverage current"


# Reading, for the services: plain SQL on the caller's DB-API cursor (Django's, in the web).
STORED_SQL = """
SELECT collection, instrument, moc_order, moc, public_rows, t_min, t_max, em_min, em_max, digest, refreshed_at
FROM lick.coverage WHERE collection = %s
"""
COLLECTIONS_SQL = """
SELECT collection, instrument, moc_order, moc, public_rows, t_min, t_max, em_min, em_max, digest, refreshed_at
FROM lick.coverage WHERE collection <> '' ORDER BY collection
"""


VERSION_SQL = "SELECT digest, refreshed_at FROM lick.coverage WHERE collection = %s"


def stored_version(cursor, collection: str = ARCHIVE) -> tuple[str, datetime] | None:
    """(digest, refreshed_at) of a stored coverage, without reading its MOC; None if none."""
    cursor.execute(VERSION_SQL, (collection,))
    row = cursor.fetchone()
    return (row[0], row[1]) if row else None


TEXT_SQL = "SELECT moc, digest FROM lick.coverage WHERE collection = %s"


def stored_text(cursor, collection: str = ARCHIVE) -> tuple[str, str] | None:
    """(MOC 2.0 ASCII as stored, canonical; digest), without parsing it; None if none."""
    cursor.execute(TEXT_SQL, (collection,))
    row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def _coverage(row) -> Coverage:
    collection, instrument, order, moc, public_rows, t_min, t_max, em_min, em_max, digest, refreshed_at = row
    return Coverage(collection, instrument, Moc.from_ascii(moc, order), public_rows, t_min, t_max,
                    em_min, em_max, digest, refreshed_at)


def stored(cursor, collection: str = ARCHIVE) -> Coverage | None:
    """The stored coverage of ``collection`` ('' the whole archive); None if there is none."""
    cursor.execute(STORED_SQL, (collection,))
    row = cursor.fetchone()
    return _coverage(row) if row else None


def stored_collections(cursor) -> list[Coverage]:
    """Every collection's stored coverage (not the whole archive's), by name."""
    cursor.execute(COLLECTIONS_SQL)
    return [_coverage(row) for row in cursor.fetchall()]


def sky_picture(cursor) -> tuple[bytes, str, datetime] | None:
    """The PNG of the whole archive's coverage, its digest and time; None before the first refresh."""
    cursor.execute("SELECT sky_png, digest, refreshed_at FROM lick.coverage WHERE collection = '' "
                   "AND sky_png IS NOT NULL")
    row = cursor.fetchone()
    return (bytes(row[0]), row[1], row[2]) if row else None
