"""What SQL running as the query role can no longer do (issue 13), on the real database.

An injection once ran as the query role, set ``lick.principals`` to ``{role:staff}`` and read
every proprietary row. Now the principals must carry a MAC that only the owner role's key makes
(archive/principals.py), the query role sees and signals no other session and creates nothing
that outlives its session (scripts/harden.sql), and whatever it leaves on a pooled connection is
reset before the next caller gets it (vo_services/results/query.py)."""
from __future__ import annotations

import secrets
import time

import psycopg2
import pytest

from archive.config import get_settings
from archive.principals import principal_key, sign, signed_principals
from tests.test_schema import insert_hidden_observation, remove_hidden_observations
from vo_services.results import connections
from vo_services.results.query import BinaryCursor, QueryFailed, TextCursor
from vo_services.results.statements import _text_name

PROGRAM = "program:FORGE_T001"
VIEWS = ("ivoa.obscore", "lick.observations")


@pytest.fixture
def hidden_row(archive_db, owner_conn):
    """A proprietary row granted to one program only."""
    insert_hidden_observation(owner_conn, "2027-02/02/nickel/forge", PROGRAM.removeprefix("program:"))
    yield
    remove_hidden_observations(owner_conn, PROGRAM.removeprefix("program:"))


def _hidden_rows(conn, value: str, is_local: bool = True) -> dict[str, int]:
    """Unreleased rows each published view shows with ``lick.principals`` set to ``value``."""
    with conn.cursor() as cur:
        cur.execute("SELECT set_config('lick.principals', %s, %s)", (value, is_local))
        counts = {}
        for view in VIEWS:
            cur.execute(f"SELECT count(*) FROM {view} WHERE obs_release_date > now()")
            counts[view] = cur.fetchone()[0]
    conn.rollback()
    return counts


def _forgeries(pid: int, other_pid: int) -> dict[str, str]:
    key, good_until = principal_key(), int(time.time()) + 60
    tampered = sign(key, ["program:NOBODY"], pid, good_until)
    return {
        "unsigned staff": "{role:staff}",
        "unsigned program": "{%s}" % PROGRAM,
        "signed for another session": sign(key, ["role:staff"], other_pid, good_until),
        "expired": sign(key, ["role:staff"], pid, int(time.time()) - 1),
        "list changed under its MAC": tampered[: tampered.rindex(":") + 1] + '{"role:staff"}',
        "signed with another key": sign(secrets.token_bytes(64), ["role:staff"], pid, good_until),
        "malformed": f"{pid}:{good_until}::{{role:staff}}",
    }


def test_principals_the_query_role_sets_itself_show_no_hidden_row(hidden_row, query_conn):
    other = psycopg2.connect(get_settings().dsn("query"))
    try:
        pid = query_conn.get_backend_pid()
        for name, value in _forgeries(pid, other.get_backend_pid()).items():
            for is_local in (True, False):  # for the transaction, and for the whole session
                assert _hidden_rows(query_conn, value, is_local) == {v: 0 for v in VIEWS}, name
        with query_conn.cursor() as cur:
            cur.execute("SELECT set_config('lick.principals', '', false)")
        query_conn.commit()
        staff = _hidden_rows(query_conn, signed_principals(["role:staff"], pid))
        assert staff["lick.observations"] > 0 and staff["ivoa.obscore"] == staff["lick.observations"]
        assert _hidden_rows(query_conn, signed_principals([PROGRAM], pid)) == {v: 1 for v in VIEWS}
    finally:
        other.close()


def test_the_query_role_cannot_read_the_key(archive_db, query_conn):
    with pytest.raises(psycopg2.errors.InsufficientPrivilege), query_conn.cursor() as cur:
        cur.execute("SELECT key FROM lick.principal_key")


def test_signed_principals_hold_in_parallel_plans(hidden_row, query_conn):
    """The MAC names the session's process; a parallel worker is another process, so the rule is
    checked in the leader (the function is PARALLEL RESTRICTED) and the workers get its value."""
    pid = query_conn.get_backend_pid()
    with query_conn.cursor() as cur:
        cur.execute("SELECT current_setting('server_version_num')::int >= 160000")
        setting = "debug_parallel_query" if cur.fetchone()[0] else "force_parallel_mode"
        cur.execute("SELECT set_config(%s, 'on', false), set_config('parallel_setup_cost', '0', false), "
                    "set_config('parallel_tuple_cost', '0', false), "
                    "set_config('min_parallel_table_scan_size', '0', false)", (setting,))
        cur.execute("EXPLAIN SELECT count(*) FROM lick.observations WHERE obs_release_date > now()")
        assert "Gather" in "\n".join(r[0] for r in cur.fetchall())
    query_conn.commit()
    assert _hidden_rows(query_conn, signed_principals([PROGRAM], pid)) == {v: 1 for v in VIEWS}


def test_the_rule_is_checked_once_per_query_and_cones_keep_the_index(archive_db, query_conn):
    with query_conn.cursor() as cur:
        cur.execute("SELECT set_config('lick.principals', %s, true), set_config('enable_seqscan', 'off', true)",
                    (signed_principals(["user:ann"], query_conn.get_backend_pid()),))
        cur.execute("EXPLAIN SELECT obs_id FROM ivoa.obscore "
                    "WHERE pos <@ scircle(spoint(radians(150), radians(20)), radians(0.5))")
        plan = "\n".join(r[0] for r in cur.fetchall())
    # Either GiST index led by the position (the portal search's, migration 0013, may win on a tiny table).
    assert ("observation_pos_gist" in plan or "observation_cone_instrument_night" in plan) \
        and plan.count("InitPlan") == 2, plan


# -- other sessions, lasting objects (scripts/harden.sql)

