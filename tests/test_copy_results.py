"""Large BINARY2 results read by binary COPY (vo_services/results/copyout.py) and transcoded
without Python rows (vo_services/encoders/pgcopy.py) are the documents the cursor path writes.

Each document is made twice on the real database: through the engine as TAP runs it (the COPY
path), and with the same encoder given as a plain function, which the engine reads through the
binary cursor and the general encoder (vo_services/encoders/binary2.py). They must be equal
byte for byte: every published table's columns but the geometries, as an anonymous caller and
as a program's member, NULLs of every type, NaN and infinities, extreme integers, empty and
non-ASCII text, timestamps from year 1 to 9999 (before 1970, after 2038, with and without
milliseconds and microseconds, with a time zone), 1, 2 and 3 null-flag bytes, chunks of a few
rows, MAXREC overflow, and the columns that must fall back (geometries, a type other than the
declared one). Timestamps a Python datetime cannot hold (±infinity, years past 9999 or before 1)
fail the result on both paths at the same batch, with the same error.
"""
from __future__ import annotations

import io
import random
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from functools import partial

import numpy as np
import psycopg2
import pytest
from astropy.io.votable import parse_single_table
from psycopg2 import sql

from archive.columns import Column
from archive.config import get_settings
from archive.published import PUBLISHED_TABLES
from tests.encoders.conftest import votlint  # noqa: F401  (fixture)
from tests.test_schema import _insert_observation, insert_hidden_observation, remove_hidden_observations
from vo_services.encoders import pgcopy, write_votable
from vo_services.encoders.formats import FORMATS
from vo_services.results import engine
from vo_services.results.engine import ResultLimits, run_result
from vo_services.results.query import QueryFailed
from vo_services.tap.adql import translate
from vo_services.tap.catalog import catalog

VOT = "{http://www.ivoa.net/xml/VOTable/v1.3}"
PROGRAM = "program:COPY_T001"
HIDDEN = "2027-03/03/nickel/copy-hidden"
BINARY2 = FORMATS[0]
assert BINARY2.copy_rows


@pytest.fixture(scope="module")
def varied(archive_db):
    """40 public rows with NULLs, NaN, infinities, empty and non-ASCII text; one proprietary row
    granted to PROGRAM."""
    conn = psycopg2.connect(get_settings().dsn("owner"))
    public = datetime(2020, 1, 1, tzinfo=timezone.utc)
    rng = random.Random(18)
    names = ["", "Åke 観測 😀", "M 31", None, "x" * 300, "é"]
    doubles = [None, float("nan"), float("inf"), -float("inf"), -0.0, 1e-310, 1.7976931348623157e308]
    nights = ["2020-01-01", "1969-07-20", "1899-12-31", "2040-02-29", "0001-01-01"]
    moments = [None, "1969-12-31 23:59:59.999999+00", "1901-12-13 20:45:52.123+00", "2038-01-19 03:14:08.5+00",
               "2020-06-30 23:30:00.000001-08", "2000-01-01 00:00:00+00", "9999-12-31 23:59:59.999999+00"]
    releases = ["1970-01-01 00:00:00+00", "2019-12-31 23:59:59.999+00", "0001-01-01 00:00:00+00",
                "1999-12-31 23:59:59.5+00", "2020-01-01 00:00:00.000100+00"]
    for i in range(40):
        row = _insert_observation(conn, f"2020-01/01/nickel/copy{i:02d}", public, ra=150 + i * 0.01)
        with conn.cursor() as cur:
            cur.execute("UPDATE lick.observation SET target_name = %s, airmass = %s, em_min = %s, "
                        "s_xel1 = %s, em_xel = %s, filters = %s, header = %s, calib_level = %s, "
                        "ingest_flags = %s, observing_night = %s, date_obs = %s, obs_release_date = %s "
                        "WHERE id = %s",
                        (rng.choice(names), rng.choice(doubles), rng.choice(doubles[:2] + [4e-7]),
                         rng.choice([None, 2**63 - 1, -2**63, 0]), rng.choice([None, 2048]),
                         rng.choice(names), rng.choice(["", "SIMPLE = T\nOBJECT = 'Ōsaka'", "card " * 40]),
                         rng.choice([0, 1, 3]), rng.choice([0, -2**31, 2**31 - 1]), rng.choice(nights),
                         rng.choice(moments), rng.choice(releases), row))
    insert_hidden_observation(conn, HIDDEN, PROGRAM.removeprefix("program:"))
    yield
    remove_hidden_observations(conn, PROGRAM.removeprefix("program:"))
    conn.close()


