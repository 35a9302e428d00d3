"""What the archive holds, per telescope, instrument and year: a summary kept by the database.

The front page showed ``count(*)`` over the whole table on every view (0.7–1.2 s at 1,000,000
rows). ``lick.holdings`` instead keeps file and byte counts per (telescope, instrument, year,
release bucket), changed by statement-level triggers on ``lick.observation`` in the very
transaction that writes the rows: ingest (``ingest/store.py``), a curator's re-decision, a
withdrawal, the benchmark's COPY — no writer can forget it, none can commit rows without it.

The release bucket is what keeps the *public* count right as release dates pass without any
ingest: a row still proprietary when written is counted under its release moment; a row already
released under ``-infinity``. Public files are the sum of the buckets whose moment has passed
(``lick.public_holdings``, read at query time with ``now()``). A row removed later subtracts from
the bucket its release falls in *then*; the two buckets may then differ from the rows they hold
one by one, but every sum over buckets already passed stays exact, because a moment that has
passed stays passed. ``rebuild`` (``lick-admin holdings --rebuild``) folds released buckets back
into ``-infinity`` and recounts from the rows.

The query role reads only ``lick.public_holdings`` (a view owned by the owner role): public files
and bytes per (telescope, instrument, year), and how many files are still in their proprietary
period there — a count, never which program, target or night (docs/auth.md, threat model).
"""
from __future__ import annotations

from sqlalchemy import Connection, text

# The bucket a row counts under, in SQL over a row alias ``r``.
_BUCKET = "CASE WHEN r.obs_release_date <= now() THEN '-infinity'::timestamptz ELSE r.obs_release_date END"
_KEY = "r.telescope, r.instrument, extract(year FROM r.observing_night)::int"


def _delta(table: str, sign: str) -> str:
    return (f"SELECT {_KEY} AS year_key, {_BUCKET} AS bucket, {sign}1 AS files, {sign}r.file_size AS bytes "
            f"FROM {table} r")


def upsert_deltas(table: str, keys: tuple[str, ...], selected: tuple[str, ...],
                  counters: tuple[str, ...], parts: tuple[str, ...]) -> str:
    """One upsert into ``table`` adding the signed rows of ``parts`` (their columns ``selected``:
    the keys, then the counters); keys in a fixed order, so that two concurrent writers lock the
    same summary rows in the same order (no deadlock). Shared by every summary kept by triggers."""
    union = " UNION ALL ".join(parts)
    positions = ", ".join(str(i + 1) for i in range(len(keys)))
    sums = ", ".join(f"sum({c})" for c in selected[len(keys):])
    return (
        f"INSERT INTO {table} AS h ({', '.join(keys + counters)}) "
        f"SELECT {', '.join(selected[:len(keys)])}, {sums} FROM ({union}) d "
        f"GROUP BY {positions} HAVING {' OR '.join(f'{s} <> 0' for s in sums.split(', '))} "
        f"ORDER BY {positions} "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE "
        f"SET {', '.join(f'{c} = h.{c} + excluded.{c}' for c in counters)}")


def _apply(*parts: str) -> str:
    return upsert_deltas("lick.holdings", ("telescope", "instrument", "year", "released_at"),
                         ("telescope", "instrument", "year_key", "bucket", "files", "bytes"),
                         ("files", "bytes"), parts)


TRIGGER_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION lick.count_holdings() RETURNS trigger
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
        DELETE FROM lick.holdings;
    END IF;
    RETURN NULL;
END $$
"""

TRIGGERS_SQL = (
    "CREATE TRIGGER observation_counted_in AFTER INSERT ON lick.observation "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lick.count_holdings()",
    "CREATE TRIGGER observation_counted_out AFTER DELETE ON lick.observation "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION lick.count_holdings()",
    "CREATE TRIGGER observation_counted_again AFTER UPDATE ON lick.observation "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION lick.count_holdings()",
    "CREATE TRIGGER observation_counted_none AFTER TRUNCATE ON lick.observation "
    "FOR EACH STATEMENT EXECUTE FUNCTION lick.count_holdings()",
)
DROP_TRIGGERS_SQL = tuple(f"DROP TRIGGER {name} ON lick.observation" for name in (
    "observation_counted_in", "observation_counted_out", "observation_counted_again", "observation_counted_none"))

PUBLIC_VIEW_SQL = """
CREATE OR REPLACE VIEW lick.public_holdings AS
SELECT telescope, instrument, year,
       sum(files) FILTER (WHERE released_at <= now())::bigint AS public_files,
       sum(bytes) FILTER (WHERE released_at <= now())::bigint AS public_bytes,
       sum(files) FILTER (WHERE released_at > now())::bigint AS proprietary_files
FROM lick.holdings GROUP BY telescope, instrument, year
HAVING sum(files) <> 0
"""

# The latest observing night with any file, and its files per instrument (public now or not):
# an index-only scan of observation_night, whatever the caller may see.
LAST_NIGHT_VIEW_SQL = """
CREATE OR REPLACE VIEW lick.last_night AS
SELECT o.observing_night AS night, o.telescope, o.instrument, count(*)::bigint AS files,
       (count(*) FILTER (WHERE o.obs_release_date <= now()))::bigint AS public_files
FROM lick.observation o
WHERE o.observing_night = (SELECT max(observing_night) FROM lick.observation)
GROUP BY o.observing_night, o.telescope, o.instrument
"""

REBUILD_SQL = (
    # Writers wait (SHARE blocks INSERT/UPDATE/DELETE), readers go on with the old summary.
    "LOCK TABLE lick.observation IN SHARE MODE",
    "DELETE FROM lick.holdings",
    "INSERT INTO lick.holdings (telescope, instrument, year, released_at, files, bytes) "
    f"SELECT {_KEY}, {_BUCKET}, count(*), coalesce(sum(r.file_size), 0) FROM lick.observation r "
    "GROUP BY 1, 2, 3, 4",
)


def rebuild(conn: Connection) -> int:
    """Recount the summary from the rows (owner role, in the caller's transaction); returns
    how many summary rows it has."""
    for statement in REBUILD_SQL:
        conn.execute(text(statement))
    return conn.execute(text("SELECT count(*) FROM lick.holdings")).scalar_one()
