"""COUNT(*) per instrument answered from the summary (archive/visible_counts.py) equals the count
through the access rule, for every caller, after every kind of write and as a release passes; and
only the one query shape is answered that way (vo_services/tap/adql/counts.py)."""
from __future__ import annotations

import dataclasses
import random
import time
from datetime import datetime, timedelta, timezone

import psycopg2
import pytest

from archive.config import get_settings
from archive.principals import signed_principals
from archive.visible_counts import COUNT_FUNCTION
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
}
QUERIES = (
    "SELECT COUNT(*) FROM ivoa.obscore",
    *(f"SELECT COUNT(*) AS n FROM ivoa.obscore WHERE instrument_name = '{i}'" for i in INSTRUMENTS),
    "SELECT COUNT(*) FROM ivoa.obscore AS o WHERE 'nobody''s' = o.instrument_name",
    "SELECT instrument_name, COUNT(*) FROM ivoa.obscore GROUP BY instrument_name",
    "SELECT COUNT(*) AS n, o.instrument_name FROM ivoa.obscore AS o "
    "WHERE o.instrument_name = 'Count Beta' GROUP BY o.instrument_name",
)


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
            assert COUNT_FUNCTION.split(".")[1] in answered, "the summary must answer this shape"
            results = []
            for sql in (answered, translate(query, live, maxrec=1000).sql):
                cur.execute(sql)
                results.append(sorted(cur.fetchall()))
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


def _write(cur, rng: random.Random, ids: list[int], step: int) -> str:
    """One random write of the kinds ingest, curation and withdrawal make; what it did."""
    kind = rng.choice(["insert", "insert", "grant", "revoke", "release", "instrument", "delete", "many"])
    if kind == "insert" or not ids:
        row = _insert_observation(cur.connection, f"2020-01/01/count/{step}", _release(rng))
        cur.execute("UPDATE lick.observation SET instrument_name = %s WHERE id = %s",
                    (rng.choice(INSTRUMENTS), row))
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
    elif kind == "instrument":
        cur.execute("UPDATE lick.observation SET instrument_name = %s WHERE id = %s",
                    (rng.choice(INSTRUMENTS), row))
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
    for step in range(40):
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


def test_the_query_role_may_call_the_count_but_not_read_the_summary(counting):
    owner, query = counting
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        with query.cursor() as cur:
            cur.execute("SELECT * FROM lick.instrument_counts LIMIT 1")
    query.rollback()
    hidden = _insert_observation(owner, "2020-01/01/count/hidden", datetime.now(timezone.utc) + timedelta(days=9))
    with owner.cursor() as cur:
        cur.execute("UPDATE lick.observation SET instrument_name = 'Count Hidden' WHERE id = %s", (hidden,))
    owner.commit()
    with query.cursor() as cur:  # even called directly, with a forged setting: nothing hidden
        cur.execute("SELECT set_config('lick.principals', '{role:staff}', true)")
        cur.execute(f"SELECT * FROM {COUNT_FUNCTION}('Count Hidden')")
        assert cur.fetchall() == []
    query.rollback()


ANSWERED = (
    "SELECT COUNT(*) FROM ivoa.obscore",
    "select count(*) from IVOA.ObsCore where Instrument_Name = 'Kast Red'",
    "SELECT instrument_name AS i, COUNT(*) AS n, COUNT(*) AS m FROM ivoa.obscore GROUP BY instrument_name",
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
    "SELECT dataproduct_type, COUNT(*) FROM ivoa.obscore GROUP BY dataproduct_type",
    "SELECT instrument_name AS i, COUNT(*) FROM ivoa.obscore GROUP BY i",
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
    assert translated.sql.startswith("SELECT") and f'"{COUNT_FUNCTION.split(".")[1]}"' in translated.sql
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