@pytest.fixture
def transcoded(monkeypatch) -> list[int]:
    """The row counts of the chunks the COPY path transcoded (empty: the general path ran)."""
    calls: list[int] = []
    encode = pgcopy.CopyTranscoder.encode

    def counting(self, rows):
        calls.append(len(rows))
        return encode(self, rows)

    monkeypatch.setattr(pgcopy.CopyTranscoder, "encode", counting)
    return calls


def document(query: str | bytes, fields, *, copy: bool, principals=(), maxrec: int = 100_000,
             batch: int = 7) -> bytes:
    """The BINARY2 document of ``query``: by COPY where the engine can (``copy``), else through
    the binary cursor and the general encoder (the same writer, given as a plain function)."""
    encoder = BINARY2 if copy else partial(write_votable, serialization="BINARY2")
    stream = run_result(query, tuple(fields), encoder, principals,
                        ResultLimits(maxrec=maxrec, timeout_s=30, batch=batch))
    try:
        stream.start()
        return b"".join(stream)
    finally:
        stream.close()


def both(query, fields, transcoded: list[int], **options) -> bytes:
    """The document by each path; they must be equal, and the first must have been transcoded."""
    slow = document(query, fields, copy=False, **options)
    assert not transcoded
    fast = document(query, fields, copy=True, **options)
    assert transcoded, "the COPY path was not taken"
    assert fast == slow
    return fast


def statuses(body: bytes) -> list[str]:
    return [i.get("value") for i in ET.fromstring(body).iter(f"{VOT}INFO") if i.get("name") == "QUERY_STATUS"]


def translated(adql: str, maxrec: int = 100_000):
    result = translate(adql, catalog(), maxrec=maxrec)
    return result.sql, tuple(map(Column.described, result.columns))


@pytest.mark.parametrize("table", PUBLISHED_TABLES, ids=lambda t: t.qualified_name)
@pytest.mark.parametrize("principals", [(), (PROGRAM,)], ids=["anonymous", "member"])
def test_every_published_table_s_columns_are_written_as_the_cursor_path_writes_them(
        varied, transcoded, table, principals):
    columns = [c.name for c in table.public_columns if pgcopy.transcodable([c])]
    assert {c.name for c in table.public_columns if c.name not in columns} <= {
        c.name for c in table.public_columns if c.datatype in engine.GEOMETRY_TYPES}, \
        "every column but the geometries is written by COPY"
    order = "obs_id" if table.is_view else ", ".join(columns)
    query, fields = translated(f"SELECT {', '.join(columns)} FROM {table.qualified_name} ORDER BY {order}")
    body = both(query, fields, transcoded, principals=principals)
    assert statuses(body) == ["OK"]
    rows = parse_single_table(io.BytesIO(body)).array
    assert len(rows) == sum(transcoded) > 0
    if table.is_view:
        ids = set(rows["obs_id"])
        assert {f"2020-01/01/nickel/copy{i:02d}" for i in range(40)} <= ids
        assert (HIDDEN in ids) == bool(principals), "the access rule holds through COPY"


def test_non_ascii_text_is_written_as_ascii_with_question_marks(varied, transcoded):
    query, fields = translated("SELECT obs_id, target_name, header FROM lick.observations "
                               "WHERE target_name = 'Åke 観測 😀' ORDER BY obs_id")
    rows = parse_single_table(io.BytesIO(both(query, fields, transcoded))).array
    assert len(rows) > 0 and set(rows["target_name"]) == {"?ke ?? ?"}


