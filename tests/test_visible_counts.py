"""COUNT(*) per value of every counted column answered from its summary (archive/visible_counts.py)
equals the count through the access rule, for every caller, after every kind of write and as a
release passes; and only the one query shape is answered that way (vo_services/tap/adql/counts.py)."""
from __future__ import annotations

import dataclasses
import random
import time
from datetime import date, datetime, timedelta, timezone

import psycopg2
import pytest
from psycopg2 import sql

from archive.config import get_settings
from archive.principals import signed_principals
from archive.published import PUBLISHED_TABLES
from archive.visible_counts import COUNTED
from tests.test_schema import DELETE_MINE, _insert_observation
from vo_services.tap.adql import Catalog, translate
from vo_services.tap.catalog import catalog

PROGRAMS = ("program:CNT_A", "program:CNT_B")
INSTRUMENTS = ("Count Alpha", "Count Beta", "Nickel Direct")
CALLERS = {
    "anonymous": [],
    "member of A": ["user:cnt_member", PROGRAMS[0]],
    "member of both": ["user:cnt_both", *PROGRAMS],
    "staff": ["user:cnt_staff", "role:staff"],
    "staff and member of B": ["user:cnt_staff_b", "role:staff", PROGRAMS[1]],  # counted once
}
#: counted column -> (the published table counting it, values the writes give it, ADQL literals
#: compared with it: matching, not matching, and of every shape the translator passes on)
COLUMNS = {
    "instrument_name": ("ivoa.obscore", INSTRUMENTS, ("'Count Alpha'", "'Count Beta'", "'nobody''s'")),
    "observing_night": ("lick.observations", (date(2020, 1, 1), date(2031, 5, 6), date(1999, 12, 31)),
                        ("'2020-01-01'", "'2031-05-06T00:00:00'", "'2020-01-01 12:00'", "'1999-12-31 00:00+05'")),
    "dataproduct_type": ("ivoa.obscore", ("image", "spectrum"), ("'spectrum'", "'image'", "'cube'")),
    "calib_level": ("ivoa.obscore", (0, 1, 2), ("1", "2", "0", "4", "0002")),
}
QUERIES = tuple(
    query
    for column, (table, _, literals) in COLUMNS.items()
    for query in (
        f"SELECT COUNT(*) FROM {table}",
        *(f"SELECT COUNT(*) AS n FROM {table} WHERE {column} = {literal}" for literal in literals),
        f"SELECT COUNT(*) FROM {table} AS t WHERE {literals[0]} = t.{column}",
        f"SELECT {column}, COUNT(*) FROM {table} GROUP BY {column}",
        f"SELECT COUNT(*) AS n, t.{column} FROM {table} AS t WHERE t.{column} = {literals[1]} GROUP BY t.{column}",
    ))
FUNCTIONS = tuple(c.function.split(".")[1] for c in COUNTED)


def test_every_column_is_counted_and_tested():
    declared = {column for table in PUBLISHED_TABLES for column, _ in table.counted_by}
    assert declared == set(COLUMNS) == {c.column for c in COUNTED}


def _live_catalog() -> Catalog:
    """The service's catalogue without its count functions: the normal path, through the view."""
    return Catalog(dataclasses.replace(t, counts=()) for t in catalog())


def _answers(conn, principals: list[str], zone: str = "UTC") -> dict[str, tuple[list, list]]:
    """query -> (summary's rows, the normal path's rows), both in one transaction for ``principals``,
    with the session's TimeZone ``zone`` (the summary's days are UTC days whatever it is)."""
    live = _live_catalog()
    out = {}
    with conn.cursor() as cur:
        cur.execute("SELECT set_config('lick.principals', %s, true), set_config('TimeZone', %s, true)",
                    (signed_principals(principals, conn.get_backend_pid()), zone))
        for query in QUERIES:
            answered = translate(query, catalog(), maxrec=1000).sql
            assert any(f in answered for f in FUNCTIONS), f"a summary must answer this shape: {query}"
            results = []
            for statement in (answered, translate(query, live, maxrec=1000).sql):
                cur.execute(statement)  # the values and their SQL types, as the encoders get them
                results.append((sorted(cur.fetchall()), [d.type_code for d in cur.description]))
            out[query] = tuple(results)
    conn.rollback()
    return out