def test_the_query_role_neither_sees_nor_signals_other_sessions(archive_db, query_conn):
    other = psycopg2.connect(get_settings().dsn("query"))
    other.autocommit = True
    query_conn.autocommit = True
    try:
        with other.cursor() as cur:
            cur.execute("SELECT 'a caller''s marker 5d1f'")
        pid = other.get_backend_pid()
        for statement in ("SELECT query FROM pg_stat_activity WHERE pid = %s",
                          "SELECT pg_stat_get_backend_activity(b) FROM pg_stat_get_backend_idset() AS b "
                          "WHERE pg_stat_get_backend_pid(b) = %s"):
            try:
                with query_conn.cursor() as cur:
                    cur.execute(statement, (pid,))
                    texts = [text for (text,) in cur.fetchall()]
            except psycopg2.errors.InsufficientPrivilege:
                continue
            assert not any(text and "5d1f" in text for text in texts), statement
        for signal in ("pg_cancel_backend(%s)", "pg_terminate_backend(%s)"):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege), query_conn.cursor() as cur:
                cur.execute(f"SELECT {signal}", (pid,))
        with other.cursor() as cur:
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,), "the other session lives on"
    finally:
        other.close()


def test_the_query_role_creates_nothing_outside_its_temporary_schema(archive_db, query_conn):
    query_conn.autocommit = True
    for statement in ("CREATE SCHEMA mine", "CREATE TABLE lick.mine (x int)", "CREATE TABLE public.mine (x int)",
                      "CREATE TABLE ivoa.mine (x int)", "CREATE TABLE tap_schema.mine (x int)",
                      "CREATE FUNCTION public.mine() RETURNS int LANGUAGE sql AS 'SELECT 1'",
                      "SELECT lo_create(0)", "SELECT lo_from_bytea(0, 'x')"):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege), query_conn.cursor() as cur:
            cur.execute(statement)
    with query_conn.cursor() as cur:
        cur.execute("SELECT nspname FROM pg_namespace WHERE has_schema_privilege(oid, 'CREATE') "
                    "AND nspname NOT LIKE 'pg_temp_%%' AND nspname NOT LIKE 'pg_toast_temp_%%'")
        assert cur.fetchall() == []
        cur.execute("SELECT has_database_privilege(current_database(), 'CREATE')")
        assert cur.fetchone() == (False,)
        cur.execute("CREATE TEMPORARY TABLE scratch (x int)")  # what TAP_UPLOAD needs stays


# -- pooled connections (vo_services.results.query.ResultCursor.close)

VICTIM = b"SELECT 'victim'"


def _leave_state(conn) -> None:
    """What an injection could leave on the session: a setting, a statement prepared under a name
    the registry uses, a held cursor, an advisory lock."""
    for statement in ("SELECT set_config('lick.left_behind', 'yes', false)",
                      f"PREPARE {_text_name(VICTIM)} AS SELECT 'attacker'",
                      "DECLARE left_behind CURSOR WITH HOLD FOR SELECT 1",
                      "SELECT pg_try_advisory_lock(4242)"):
        with conn.cursor() as cur:
            cur.execute(statement)


def _state_seen_by_the_next_caller(cursor_class, pid: int) -> tuple:
    cursor = cursor_class()
    try:
        rows = cursor.execute(
            "SELECT pg_backend_pid(), coalesce(nullif(current_setting('lick.left_behind', true), ''), 'unset'), "
            "(SELECT count(*) FROM pg_prepared_statements), (SELECT count(*) FROM pg_cursors WHERE is_holdable), "
            "(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()), "
            "current_setting('TimeZone'), current_setting('plan_cache_mode'), current_setting('lick.public_url')",
            batch=None if cursor_class is TextCursor else 10)
    finally:
        cursor.close()
    assert rows[0][0] == pid, "the test needs the same pooled connection"
    return rows[0][1:]


CLEAN = ("unset", 0, 0, 0, "UTC", "force_generic_plan", get_settings().public_url)


@pytest.mark.parametrize("cursor_class", [TextCursor, BinaryCursor])
def test_an_upload_leaves_nothing_on_the_pooled_connection(archive_db, cursor_class):
    cursor_class.pool.clear()
    cursor = cursor_class(setup=_leave_state)  # as TAP_UPLOAD's set-up, injected into
    cursor.execute("SELECT 1", batch=None if cursor_class is TextCursor else 10)
    pid = cursor._backend_pid()
    cursor.close()
    assert _state_seen_by_the_next_caller(cursor_class, pid) == CLEAN


@pytest.mark.parametrize("cursor_class", [TextCursor, BinaryCursor])
def test_a_failed_query_leaves_nothing_on_the_pooled_connection(archive_db, cursor_class):
    cursor_class.pool.clear()
    conn, _ = cursor_class.pool.take()
    _leave_state(conn)
    pid = conn.get_backend_pid() if cursor_class is TextCursor else conn.info.backend_pid
    cursor_class.pool.give(conn)  # as if a query had just left it so
    with pytest.raises(QueryFailed, match="division by zero"):
        cursor = cursor_class()
        try:
            cursor.execute("SELECT 1 / 0", batch=None if cursor_class is TextCursor else 10)
        finally:
            cursor.close()
    assert _state_seen_by_the_next_caller(cursor_class, pid) == CLEAN


def test_the_next_caller_runs_its_own_statement_not_one_left_behind(archive_db):
    """A statement prepared under the registry's name for a text is never executed in its place."""
    TextCursor.pool.clear()
    cursor = TextCursor(setup=_leave_state)
    cursor.execute("SELECT 1")
    cursor.close()
    for _ in range(6):
        cursor = TextCursor()
        try:
            assert cursor.execute(VICTIM) == [("victim",)]
        finally:
            cursor.close()