# Timestamps from the first to the last a datetime holds: before 1970 and 2000 (negative
# microseconds), after 2038 (past int32 seconds), with milliseconds, microseconds, neither.
MOMENTS = ["0001-01-01 00:00:00", "9999-12-31 23:59:59.999999", "1969-12-31 23:59:59.999999", "1970-01-01",
           "1999-12-31 23:59:59.5", "2000-01-01", "2000-01-01 00:00:00.000001", "1900-02-28 12:00:00.001",
           "2038-01-19 03:14:08", "2262-04-11 23:47:16.854776", "1677-09-21 00:12:43.145224",
           "0099-03-01 00:00:00.010000", "2024-02-29 23:59:59.999"]

# SQL values of each transcoded type, edge values first; the PostgreSQL type each is sent as.
EDGES = {
    "SMALLINT": ("int2", [0, -2**15, 2**15 - 1, None]),
    "INTEGER": ("int4", [0, -2**31, 2**31 - 1, None]),
    "BIGINT": ("int8", [0, -2**63, 2**63 - 1, None]),
    "REAL": ("float4", [0.1, 3.4028234e38, float("nan"), -float("inf"), -0.0, None]),
    "DOUBLE": ("float8", [0.0, -0.0, float("nan"), float("inf"), -float("inf"), 1e-310,
                          1.7976931348623157e308, None]),
    "BOOLEAN": ("bool", [True, False, None]),
    "VARCHAR": ("text", ["", "x", "Åke 観測 😀", "ascii only " * 30, "é", None]),
    "CLOB": ("text", ["card\n" * 50, "", None, "Ōsaka"]),
    "TIMESTAMP": ("timestamp", MOMENTS + [None]),
    # Sent in UTC whatever the offset written: the zone must not move the text.
    "TIMESTAMPTZ": ("timestamptz", [m + "+00" for m in MOMENTS[1:]] + [
        "0001-01-01 08:00:00+08", "2020-06-30 23:30:00.25-08", "1950-01-01 00:00:00.000500+05:30", None]),
}
ADQL_TYPES = {"TIMESTAMPTZ": "TIMESTAMP"}  # EDGES' labels that are not ADQL types
LAYOUTS = {  # 1, 2 and 3 null-flag bytes; text first, between and last; 8-byte NULLs
    "five": ["VARCHAR", "DOUBLE", "DOUBLE", "INTEGER", "BIGINT"],
    "nine": ["DOUBLE", "VARCHAR", "SMALLINT", "REAL", "BOOLEAN", "CLOB", "BIGINT", "INTEGER", "VARCHAR"],
    "stamps": ["TIMESTAMP", "VARCHAR", "TIMESTAMPTZ", "DOUBLE", "TIMESTAMP"],  # first, between and last
    "eighteen": list(EDGES) * 2 + ["DOUBLE", "VARCHAR"],
}


def moment(rng: random.Random) -> str:
    """A timestamp anywhere in years 1 to 9999, to the microsecond."""
    return str(datetime(1, 1, 1) + timedelta(microseconds=rng.randrange(315_537_897_600_000_000)))


def values_query(types: list[str], n: int, rng: random.Random) -> sql.Composed:
    """``SELECT * FROM (VALUES ...) AS v(c0, c1, ...)`` with values of ``types``, composed."""
    def value(datatype: str):
        pg_type, edges = EDGES[datatype]
        if rng.random() < 0.5:
            choice = rng.choice(edges)
        else:
            choice = {"SMALLINT": lambda: rng.randint(-99, 99), "INTEGER": lambda: rng.randint(-2**31, 2**31 - 1),
                      "BIGINT": lambda: rng.randint(-2**63, 2**63 - 1), "REAL": lambda: rng.uniform(-10, 10),
                      "DOUBLE": lambda: rng.uniform(-1e6, 1e6), "BOOLEAN": lambda: rng.random() < 0.5,
                      "VARCHAR": lambda: f"2019-05/03/shane/b{rng.randrange(10 ** rng.randint(0, 7))}",
                      "CLOB": lambda: "SIMPLE = T " * rng.randint(0, 3),
                      "TIMESTAMP": lambda: moment(rng), "TIMESTAMPTZ": lambda: moment(rng) + "+00"}[datatype]()
        return sql.SQL("({})::{}").format(sql.Literal(choice), sql.SQL(pg_type))

    rows = [sql.SQL("({})").format(sql.SQL(", ").join(value(t) for t in types)) for _ in range(n)]
    names = sql.SQL(", ").join(sql.Identifier(f"c{k}") for k in range(len(types)))
    return sql.SQL("SELECT * FROM (VALUES {}) AS v({})").format(sql.SQL(", ").join(rows), names)


