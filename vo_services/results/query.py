"""Running users' queries: as the query role, read-only, time-limited, with the caller's identity.

Every path that reads the archive for a user (TAP, cone search, DataLink, downloads, the front
page) goes through :func:`query_session` or a :class:`ResultCursor`, so the identity that the
published views filter by (:mod:`archive.visibility`) is always set, and always only for the one
transaction.

:func:`query_session` hands out a connection in such a transaction for any use.
:class:`ResultCursor` is the path of the results themselves (TAP, cone search), built for
latency: the READ ONLY transaction, its settings, the query and its first batch go to PostgreSQL
in one message, one round trip, as the bare query would; small results run as prepared
statements where they can (:mod:`vo_services.results.statements`). The rest of a large result is fetched
ahead (:mod:`vo_services.results.fetchahead`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import psycopg
import psycopg2

from archive.config import get_settings
from archive.db import query_engine
from archive.principals import signed_principals
from vo_services.results import connections
from vo_services.results.fetchahead import FetchAhead
from vo_services.results.statements import PreparedCall

DEFAULT_TIMEOUT_S = 60.0


class QueryFailed(Exception):
    """The database refused or aborted the query; the message is safe to show the user."""


class DatabaseUnavailable(QueryFailed):
    """No connection to the database could be had (it is down, restarting, or out of connection
    slots): the query never ran, and the same request may well succeed in a moment (HTTP 503)."""

    retry_after_s = 10


UNAVAILABLE = "the archive's database cannot be reached just now; please try again in a moment"
# SQLSTATE classes and codes that say the server went away, not that the query was wrong: class 08
# (connection exception) and 57P01-57P03 (shut down by the administrator, crashed, starting up).
_GONE_CLASSES = ("08",)
_GONE_CODES = ("57P01", "57P02", "57P03")


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` means the server stopped or restarted under the query (a 503, which a
    retry in a moment cures), rather than a refusal of the query itself."""
    code = getattr(exc, "pgcode", None) or getattr(getattr(exc, "diag", None), "sqlstate", None) or ""
    return code.startswith(_GONE_CLASSES) or code in _GONE_CODES


@contextmanager
def query_session(principals: Sequence[str] = (), timeout_s: float = DEFAULT_TIMEOUT_S) -> Iterator:
    """A psycopg2 connection in a READ ONLY transaction, rolled back (never committed) at the end."""
    raw = query_engine().raw_connection()
    conn = raw.driver_connection
    try:
        with conn.cursor() as cur:  # one round trip
            cur.execute(f"{READ_ONLY}; {SESSION_SETTINGS}",
                        _session_parameters(principals, timeout_s, conn.get_backend_pid()))
        yield conn
    except BaseException:
        raw.invalidate()  # whatever failed may have left state on the session: never reuse it
        raise
    finally:
        if raw.driver_connection is not None:
            conn.rollback()
        raw.close()  # back to the pool


READ_ONLY = "SET TRANSACTION READ ONLY"
# For this transaction only: the time limit and the caller's identity.
TRANSACTION_SETTINGS = ("SELECT set_config('statement_timeout', %s, true), "
                        "set_config('lick.principals', %s, true)")
# And the public URL, and UTC, so that timestamps (cast to timestamp without time zone in the
# published views) come out in UTC, as DALI 1.1 §3.3.3 wants. ResultCursor's connections have
# these two set once (vo_services.results.connections.CONNECTION_SETTINGS).
SESSION_SETTINGS = (TRANSACTION_SETTINGS
                    + ", set_config('lick.public_url', %s, true), set_config('TimeZone', 'UTC', true)")


def _session_parameters(principals: Sequence[str], timeout_s: float, backend_pid: int) -> tuple[str, str, str]:
    return (*_transaction_parameters(principals, timeout_s, backend_pid), get_settings().public_url)


def _transaction_parameters(principals: Sequence[str], timeout_s: float, backend_pid: int) -> tuple[str, str]:
    """The time limit, and the principals signed for the session (archive.principals): the query
    role cannot set principals of its own."""
    return f"{int(timeout_s * 1000)}ms", signed_principals(principals, backend_pid)


def run_query(sql: str, params: Sequence | None = None, principals: Sequence[str] = ()) -> list[tuple]:
    """Small queries whose whole result fits in memory (metadata, counts)."""
    with query_session(principals) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def describe(exc: BaseException) -> str:
    """A database error as the user should read it: PostgreSQL's message, never internals."""
    if isinstance(exc, (psycopg2.errors.QueryCanceled, psycopg.errors.QueryCanceled)):
        return "the query took longer than the time allowed and was cancelled"
    if isinstance(exc, psycopg.Error):
        return exc.diag.message_primary or "the query failed"
    if isinstance(exc, psycopg2.Error):
        message = (exc.pgerror or str(exc)).strip().splitlines()
        return message[0].removeprefix("ERROR:").strip() if message else "the query failed"
    return str(exc) or exc.__class__.__name__


