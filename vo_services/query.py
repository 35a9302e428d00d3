"""Running users' queries: as the query role, read-only, time-limited, with the caller's identity.

Every path that reads the archive for a user (TAP, cone search, DataLink, downloads, the front
page) goes through :func:`query_session`, so the identity that the published views filter by
(:mod:`archive.visibility`) is always set, and always only for the one transaction.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
import threading
from contextlib import contextmanager

from archive.config import get_settings
from archive.db import engine

DEFAULT_TIMEOUT_S = 60.0


@contextmanager
def query_session(principals: Sequence[str] = (), timeout_s: float = DEFAULT_TIMEOUT_S,
                  prepare: Callable | None = None) -> Iterator:
    """A psycopg2 connection in a READ ONLY transaction, rolled back (never committed) at the end.

    ``prepare(conn)``, if given, runs first in a transaction of its own: it may make temporary
    tables (TAP_UPLOAD), which are dropped when the session ends.
    """
    raw = engine("query").raw_connection()
    conn = raw.driver_connection
    try:
        if prepare is not None:
            prepare(conn)
        with conn.cursor() as cur:  # one round trip
            cur.execute(f"{READ_ONLY}; {SESSION_SETTINGS}", _session_parameters(principals, timeout_s))
        yield conn
    finally:
        conn.rollback()
        if prepare is not None:
            with conn.cursor() as cur:
                cur.execute("DISCARD TEMP")
            conn.commit()
        raw.close()  # back to the pool


READ_ONLY = "SET TRANSACTION READ ONLY"
# For this transaction only: the time limit, the caller's identity, the public URL, and UTC, so
# that timestamps (cast to timestamp without time zone in the published views) come out in UTC,
# as DALI 1.1 §3.3.3 wants.
SESSION_SETTINGS = (
    "SELECT set_config('TimeZone', 'UTC', true), set_config('statement_timeout', %s, true), "
    "set_config('lick.principals', %s, true), set_config('lick.public_url', %s, true)")


def _session_parameters(principals: Sequence[str], timeout_s: float) -> tuple:
    return f"{int(timeout_s * 1000)}ms", _array_literal(principals), get_settings().public_url


@contextmanager
def binary_session(principals: Sequence[str] = (), timeout_s: float = DEFAULT_TIMEOUT_S) -> Iterator:
    """Like :func:`query_session`, on a psycopg 3 connection whose results come in PostgreSQL's
    binary format: about twice as fast as psycopg2's text for large results. Not for pgsphere
    types, which have no binary output."""
    conn = _binary_connection()
    try:
        with conn.cursor() as cur:
            cur.execute(READ_ONLY)
            cur.execute(SESSION_SETTINGS, _session_parameters(principals, timeout_s))
        yield conn
    finally:
        if not conn.closed:
            conn.rollback()


_binary = threading.local()


def _binary_connection():
    """This thread's psycopg 3 connection to the query role, opened once and kept."""
    import psycopg

    conn = getattr(_binary, "conn", None)
    if conn is None or conn.closed or conn.broken:
        conn = _binary.conn = psycopg.connect(get_settings().dsn("query"))
    return conn


def _array_literal(values: Sequence[str]) -> str:
    """PostgreSQL text[] literal, each element quoted so no name can break out of it."""
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"


def run_query(sql: str, params: Sequence | None = None, principals: Sequence[str] = ()) -> list[tuple]:
    """Small queries whose whole result fits in memory (metadata, counts)."""
    with query_session(principals) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()