def as_bytes(composed: sql.Composed) -> bytes:
    conn = psycopg2.connect(get_settings().dsn("query"))
    try:
        return composed.as_string(conn).encode()
    finally:
        conn.close()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_edge_values_of_every_transcoded_type(archive_db, transcoded, layout, votlint, tmp_path):
    types = LAYOUTS[layout]
    fields = [Column(f"c{k}", ADQL_TYPES.get(t, t)) for k, t in enumerate(types)]
    query = as_bytes(values_query(types, 300, random.Random(layout)))
    body = both(query, fields, transcoded)
    assert sum(transcoded) == 300 and len(transcoded) > 1, "several chunks"
    rows = parse_single_table(io.BytesIO(body)).array
    assert len(rows) == 300
    path = tmp_path / "edges.vot"
    path.write_bytes(body)
    assert votlint(path) == ""


def outcome(query, fields, **options) -> bytes | str:
    """:func:`document`, or the message of the QueryFailed that ends the result before its first
    write (the service answers it with an error document of its own)."""
    try:
        return document(query, fields, **options)
    except QueryFailed as exc:
        return f"failed before the first write: {exc}"


@pytest.mark.parametrize("value", ["infinity", "-infinity", "10000-01-01", "0001-12-31 23:59:59.999999 BC"])
@pytest.mark.parametrize("row", [0, 20, 30], ids=["first-batch", "third-batch", "past-maxrec"])
@pytest.mark.parametrize("pg_type", ["timestamp", "timestamptz"])
def test_a_timestamp_a_datetime_cannot_hold_fails_the_result_where_the_cursor_path_fails_it(
        archive_db, transcoded, monkeypatch, value, row, pg_type):
    """psycopg refuses such a value when it loads the batch: before the first write, the query
    fails; later, the document ends with QUERY_STATUS ERROR after the batches before; the row
    read only to see an overflow (MAXREC + 1) fails it too. COPY must end each one alike."""
    refusals: list[str] = []
    unloadable = pgcopy.unloadable

    def recorded(fields, rows):
        refusal = unloadable(fields, rows)
        if refusal is not None:
            refusals.append(refusal)
        return refusal

    monkeypatch.setattr(pgcopy, "unloadable", recorded)
    stamp = sql.SQL("CASE WHEN i = {} THEN {}::{} ELSE {}::{} + i * interval '1.5 second' END").format(
        sql.Literal(row), sql.Literal(value), sql.SQL(pg_type), sql.Literal("1960-01-01"), sql.SQL(pg_type))
    query = as_bytes(sql.SQL("SELECT i, {} AS t FROM generate_series(0, 39) AS i ORDER BY i").format(stamp))
    fields = [Column("i", "INTEGER"), Column("t", "TIMESTAMP")]
    slow = outcome(query, fields, copy=False, maxrec=30)
    assert not transcoded and not refusals
    fast = outcome(query, fields, copy=True, maxrec=30)
    assert refusals, "the COPY path was not taken"
    assert fast == slow
    if row == 0:
        assert fast == "failed before the first write: the query failed" and not transcoded
    else:
        assert statuses(fast) == ["OK", "ERROR"] and sum(transcoded) == row // 7 * 7


def test_maxrec_overflow_and_top_through_copy(varied, transcoded):
    query, fields = translated("SELECT obs_id, s_ra, em_min FROM ivoa.obscore ORDER BY obs_id", maxrec=10)
    body = both(query, fields, transcoded, maxrec=10)
    assert statuses(body) == ["OK", "OVERFLOW"] and len(parse_single_table(io.BytesIO(body)).array) == 10
    transcoded.clear()
    query, fields = translated("SELECT TOP 10 obs_id, s_ra FROM ivoa.obscore ORDER BY obs_id", maxrec=10)
    body = both(query, fields, transcoded, maxrec=10)
    assert statuses(body) == ["OK"], "TOP within MAXREC never overflows (TAP 1.1 §2.7.4)"