DRIVER_ERRORS = (psycopg2.Error, psycopg.Error)
CURSOR = b"lick_result"


class ResultCursor:
    """One user query, its session and its rows, on a pooled autocommit connection.

    :meth:`execute` sends the READ ONLY transaction, its settings (:data:`TRANSACTION_SETTINGS`;
    the connection has the rest) and the query in one message: a whole result in the message's
    implicit transaction, which ends with it; a large one from a server-side cursor, with its
    first FETCH, in a transaction that stays open. :meth:`rest` fetches the remaining batches
    ahead; :meth:`close` rolls back (if a transaction is open) and returns the connection.
    ``setup(conn)`` runs first, outside the transaction (TAP_UPLOAD's temporary tables);
    ``on_backend(pid)`` learns the server process, so that an abort can cancel the query.

    A connection goes back to the pool as it came only after a query that succeeded without
    uploads. After an upload or any error, :meth:`close` resets the session (``DISCARD ALL``,
    then :data:`~vo_services.results.connections.CONNECTION_SETTINGS` again), so that nothing a caller's
    SQL may have left on it (settings, prepared statements, temporary objects, locks) reaches the
    next caller. That costs two round trips after the response, where a new connection would cost
    the next caller about 10 ms.

    Subclasses say how their driver runs statements; :class:`TextCursor` (psycopg2) reads
    every type, :class:`BinaryCursor` (psycopg 3, binary FETCH) decodes about twice as fast but
    cannot read pgsphere types.
    """

    pool: connections.Pool

    def __init__(self, principals: Sequence[str] = (), timeout_s: float = DEFAULT_TIMEOUT_S, *,
                 setup: Callable | None = None, on_backend: Callable[[int], None] | None = None):
        self.principals = principals
        self.timeout_s = timeout_s
        self.setup = setup
        self.on_backend = on_backend
        # TAP_UPLOAD's setup creates temporary tables, which a hot standby refuses: the primary.
        self.pool = connections.pool_for(self.pool is connections.BINARY, needs_primary=setup is not None)
        self.conn = None
        self._in_transaction = False
        self._failed = False
        self._ahead: FetchAhead | None = None

    # -- what a driver provides
    def _run(self, statement: bytes, rows: bool) -> list:
        """Send one message; its last statement's rows when ``rows``."""
        raise NotImplementedError

    def _literal(self, value: str) -> bytes:
        raise NotImplementedError

    def _backend_pid(self) -> int:
        raise NotImplementedError

    def _dead(self) -> bool:
        raise NotImplementedError

    def _cancel(self) -> None:
        self.conn.cancel()

    def first_message(self, sql: bytes, batch: int | None) -> list[bytes]:
        """The statements of the first round trip, after the transaction's opening and settings."""
        if batch is None:
            return [sql]
        return [b"DECLARE " + CURSOR + b" NO SCROLL CURSOR FOR " + sql,
                b"FETCH FORWARD %d FROM %s" % (batch, CURSOR)]

    # -- the protocol
    def execute(self, sql: str | bytes | PreparedCall, batch: int | None = None) -> list[tuple]:
        """Run ``sql`` (without parameters: the caller has bound them); return the first
        ``batch`` rows, or every row when ``batch`` is None (no server-side cursor). Raises
        :class:`QueryFailed` when the database refuses the query.

        A pooled connection that turns out dead is replaced once; nothing has been sent to the
        client yet and the message only reads.
        """
        sql = sql.encode() if isinstance(sql, str) else sql
        for attempt in (1, 2):
            try:
                self.conn, reused = self.pool.take()
            except DRIVER_ERRORS:
                raise DatabaseUnavailable(UNAVAILABLE) from None
            try:
                if self.on_backend is not None:
                    self.on_backend(self._backend_pid())
                if self.setup is not None:
                    self.setup(self.conn)
                # A whole result needs no transaction beyond its one message: the statements of a
                # message run in one implicit transaction, which ends with it. A cursor's does.
                self._in_transaction = batch is not None
                opening = b"BEGIN READ ONLY" if self._in_transaction else b"SET TRANSACTION READ ONLY"
                return self._first([opening, self._session_settings()] + self.first_message(sql, batch))
            except Exception as exc:
                if reused and attempt == 1 and self._dead():
                    self._discard()
                    continue
                self._failed = True
                if isinstance(exc, DRIVER_ERRORS) and (self._dead() or connection_lost(exc)):
                    raise DatabaseUnavailable(UNAVAILABLE) from None
                if isinstance(exc, DRIVER_ERRORS):
                    raise QueryFailed(describe(exc)) from None
                raise
        raise AssertionError("unreachable")

    def _first(self, statements: list[bytes]) -> list:
        return self._run(b"; ".join(statements), rows=True)

    def _session_settings(self) -> bytes:
        """Signed afresh for each query: the signature names this connection's server process.
        Signing costs a few microseconds (HMAC-SHA256 of a short message), less than a cache
        keyed by caller and process would save."""
        parameters = _transaction_parameters(self.principals, self.timeout_s, self._backend_pid())
        return TRANSACTION_SETTINGS.encode() % tuple(map(self._literal, parameters))

    def fetch(self, n: int) -> list[tuple]:
        """The next ``n`` rows of the server-side cursor (fewer at its end)."""
        try:
            return self._run(b"FETCH FORWARD %d FROM %s" % (n, CURSOR), rows=True)
        except Exception:
            self._failed = True
            raise

    def rest(self, batch: int, limit: int | None = None) -> Iterator[list[tuple]]:
        """The batches after the first, fetched ahead; at most ``limit`` rows more."""
        self._ahead = FetchAhead(self.fetch, batch, limit, cancel=self._cancel)
        return iter(self._ahead)

    def close(self) -> None:
        """End the transaction (and reset the session after an upload or an error); the
        connection goes back to the pool."""
        if self._ahead is not None:
            self._ahead.stop()  # a FETCH it cancels fails, and counts as an error
            self._ahead = None
        if self.conn is None:
            return
        try:
            if self._in_transaction:
                self._run(b"ROLLBACK", rows=False)
            if self._failed or self.setup is not None:
                self._reset()
        except Exception:  # noqa: BLE001  (a broken connection is not reused; nothing else to undo)
            self._discard()
            return
        self.pool.give(self.conn)
        self.conn = None

    def _reset(self) -> None:
        """The session as a new connection has it. DISCARD ALL may not share a message with
        other statements (it refuses to run in a transaction block)."""
        self._run(b"DISCARD ALL", rows=False)
        self._run(connections.CONNECTION_SETTINGS.encode() % self._literal(get_settings().public_url),
                  rows=False)

    def _discard(self) -> None:
        try:
            self.conn.close()
        finally:
            self.conn = None


