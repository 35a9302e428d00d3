"""How many rows of each instrument a caller may see, exactly, from a summary kept at ingest.

``COUNT(*) FROM ivoa.obscore [WHERE instrument_name = '...'] [GROUP BY instrument_name]`` read
every row's index entry through the access rule: 70 ms for one instrument, 420 ms per instrument
at 1,000,000 rows (bench/bench_aggregates.py). ``lick.instrument_counts`` instead counts rows per
(instrument_name, release bucket, grantees), changed by statement-level triggers on
``lick.observation`` in the transaction that writes the rows, as ``lick.holdings`` is
(:mod:`archive.holdings`); :data:`COUNT_FUNCTION` answers from it with the access rule
(:func:`archive.visibility.visible_rule`) applied to each bucket, and the ADQL translator calls it
for that one query shape because the catalogue declares it (:mod:`archive.published`).

Why exact, whatever the caller and the time:

- A bucket is the UTC day of the rows' release moment (``date_bin``, 24 hours from a UTC origin,
  whatever the session's TimeZone), and it keeps the rows' grantees. A bucket
  whose day is over holds only public rows, one whose day has not begun only proprietary rows
  visible exactly to its grantees (and staff): the rule, applied to the bucket's start and
  grantees, gives each of its rows' visibility. Only the bucket of the current day mixes both;
  its rows are counted live from ``lick.observation`` with the rule (index ``observation_release``).
- A row adds to and removes from the bucket of its own release moment, whenever it is written, so
  each row is counted once in the bucket of its current release, and every removed version nets
  to zero: no dependence on when a writer ran (the holdings' ``-infinity`` bucket depends on the
  writer's ``now()``, which a reader's ``now()`` may precede).
- To keep the summary small, rows released more than :data:`FOLD_AFTER` before the write go
  to one bucket ``-infinity`` without grantees. That depends on the writer's clock, but a reader
  whose transaction began less than six days before the writer's sees them released anyway
  (sync and async queries end within hours: ``vo_services.limits``).

The query role cannot read the summary (its buckets tell when which programs' files come out);
it may only call :data:`COUNT_FUNCTION`, which returns counts of the rows it may see, as
``count(*)`` through the published views would (docs/auth.md, threat model).
"""
from __future__ import annotations

from sqlalchemy import Connection, text

from archive.holdings import upsert_deltas
from archive.visibility import visible_rule

FOLD_AFTER = "7 days"
COUNT_FUNCTION = "lick.visible_instrument_counts"
"""``(wanted text) -> TABLE (value text, n bigint)``: per instrument_name (only ``wanted``'s if not
NULL), how many rows the caller may see, instruments with none left out."""

_ORIGIN = "'2000-01-01 00:00+00'::timestamptz"


def _day(moment: str) -> str:
    return f"date_bin('1 day', {moment}, {_ORIGIN})"


_FOLDED = f"r.obs_release_date < now() - interval '{FOLD_AFTER}'"
_BUCKET = (f"CASE WHEN {_FOLDED} THEN '-infinity'::timestamptz "
           f"WHEN isfinite(r.obs_release_date) THEN {_day('r.obs_release_date')} "
           "ELSE r.obs_release_date END")
_GRANTEES = f"CASE WHEN {_FOLDED} THEN '{{}}'::text[] ELSE r.grantees END"
_KEYS = ("instrument_name", "released_at", "grantees")


def _delta(table: str, sign: str) -> str:
    return (f"SELECT r.instrument_name, {_BUCKET} AS bucket, {_GRANTEES} AS grantees_key, "
            f"{sign}1 AS files FROM {table} r")


def _apply(*parts: str) -> str:
    return upsert_deltas("lick.instrument_counts", _KEYS,
                         ("instrument_name", "bucket", "grantees_key", "files"), ("files",), parts)


TRIGGER_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION lick.count_instruments() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, lick AS $$
BEGIN
    -- statement-level, with transition tables: one upsert per statement on lick.observation
    IF TG_OP = 'INSERT' THEN
        {_apply(_delta("new_rows", "+"))};
    ELSIF TG_OP = 'DELETE' THEN
        {_apply(_delta("old_rows", "-"))};
    ELSIF TG_OP = 'UPDATE' THEN
        {_apply(_delta("new_rows", "+"), _delta("old_rows", "-"))};
    ELSE  -- TRUNCATE
        DELETE FROM lick.instrument_counts;
    END IF;
    RETURN NULL;
END $$
"""

_TRIGGERS = {
    "observation_instruments_in": "AFTER INSERT ON lick.observation REFERENCING NEW TABLE AS new_rows",
    "observation_instruments_out": "AFTER DELETE ON lick.observation REFERENCING OLD TABLE AS old_rows",
    "observation_instruments_again": "AFTER UPDATE ON lick.observation "
                                     "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "observation_instruments_none": "AFTER TRUNCATE ON lick.observation",
}
TRIGGERS_SQL = tuple(f"CREATE TRIGGER {name} {when} FOR EACH STATEMENT "
                     "EXECUTE FUNCTION lick.count_instruments()" for name, when in _TRIGGERS.items())
DROP_TRIGGERS_SQL = tuple(f"DROP TRIGGER {name} ON lick.observation" for name in _TRIGGERS)

_TODAY = _day("now()")
COUNT_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {COUNT_FUNCTION}(wanted text) RETURNS TABLE (value text, n bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, lick AS $$
    SELECT counted.key, sum(counted.files)::bigint FROM (
        -- whole days: each bucket public or proprietary throughout; the rule on its start and grantees
        SELECT c.instrument_name, c.files FROM lick.instrument_counts c
        WHERE c.released_at <> {_TODAY} AND (wanted IS NULL OR c.instrument_name = wanted)
          AND {visible_rule("c.released_at", "c.grantees")}
        UNION ALL
        -- the current day, released and not yet: its rows, through the rule
        SELECT o.instrument_name, count(*) FROM lick.observation o
        WHERE o.obs_release_date >= {_TODAY} AND o.obs_release_date < {_TODAY} + interval '24 hours'
          AND (wanted IS NULL OR o.instrument_name = wanted)
          AND {visible_rule("o.obs_release_date", "o.grantees")}
        GROUP BY 1
    ) counted (key, files)
    GROUP BY counted.key HAVING sum(counted.files) > 0
$$
"""

# Only the query role calls it (migration 0016 grants it by the operator's role name).
REVOKE_SQL = f"REVOKE ALL ON FUNCTION {COUNT_FUNCTION}(text) FROM PUBLIC"
DROP_FUNCTIONS_SQL = f"DROP FUNCTION {COUNT_FUNCTION}(text), lick.count_instruments()"

REBUILD_SQL = (
    # Writers wait (SHARE blocks INSERT/UPDATE/DELETE), readers go on with the old summary.
    "LOCK TABLE lick.observation IN SHARE MODE",
    "DELETE FROM lick.instrument_counts",
    f"INSERT INTO lick.instrument_counts ({', '.join(_KEYS)}, files) "
    f"SELECT r.instrument_name, {_BUCKET}, {_GRANTEES}, count(*) FROM lick.observation r GROUP BY 1, 2, 3",
)


def rebuild(conn: Connection) -> int:
    """Recount the summary from the rows (owner role, in the caller's transaction), folding the
    buckets released since into ``-infinity``; returns how many summary rows it has."""
    for statement in REBUILD_SQL:
        conn.execute(text(statement))
    return conn.execute(text("SELECT count(*) FROM lick.instrument_counts")).scalar_one()