def test_a_copy_cut_short_is_cancelled_and_the_connection_serves_the_next_caller(archive_db, transcoded,
                                                                                 owner_conn):
    """SQL without a LIMIT of its own (the engine stops at MAXREC + 1 rows): the rest of the COPY
    is cancelled, not read, and the pooled connection answers the next query."""
    fields = [Column("i", "INTEGER")]
    body = both(b"SELECT i::int4 FROM generate_series(1, 20000000) AS i", fields, transcoded, maxrec=100, batch=40)
    assert statuses(body) == ["OK", "OVERFLOW"] and sum(transcoded) == 100  # the 101st: read, not written
    with owner_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'COPY (SELECT i::int4%%'")
        assert cur.fetchone() == (0,)
    transcoded.clear()
    assert statuses(both(b"SELECT 1::int4 AS i", fields, transcoded)) == ["OK"]


@pytest.mark.parametrize("adql", [
    "SELECT obs_id, s_region FROM ivoa.obscore ORDER BY obs_id",  # pgsphere: no binary output
    "SELECT obs_id, pos FROM lick.observations ORDER BY obs_id",
])
def test_columns_the_transcoder_does_not_write_take_the_general_path(varied, transcoded, adql):
    query, fields = translated(adql)
    assert document(query, fields, copy=True) == document(query, fields, copy=False)
    assert transcoded == []


@pytest.mark.parametrize("expression, datatype", [
    (b"x::numeric", "DOUBLE"),  # AVG's type, say
    (b"date '2020-01-01' + x", "TIMESTAMP"),  # a date: a day count, not microseconds
], ids=["numeric", "date"])
def test_a_column_of_another_type_than_declared_takes_the_general_path(archive_db, transcoded, expression,
                                                                      datatype):
    """The translator may declare DOUBLE for what PostgreSQL computes as numeric, or TIMESTAMP
    for a date: the driver converts it, the bytes are never read as a float8 or a timestamp."""
    query = b"SELECT " + expression + b" AS d, x::int8 AS n FROM generate_series(1, 50) AS x"
    fields = [Column("d", datatype), Column("n", "BIGINT")]
    assert document(query, fields, copy=True) == document(query, fields, copy=False)
    assert transcoded == []


@pytest.mark.django_db(transaction=True)
def test_tap_sync_answers_by_copy_with_overflow_as_before(client, varied, transcoded, monkeypatch, votlint,
                                                          tmp_path):
    """The whole service: MAXREC above the default (read in batches), overflow past it."""
    params = {"LANG": "ADQL", "MAXREC": "25000",
              "QUERY": "SELECT a.obs_id, b.s_ra, c.airmass FROM ivoa.obscore AS a, ivoa.obscore AS b, "
                       "lick.observations AS c ORDER BY a.obs_id, b.obs_id, c.obs_id"}

    def body() -> bytes:
        return b"".join(client.get("/tap/sync", params).streaming_content)

    fast = body()
    assert transcoded and statuses(fast) == ["OK", "OVERFLOW"]
    assert len(parse_single_table(io.BytesIO(fast)).array) == 25000
    monkeypatch.setattr(engine.pgcopy, "transcodable", lambda fields: False)
    transcoded.clear()
    assert body() == fast and not transcoded
    path = tmp_path / "sync.vot"
    path.write_bytes(fast)
    assert votlint(path) == ""


def test_copy_rows_cut_at_maxrec_keep_whole_tuples():
    rows = pgcopy.CopyRows(np.frombuffer(b"abcdefg\0", np.uint8), np.array([0, 2, 5, 7]))
    first = rows[:2]
    assert len(first) == 2 and first.data.tobytes() == b"abcde\0" and list(first.starts) == [0, 2, 5]
    with pytest.raises(IndexError):
        rows[1:]

