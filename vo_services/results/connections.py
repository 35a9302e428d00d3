"""Connections to the query role for result paths, kept per process and reused without a ping.

SQLAlchemy's pool (``pool_pre_ping``) spends a round trip on every checkout to find out whether
the connection still lives. A result path does not need to know in advance: its first message is
read-only and nothing has reached the client when it fails, so a connection found dead then is
simply replaced and the message sent again (:meth:`vo_services.results.query.ResultCursor.execute`).

Users' queries go to the query servers (``LICK_QUERY_DB_HOSTS``: read replicas, else the
primary); a query with TAP_UPLOAD tables goes to the primary, since a hot standby refuses the
temporary tables it needs (:func:`pool_for`).

The connections are in autocommit mode: a result path opens its own READ ONLY transaction in
the same message as the transaction's settings and the query
(:class:`vo_services.results.query.ResultCursor`).
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import psycopg2.extensions

from vo_services.results.statements import Statements

KEEP_IDLE = 4  # a sync worker needs one; async executor threads and tests a few more


class Pool:
    """Idle connections made by ``connect``; a process forked from the owner starts empty."""

    def __init__(self, connect: Callable[[], Any], keep: int = KEEP_IDLE):
        self._connect = connect
        self._keep = keep
        self._idle: list = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def take(self) -> tuple[Any, bool]:
        """(connection, whether it was used before: it may have died since)."""
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's sockets are not ours to use
                self._idle, self._pid = [], os.getpid()
            if self._idle:
                return self._idle.pop(), True
        return self._connect(), False

    def give(self, conn) -> None:
        """Back for reuse; the caller has ended its transaction."""
        with self._lock:
            if self._pid == os.getpid() and len(self._idle) < self._keep:
                self._idle.append(conn)
                return
        conn.close()

    def clear(self) -> None:
        """Close every idle connection (tests; before a database is dropped)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            try:
                conn.close()
            except Exception:  # noqa: BLE001  (closing a dead connection may complain; it is gone)
                pass


class TextConnection(psycopg2.extensions.connection):
    """A psycopg2 connection that remembers the statements prepared on it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.statements = Statements()


# What is the same for every query of the process is set once per connection rather than per
# transaction: UTC, so that timestamps (cast to timestamp without time zone in the published
# views) come out in UTC as DALI 1.1 §3.3.3 wants; the public URL (the views' access_url); and
# generic plans for prepared statements (vo_services.results.statements: the only ones with parameters
# are those whose plan does not depend on the values).
CONNECTION_SETTINGS = ("SELECT set_config('TimeZone', 'UTC', false), "
                       "set_config('lick.public_url', %s, false), "
                       "set_config('plan_cache_mode', 'force_generic_plan', false)")


def query_servers_dsn() -> str:
    """The query role on the query servers (replicas when configured; libpq tries them in turn)."""
    from archive.config import get_settings

    return get_settings().query_dsn("query")


def primary_dsn() -> str:
    """The query role on the primary: for what a hot standby cannot do (temporary tables)."""
    from archive.config import get_settings

    return get_settings().dsn("query")


def _text_connection(dsn: Callable[[], str]) -> Callable[[], TextConnection]:
    def connect() -> TextConnection:
        from archive.config import get_settings

        conn = psycopg2.connect(dsn(), connection_factory=TextConnection)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(CONNECTION_SETTINGS, (get_settings().public_url,))
        return conn
    return connect


def _binary_connection(dsn: Callable[[], str]) -> Callable[[], Any]:
    def connect():
        import psycopg

        from archive.config import get_settings

        conn = psycopg.connect(dsn(), autocommit=True)
        conn.execute(CONNECTION_SETTINGS, (get_settings().public_url,))
        return conn
    return connect


TEXT = Pool(_text_connection(query_servers_dsn))  # psycopg2: text results, pgsphere types as pgsphere prints them
BINARY = Pool(_binary_connection(query_servers_dsn))  # psycopg 3: binary results, about twice as fast to decode
# Only used when replicas answer the queries; without replicas, TEXT and BINARY are the primary's.
TEXT_ON_PRIMARY = Pool(_text_connection(primary_dsn))
BINARY_ON_PRIMARY = Pool(_binary_connection(primary_dsn))


def pool_for(binary: bool, needs_primary: bool) -> Pool:
    """The pool of a query: on the query servers, unless it ``needs_primary`` (it creates
    temporary tables, which a hot standby refuses) and those are replicas."""
    from archive.config import get_settings

    if needs_primary and get_settings().has_replicas:
        return BINARY_ON_PRIMARY if binary else TEXT_ON_PRIMARY
    return BINARY if binary else TEXT


def cancel_on_query_servers(pid: int) -> None:
    """pg_cancel_backend(``pid``) as the owner role on every server a user's query may run on
    (the replicas, and the primary for uploads), signalling only the query role's sessions.

    The web process that aborts a job does not know which server its worker's query went to;
    servers on one machine share its process ids, and on several machines a signal to another
    server's process of the same id is avoided as far as the role allows (docs/deployment.md).
    A server that does not answer has no query to cancel."""
    from archive.config import get_settings

    settings = get_settings()
    servers = dict.fromkeys(settings.query_hosts() + ((settings.db_host, settings.db_port),))
    for server in servers:
        try:
            conn = psycopg2.connect(settings.query_dsn("owner", server))
        except psycopg2.OperationalError:
            continue
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE pid = %s AND usename = %s",
                            (pid, settings.query_role))
        finally:
            conn.close()
