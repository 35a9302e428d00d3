"""The result path's cursor on the real database: one message per query, the transaction's
settings and the access rule, prepared statements, dead connections, batches fetched ahead."""
from __future__ import annotations

import time

import psycopg
import psycopg2
import pytest
from psycopg2.extensions import TRANSACTION_STATUS_IDLE, TRANSACTION_STATUS_INTRANS

from archive.config import get_settings
from tests.test_schema import insert_hidden_observation, remove_hidden_observations
from vo_services.results import connections, statements
from vo_services.results.copyout import TRANSFER_ALLOWANCE_S, CopyCursor
from vo_services.results.query import BinaryCursor, QueryFailed, TextCursor
from vo_services.results.statements import Prepared

# The principals as the access rule reads them, once their signature is checked (archive.principals).
SETTINGS = ("SELECT current_setting('transaction_read_only'), lick.current_principals()::text, "
            "current_setting('statement_timeout'), current_setting('TimeZone'), "
            "current_setting('lick.public_url')")


@pytest.fixture
def hidden_row(archive_db, owner_conn):
    """A proprietary row granted to program 2027A_T001 only."""
    insert_hidden_observation(owner_conn, "2027-01/01/nickel/cursor", "2027A_T001")
    yield "SELECT obs_id FROM lick.observations WHERE obs_id = '2027-01/01/nickel/cursor'"
    remove_hidden_observations(owner_conn, "2027A_T001")


def copy_cursor(principals=(), timeout_s=60.0, **options) -> CopyCursor:
    """A cursor that reads every result by binary COPY (whatever its column types)."""
    return CopyCursor(principals, timeout_s, takes=lambda type_oids: True, **options)


def run(sql, batch=None, cursor_class=TextCursor, **options) -> list:
    cursor = cursor_class(**options)
    try:
        return cursor.execute(sql, batch)
    finally:
        cursor.close()


def test_a_whole_result_runs_in_its_message_own_transaction(archive_db):
    cursor = TextCursor(("user:ann", "program:X"), timeout_s=1.5)
    rows = cursor.execute(SETTINGS)
    assert rows == [("on", "{user:ann,program:X}", "1500ms", "UTC", get_settings().public_url)]
    assert cursor.conn.get_transaction_status() == TRANSACTION_STATUS_IDLE, "no transaction outlives the message"
    cursor.close()
    assert run(SETTINGS)[0][:3] == ("on", "{}", "1min"), "the next caller starts afresh"


def _in_transaction(conn) -> bool:
    if isinstance(conn, psycopg2.extensions.connection):
        return conn.get_transaction_status() == TRANSACTION_STATUS_INTRANS
    return conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS


@pytest.mark.parametrize("cursor_class", [TextCursor, BinaryCursor])
def test_a_batched_result_keeps_its_transaction_until_closed(archive_db, cursor_class):
    cursor = cursor_class(("user:bob",), timeout_s=2)
    assert cursor.execute(SETTINGS, batch=5)[0][:3] == ("on", "{user:bob}", "2s")
    conn = cursor.conn
    assert _in_transaction(conn)
    cursor.close()
    assert cursor.conn is None and not _in_transaction(conn)


def test_writing_is_refused(archive_db):
    with pytest.raises(QueryFailed, match="read-only transaction"):
        run("CREATE TEMPORARY TABLE scratch (a int)")


@pytest.mark.parametrize("cursor_class, batch", [(TextCursor, None), (TextCursor, 10), (BinaryCursor, 10),
                                                 (copy_cursor, 10)])
def test_the_time_limit_applies(archive_db, cursor_class, batch):
    started = time.monotonic()
    with pytest.raises(QueryFailed, match="longer than the time allowed"):
        run("SELECT pg_sleep(3)", batch, cursor_class, timeout_s=0.2)
    assert time.monotonic() - started < 2


def test_the_access_rule_holds_through_prepared_statements(hidden_row):
    """A statement prepared for one caller must not carry that caller's rights to the next."""
    for _ in range(statements.PREPARE_THRESHOLD + 2):
        assert run(hidden_row, principals=("program:2027A_T001",)) == [("2027-01/01/nickel/cursor",)]
        assert run(hidden_row) == []
        assert run(hidden_row, principals=("program:2027A_OTHER",)) == []


def test_a_slow_reader_of_a_copy_is_not_cut_off_by_the_time_limit(archive_db):
    """The time limit is the database's time, not the client's: a result that PostgreSQL sends
    in well under a second, read by a client for longer than the limit (a large sync result
    over a slow link), arrives whole, as it did through a cursor's FETCHes. 20 MB: more than the
    sockets buffer, so PostgreSQL waits for the reader while the COPY runs."""
    cursor = copy_cursor(timeout_s=1.0)
    try:
        first = cursor.execute("SELECT repeat('x', 1000) AS t FROM generate_series(1, 20000)", 1000)
        rows = len(first)
        for chunk in cursor.rest(1000):
            rows += len(chunk)
            time.sleep(0.1)  # 20 chunks: two seconds of reading, twice the limit
    finally:
        cursor.close()
    assert rows == 20000