def _assert_exact(conn, when: str) -> None:
    for caller, principals in CALLERS.items():
        for zone in ("UTC", "Pacific/Chatham"):  # UTC+13:45: no UTC day boundary in common
            for query, (summary, live) in _answers(conn, principals, zone).items():
                assert summary == live, f"{when}, {caller}, TimeZone {zone}: {query}"


@pytest.fixture
def counting(archive_db, owner_conn):
    """The owner's connection, with the test's programs; its rows removed afterwards."""
    with owner_conn.cursor() as cur:
        cur.execute("INSERT INTO lick.program (program_id) VALUES ('CNT_A'), ('CNT_B')")
    owner_conn.commit()
    query = psycopg2.connect(get_settings().dsn("query"))
    yield owner_conn, query
    query.close()
    owner_conn.rollback()
    with owner_conn.cursor() as cur:
        cur.execute(DELETE_MINE + "; DELETE FROM lick.program WHERE program_id IN ('CNT_A', 'CNT_B')")
    owner_conn.commit()


def _release(rng: random.Random) -> datetime:
    """Moments around every bucket boundary the summary knows: folded, past days, today, future."""
    now = datetime.now(timezone.utc)
    return now + rng.choice([timedelta(days=-400), timedelta(days=-8), timedelta(days=-3),
                             timedelta(days=-1), timedelta(minutes=-1), timedelta(minutes=1),
                             timedelta(hours=30), timedelta(days=3), timedelta(days=400)])


def _set(cur, column: str, value, rows: list[int]) -> None:
    cur.execute(sql.SQL("UPDATE lick.observation SET {} = %s WHERE id = ANY(%s)").format(sql.Identifier(column)),
                (value, rows))


def _write(cur, rng: random.Random, ids: list[int], step: int) -> str:
    """One random write of the kinds ingest, curation and withdrawal make; what it did."""
    kind = rng.choice(["insert", "insert", "grant", "revoke", "release", "value", "value", "delete", "many"])
    if kind == "insert" or not ids:
        row = _insert_observation(cur.connection, f"2020-01/01/count/{step}", _release(rng))
        for column, (_, values, _) in COLUMNS.items():
            _set(cur, column, rng.choice(values), [row])
        ids.append(row)
        return "insert"
    row = rng.choice(ids)
    if kind == "grant":
        cur.execute("INSERT INTO lick.access_grant VALUES (%s, %s, 'test') ON CONFLICT DO NOTHING",
                    (row, rng.choice(PROGRAMS)))
    elif kind == "revoke":
        cur.execute("DELETE FROM lick.access_grant WHERE observation_id = %s", (row,))
    elif kind == "release":
        cur.execute("UPDATE lick.observation SET obs_release_date = %s WHERE id = %s", (_release(rng), row))
    elif kind == "value":  # a curator's correction of one counted column
        column = rng.choice(list(COLUMNS))
        _set(cur, column, rng.choice(COLUMNS[column][1]), rng.sample(ids, min(2, len(ids))))
        kind = f"{column} set"
    elif kind == "delete":
        cur.execute("DELETE FROM lick.observation WHERE id = %s", (row,))
        ids.remove(row)
    else:  # one statement over several rows, as a curator's re-decision is
        cur.execute("UPDATE lick.observation SET obs_release_date = %s WHERE id = ANY(%s)",
                    (_release(rng), rng.sample(ids, min(3, len(ids)))))
    return kind


def test_the_summary_counts_what_the_rule_lets_each_caller_see(counting):
    owner, query = counting
    rng = random.Random(18)
    ids: list[int] = []
    for step in range(60):
        with owner.cursor() as cur:
            kind = _write(cur, rng, ids, step)
        owner.commit()
        _assert_exact(query, f"after step {step} ({kind})")