class TextCursor(ResultCursor):
    """psycopg2: results as text, which every type has (pgsphere's spoint, scircle, spoly).

    Whole results run as prepared statements where they can (:mod:`vo_services.results.statements`): a
    :class:`~vo_services.results.statements.PreparedCall`, or a query text the connection has run
    often enough. A cursor cannot be declared over EXECUTE, so results read in batches do not.
    """

    pool = connections.TEXT

    def first_message(self, sql: bytes | PreparedCall, batch: int | None) -> list[bytes]:
        if batch is None:
            return self.conn.statements.statements(sql, repeatable=self.setup is None)
        if isinstance(sql, PreparedCall):
            raise ValueError("a prepared statement's result is read whole")
        return super().first_message(sql, batch)

    def _first(self, statements: list[bytes]) -> list:
        rows = super()._first(statements)
        self.conn.statements.succeeded()
        return rows

    def _reset(self) -> None:
        self.conn.statements.discarded()  # first: if the reset fails, the connection is closed
        super()._reset()

    def _run(self, statement: bytes, rows: bool) -> list:
        with self.conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall() if rows else []

    def _literal(self, value: str) -> bytes:
        from psycopg2.extensions import QuotedString

        quoted = QuotedString(value)
        quoted.prepare(self.conn)
        return quoted.getquoted()

    def _backend_pid(self) -> int:
        return self.conn.get_backend_pid()

    def _dead(self) -> bool:
        return self.conn is None or self.conn.closed != 0


class BinaryCursor(ResultCursor):
    """psycopg 3 with binary FETCH: numbers and text decode without parsing.

    Binary results need the extended protocol, which takes one statement per message, so the
    session and the DECLARE go first (simple protocol, one message) and the first FETCH after.
    """

    pool = connections.BINARY

    def first_message(self, sql: bytes, batch: int | None) -> list[bytes]:
        return [b"DECLARE " + CURSOR + b" NO SCROLL CURSOR FOR " + sql]

    def _first(self, statements: list[bytes]) -> list:
        self._run(b"; ".join(statements), rows=False)
        return self.fetch(self._batch)

    def execute(self, sql: str | bytes, batch: int | None = None) -> list[tuple]:
        if batch is None:
            raise ValueError("a binary result is read from a server-side cursor, in batches")
        self._batch = batch
        return super().execute(sql, batch)

    def _run(self, statement: bytes, rows: bool) -> list:
        # Only FETCH statements' rows are read, and those in binary (extended protocol); the rest
        # goes by the simple protocol, which allows several statements in one message.
        with self.conn.cursor(binary=rows) as cur:
            cur.execute(statement, prepare=False)
            return cur.fetchall() if rows else []

    def _literal(self, value: str) -> bytes:
        from psycopg import sql

        return sql.Literal(value).as_bytes(self.conn)

    def _backend_pid(self) -> int:
        return self.conn.info.backend_pid

    def _cancel(self) -> None:
        self.conn.cancel_safe(timeout=5)

    def _dead(self) -> bool:
        return self.conn is None or self.conn.broken or self.conn.closed