@pytest.mark.parametrize("cursor_class", [BinaryCursor, copy_cursor])
def test_a_batched_result_holds_the_access_rule_and_the_transaction_s_settings(hidden_row, cursor_class):
    """Large results (a server-side cursor, or binary COPY) read as the caller, read-only: each
    query fails unless its condition holds (a division by zero), and rows are only counted."""
    assert len(run(hidden_row, 10, cursor_class, principals=("program:2027A_T001",))) == 1
    assert len(run(hidden_row, 10, cursor_class)) == 0
    assert len(run(hidden_row, 10, cursor_class, principals=("program:2027A_OTHER",))) == 0
    checks = ("SELECT 1 / (current_setting('transaction_read_only') = 'on')::int AS ok",
              "SELECT 1 / (lick.current_principals()::text = '{user:ann}')::int AS ok",
              # a COPY's limit is kept by the reader; PostgreSQL's is its backstop (copyout.py)
              "SELECT 1 / (current_setting('statement_timeout') = "
              f"'{2 + TRANSFER_ALLOWANCE_S if cursor_class is copy_cursor else 2:.0f}s')::int AS ok")
    for check in checks:
        assert len(run(check, 10, cursor_class, principals=("user:ann",), timeout_s=2)) == 1
    with pytest.raises(QueryFailed, match="division by zero"):
        run(checks[1], 10, cursor_class, principals=("user:bob",))


def test_copy_runs_one_statement_only(archive_db):
    """The statement is described, and copied, by the extended protocol: SQL carrying a second
    statement is refused, not run."""
    with pytest.raises(QueryFailed, match="cannot insert multiple commands"):
        run("SELECT 1 AS a; SELECT 2 AS b", 10, copy_cursor)


def _prepared_names() -> set[str]:
    return {name for (name,) in run("SELECT name FROM pg_prepared_statements")}


def test_a_repeated_text_is_prepared_once_per_connection(archive_db):
    connections.TEXT.clear()  # one connection, which the pool hands out again and again
    sql = "SELECT count(*) FROM ivoa.obscore WHERE s_dec > -91"
    for _ in range(statements.PREPARE_THRESHOLD):
        assert run(sql)[0][0] >= 0
    assert any(name.startswith("lick_q_") for name in _prepared_names())


def test_prepared_statements_are_evicted(archive_db, monkeypatch):
    monkeypatch.setattr(statements, "RECENT_TEXTS", 3)
    monkeypatch.setattr(statements, "PREPARE_THRESHOLD", 1)
    connections.TEXT.clear()
    for n in range(6):
        run(f"SELECT {n} AS n")
    assert len([n for n in _prepared_names() if n.startswith("lick_q_")]) <= 3


def test_a_failed_message_leaves_no_stale_prepared_statement(archive_db):
    connections.TEXT.clear()
    sleep = Prepared("lick_test_sleep", "SELECT pg_sleep($1)", ("float8",))
    with pytest.raises(QueryFailed):
        run(sleep(1.0), timeout_s=0.1)  # PREPARE ran, EXECUTE was cancelled
    assert run(sleep(0.0)) == [("",)], "prepared again, not 'already exists'"


def test_a_dead_pooled_connection_is_replaced(archive_db, owner_conn):
    connections.TEXT.clear()
    cursor = TextCursor()
    cursor.execute("SELECT 1")
    pid = cursor.conn.get_backend_pid()
    cursor.close()
    with owner_conn.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
    owner_conn.commit()
    time.sleep(0.2)
    cursor = TextCursor()
    assert cursor.execute("SELECT pg_backend_pid()")[0][0] != pid
    cursor.close()


@pytest.mark.parametrize("cursor_class", [TextCursor, BinaryCursor])
def test_fetch_ahead_reads_in_order_and_never_past_the_limit(archive_db, cursor_class):
    cursor = cursor_class()
    asked: list[int] = []
    try:
        first = cursor.execute("SELECT n FROM generate_series(1, 100000) AS n", batch=1000)
        fetch = cursor.fetch
        cursor.fetch = lambda n: asked.append(n) or fetch(n)  # record what the thread asks for
        rest = [row for batch in cursor.rest(1000, limit=2501) for row in batch]
    finally:
        cursor.close()
    assert [n for (n,) in first + rest] == list(range(1, 3502))
    assert sum(asked) == 2501 and max(asked) == 1000


@pytest.mark.parametrize("cursor_class", [TextCursor, BinaryCursor])
def test_an_error_while_fetching_ahead_comes_after_the_batches_before_it(archive_db, cursor_class):
    cursor = cursor_class()
    got = []
    try:
        cursor.execute("SELECT 1 / (n - 2500) FROM generate_series(1, 5000) AS n", batch=1000)
        with pytest.raises(Exception, match="division by zero"):
            for batch in cursor.rest(1000):
                got.append(len(batch))
    finally:
        cursor.close()
    assert got == [1000]  # rows 1001-2000; the FETCH of 2001-3000 failed


def test_stopping_early_cancels_a_fetch_in_progress(archive_db):
    cursor = TextCursor()
    cursor.execute("SELECT n, pg_sleep(CASE WHEN n > 100 THEN 10 ELSE 0 END) FROM generate_series(1, 200) AS n",
                   batch=100)
    cursor.rest(100)
    time.sleep(0.2)  # the thread is in the FETCH that sleeps
    started = time.monotonic()
    cursor.close()
    assert time.monotonic() - started < 3
    assert run("SELECT 1") == [(1,)], "the pool's connections still work"