def test_a_release_passing_moves_rows_to_the_public_count(counting):
    owner, query = counting
    soon = _insert_observation(owner, "2020-01/01/count/soon", datetime.now(timezone.utc))
    with owner.cursor() as cur:
        cur.execute("UPDATE lick.observation SET obs_release_date = clock_timestamp() + interval '2 s', "
                    "instrument_name = 'Count Alpha' WHERE id = %s", (soon,))
        cur.execute("INSERT INTO lick.access_grant VALUES (%s, %s, 'test')", (soon, PROGRAMS[0]))
    owner.commit()

    def anonymous_count() -> int:
        with query.cursor() as cur:
            cur.execute(translate("SELECT COUNT(*) FROM ivoa.obscore WHERE instrument_name = 'Count Alpha'",
                                  catalog()).sql)
            n = cur.fetchone()[0]
        query.rollback()
        return n

    before = anonymous_count()
    _assert_exact(query, "before the release")
    time.sleep(2.5)
    assert anonymous_count() == before + 1
    _assert_exact(query, "after the release")
    # released a week and more ago: folded into the summary's -infinity bucket when written again
    with owner.cursor() as cur:
        cur.execute("UPDATE lick.observation SET obs_release_date = now() - interval '9 days' WHERE id = %s", (soon,))
    owner.commit()
    _assert_exact(query, "folded")


def test_the_recount_rebuilds_every_summary(counting):
    """``lick-admin holdings --rebuild`` recounts each summary from the rows: emptied, they count
    exactly again."""
    from archive import visible_counts
    from archive.db import engine

    owner, query = counting
    rng = random.Random(7)
    ids: list[int] = []
    with owner.cursor() as cur:
        for step in range(8):
            _write(cur, rng, ids, step)
        for counted in COUNTED:
            cur.execute(sql.SQL("DELETE FROM lick.{}").format(sql.Identifier(counted.summary)))
    owner.commit()
    with engine("owner").begin() as conn:
        rows = visible_counts.rebuild(conn)
    assert set(rows) == {c.summary for c in COUNTED} and all(rows.values())
    _assert_exact(query, "rebuilt")


HIDDEN = {"instrument_name": "Count Hidden", "observing_night": date(1901, 1, 1),
          "dataproduct_type": "spectrum", "calib_level": 4}


@pytest.mark.parametrize("counted", COUNTED, ids=lambda c: c.column)
def test_the_query_role_may_call_the_count_but_not_read_the_summary(counting, counted):
    owner, query = counting
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        with query.cursor() as cur:
            cur.execute(sql.SQL("SELECT * FROM lick.{} LIMIT 1").format(sql.Identifier(counted.summary)))
    query.rollback()
    hidden = _insert_observation(owner, "2020-01/01/count/hidden", datetime.now(timezone.utc) + timedelta(days=9))
    with owner.cursor() as cur:
        _set(cur, counted.column, HIDDEN[counted.column], [hidden])
    owner.commit()
    wanted = HIDDEN[counted.column]
    with query.cursor() as cur:  # what the anonymous caller sees of that value, through the view
        table = COLUMNS[counted.column][0]
        literal = wanted if isinstance(wanted, int) else f"'{wanted}'"
        cur.execute(translate(f"SELECT COUNT(*) FROM {table} WHERE {counted.column} = {literal}", _live_catalog()).sql)
        visible = cur.fetchone()[0]
    query.rollback()
    with query.cursor() as cur:  # even called directly, with a forged setting: nothing hidden
        cur.execute("SELECT set_config('lick.principals', '{role:staff}', true)")
        cur.execute(sql.SQL("SELECT coalesce(sum(n), 0) FROM {}(%s)").format(
            sql.Identifier(*counted.function.split("."))), (wanted,))
        assert cur.fetchone()[0] == visible
    query.rollback()


def test_the_summaries_grantee_indexes_keep_no_pending_list(owner_conn):
    """Every ingest changes the summaries; with GIN's pending list a member's count read the
    whole list until the next vacuum (30 ms instead of 2 ms at 1,000,000 rows)."""
    with owner_conn.cursor() as cur:
        cur.execute("SELECT c.relname, c.reloptions FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'gin' AND i.indrelid = ANY (%s::regclass[])",
                    ([f"lick.{c.summary}" for c in COUNTED],))
        found = dict(cur.fetchall())
    assert set(found) == {f"{c.summary}_grantees" for c in COUNTED}
    assert all(options == ["fastupdate=off"] for options in found.values()), found


@pytest.mark.parametrize("counted", COUNTED, ids=lambda c: c.column)
def test_the_answer_has_the_views_type_and_no_null_group_is_lost(owner_conn, counted):
    """The function's value is the view's column, of its PostgreSQL type (so VOTable and CSV write
    it as the normal path does), and the base column can hold no NULL the summary could not."""
    for table in PUBLISHED_TABLES:
        for column, declared in table.counted_by:
            if declared is counted:
                expr = next(c.expr for c in table.columns if c.name == column)
                assert expr == counted.value(f"o.{counted.column}")
                with owner_conn.cursor() as cur:
                    cur.execute("SELECT a.atttypid = %s::regtype, f.prorettype IS NOT NULL, b.attnotnull "
                                "FROM pg_attribute a, pg_attribute b, pg_proc f "
                                "WHERE a.attrelid = %s::regclass AND a.attname = %s "
                                "AND b.attrelid = 'lick.observation'::regclass AND b.attname = %s "
                                "AND f.oid = %s::regprocedure",
                                (counted.published_type, table.qualified_name, column, counted.column,
                                 counted.signature))
                    assert cur.fetchone() == (True, True, True)
                    cur.execute("SELECT format_type(t, NULL) FROM pg_proc f, unnest(f.proallargtypes) t "
                                "WHERE f.oid = %s::regprocedure",
                                (counted.signature,))
                    assert {r[0] for r in cur.fetchall()} == {
                        _type_name(owner_conn, counted.published_type), "bigint"}
    owner_conn.rollback()


def _type_name(conn, name: str) -> str:
    with conn.cursor() as cur:
        cur.execute("SELECT format_type(%s::regtype, NULL)", (name,))
        return cur.fetchone()[0]


ANSWERED = (
    "SELECT COUNT(*) FROM ivoa.obscore",
    "select count(*) from IVOA.ObsCore where Instrument_Name = 'Kast Red'",
    "SELECT instrument_name AS i, COUNT(*) AS n, COUNT(*) AS m FROM ivoa.obscore GROUP BY instrument_name",
    "SELECT COUNT(*) FROM lick.observations",
    "SELECT observing_night, COUNT(*) FROM lick.observations GROUP BY observing_night",
    "SELECT COUNT(*) FROM lick.observations WHERE observing_night = '2020-01-01'",
    "SELECT dataproduct_type, COUNT(*) FROM ivoa.obscore GROUP BY dataproduct_type",
    "SELECT COUNT(*) FROM ivoa.obscore WHERE dataproduct_type = 'spectrum'",
    "SELECT calib_level, COUNT(*) FROM ivoa.obscore GROUP BY calib_level",
    "SELECT COUNT(*) FROM ivoa.obscore WHERE 2 = calib_level",
    "SELECT COUNT(*) FROM ivoa.obscore WHERE calib_level = 2147483647",
)
NOT_ANSWERED = (
    "SELECT COUNT(*) FROM ivoa.obscore WHERE instrument_name = 'Kast Red' AND calib_level = 1",
    "SELECT COUNT(*) FROM ivoa.obscore WHERE instrument_name <> 'Kast Red'",
    "SELECT COUNT(*) FROM ivoa.obscore WHERE instrument_name LIKE 'Kast%'",
    "SELECT COUNT(*) FROM ivoa.obscore WHERE obs_id = 'Kast Red'",
    "SELECT COUNT(*) FROM ivoa.obscore WHERE instrument_name = obs_id",
    "SELECT COUNT(*) FROM ivoa.obscore WHERE instrument_name IS NULL",
    "SELECT COUNT(instrument_name) FROM ivoa.obscore",
    "SELECT COUNT(DISTINCT instrument_name) FROM ivoa.obscore",
    "SELECT COUNT(*), MAX(t_min) FROM ivoa.obscore",
    "SELECT COUNT(*) + 1 FROM ivoa.obscore",
    "SELECT TOP 1 COUNT(*) FROM ivoa.obscore",
    "SELECT DISTINCT COUNT(*) FROM ivoa.obscore",
    "SELECT COUNT(*) FROM ivoa.obscore ORDER BY 1",
    "SELECT COUNT(*) FROM ivoa.obscore OFFSET 1",
    "SELECT instrument_name, COUNT(*) FROM ivoa.obscore GROUP BY instrument_name HAVING COUNT(*) > 1",
    "SELECT instrument_name, COUNT(*) FROM ivoa.obscore GROUP BY instrument_name ORDER BY 2",
    "SELECT dataproduct_type, COUNT(*) FROM lick.observations GROUP BY dataproduct_type",
    "SELECT instrument_name AS i, COUNT(*) FROM ivoa.obscore GROUP BY i",
    "SELECT COUNT(*) FROM ivoa.obscore WHERE calib_level = 2.0",
    "SELECT COUNT(*) FROM ivoa.obscore WHERE calib_level = 2.5",
    "SELECT COUNT(*) FROM ivoa.obscore WHERE calib_level = 2E0",
    "SELECT COUNT(*) FROM ivoa.obscore WHERE calib_level = -2",
    "SELECT COUNT(*) FROM ivoa.obscore WHERE calib_level = 0x2",
    "SELECT COUNT(*) FROM ivoa.obscore WHERE calib_level = 2147483648",
    "SELECT COUNT(*) FROM ivoa.obscore WHERE calib_level = 1 + 1",
    "SELECT COUNT(*) FROM ivoa.obscore WHERE dataproduct_type = 'image' GROUP BY calib_level",
    "SELECT COUNT(*) FROM lick.observations WHERE observing_night >= '2020-01-01'",
    "SELECT COUNT(*) FROM lick.observations WHERE observing_night = obs_release_date",
    "SELECT observing_night, COUNT(*) FROM lick.observations GROUP BY observing_night ORDER BY 1",
    "SELECT COUNT(*) FROM lick.observations WHERE observing_night = '2020-01-01' AND instrument = 'Kast Red'",
    "SELECT COUNT(*) FROM ivoa.obscore WHERE instrument_name = 'Kast Red' GROUP BY dataproduct_type",
    "SELECT instrument, COUNT(*) FROM lick.observations GROUP BY instrument",
    "SELECT COUNT(*) FROM (SELECT * FROM ivoa.obscore) AS s",
    "WITH s AS (SELECT * FROM ivoa.obscore) SELECT COUNT(*) FROM s",
    "SELECT COUNT(*) FROM ivoa.obscore AS a JOIN lick.observations AS b USING (obs_id)",
    "SELECT COUNT(*) FROM tap_schema.tables",
    "SELECT 'Kast Red', COUNT(*) FROM ivoa.obscore",
)


@pytest.mark.parametrize("query", ANSWERED)
def test_the_count_shape_is_answered_by_the_summary(query):
    translated = translate(query, catalog(), maxrec=7)
    assert translated.sql.startswith("SELECT") and any(f'"{f}"' in translated.sql for f in FUNCTIONS)
    assert translated.sql.endswith(" LIMIT 8")  # MAXREC's overflow row, as on the normal path
    assert [c.name for c in translated.columns] == [c.name for c in translate(query, _live_catalog()).columns]


@pytest.mark.parametrize("query", NOT_ANSWERED)
def test_other_shapes_go_the_normal_way(query):
    assert translate(query, catalog()).sql == translate(query, _live_catalog()).sql


def test_an_uploaded_table_of_the_same_shape_is_counted_by_reading_it():
    """TAP_UPLOAD tables (vo_services/tap/uploads.py) declare no count function: a count of one,
    even named and shaped like ivoa.obscore, reads its rows."""
    obscore = catalog().table("ivoa", "obscore")
    upload = dataclasses.replace(obscore, schema="tap_upload", counts=())
    with_upload = Catalog([*catalog(), upload])
    query = "SELECT instrument_name, COUNT(*) FROM tap_upload.obscore GROUP BY instrument_name"
    assert "visible_instrument_counts" not in translate(query, with_upload).sql
    assert "visible_instrument_counts" in translate(query.replace("tap_upload", "ivoa"), with_upload).sql
