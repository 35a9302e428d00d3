"""The caller's principals as the database trusts them: signed, bound to one session, short-lived.

The published views filter by the principals in the setting ``lick.principals``
(:mod:`archive.visibility`). Any SQL that runs as the query role may change that setting, so
its value must be something the query role cannot make: a keyed MAC (HMAC-SHA256, RFC 2104)
over the principals, the server process (backend pid) they are meant for and an expiry::

    <pid>:<expiry>:<mac, 64 hex digits>:<principals as a text[] literal>

The MAC covers ``<pid>:<expiry>:<principals>``; pid and expiry are digits, so the fields cannot
run into each other. ``lick.current_principals()`` (:data:`CURRENT_PRINCIPALS_SQL`), a SECURITY
DEFINER function of the owner role, checks the MAC against the secret in ``lick.principal_key``
(readable by the owner role only), the pid against its own session's and the expiry against the
transaction's start, and answers the anonymous ``{}`` for anything that does not verify. A value
copied from another session, an old one, or a list changed under its MAC therefore opens nothing.

The key is read once per process and database as the owner role, which the services have anyway
(Django's role); every path that sets the principals signs through :func:`signed_principals`.

The expiry is signed in the *database server's* time, not this host's: with the key, and again
every :data:`CLOCK_REFRESH_S` seconds, the database's clock is read (:class:`DatabaseClock`) and
followed with this host's monotonic clock in between. A host whose clock is minutes off the
database's therefore still signs values that live :data:`LIFETIME_S` seconds, neither expired on
arrival (its logged-in users would silently see only public data) nor living longer; the skew is
logged as an error (beyond :data:`SKEW_ERROR_S`), since other things still compare this host's
clock with other hosts' (docs/multi_host.md, "Clocks").
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)

KEY_BYTES = 64  # SHA-256's block size: HMAC then uses the key as it is (RFC 2104 §2)
IPAD, OPAD = 0x36, 0x5C
LIFETIME_S = 300
"""How long a signed value stays good after signing, checked against the start of the transaction
that uses it: covers clocks that disagree between the web host and the database server, while a
value that leaks (a log, a core dump) opens nothing for long, and only on its own session."""
CLOCK_REFRESH_S = 60.0
"""How often the database's clock is read again: the monotonic clock that fills the gaps drifts
by parts per million, and a skew that appears (a host's clock set by hand) is logged within this."""
SKEW_ERROR_S = 30.0
"""A skew beyond this is logged as an error: the principals are still right, but job heartbeats
(``LICK_JOB_STUCK_AFTER``), rate windows and UWS times on this host are off by as much."""


def padded_keys(key: bytes) -> tuple[bytes, bytes]:
    """The key XOR ipad and XOR opad, stored beside it so that SQL computes HMAC with sha256()."""
    return bytes(b ^ IPAD for b in key), bytes(b ^ OPAD for b in key)


def array_literal(values: Sequence[str]) -> str:
    """PostgreSQL text[] literal, each element quoted so no name can break out of it."""
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"


def sign(key: bytes, principals: Sequence[str], backend_pid: int, expiry: int) -> str:
    """The value of ``lick.principals`` for ``principals`` on session ``backend_pid``."""
    literal = array_literal(principals)
    message = f"{backend_pid}:{expiry}:{literal}".encode()
    mac = hmac.new(key, message, hashlib.sha256).hexdigest()
    return f"{backend_pid}:{expiry}:{mac}:{literal}"


@dataclass(frozen=True)
class DatabaseClock:
    """The database server's clock as read once, followed since with this host's monotonic clock."""

    database_epoch: float  # the database's clock_timestamp(), as a Unix time ...
    monotonic: float  # ... at this moment of time.monotonic() (the middle of the round trip)
    offset_s: float  # the database's clock less this host's, then

    def now(self) -> float:
        """The database's time now, as a Unix time."""
        return self.database_epoch + (time.monotonic() - self.monotonic)

    def stale(self) -> bool:
        return time.monotonic() - self.monotonic > CLOCK_REFRESH_S


DATABASE_CLOCK_SQL = "SELECT extract(epoch FROM clock_timestamp())::float8"


def read_database_clock(cur) -> DatabaseClock:
    """Read the database's clock on ``cur`` (any role may). Only the query's round trip is
    timed, not the connection's set-up: the clock is taken at its middle."""
    before_wall, before = time.time(), time.monotonic()
    cur.execute(DATABASE_CLOCK_SQL)
    database_epoch = float(cur.fetchone()[0])
    after = time.monotonic()
    middle = (before + after) / 2
    clock = DatabaseClock(database_epoch, middle, database_epoch - (before_wall + (middle - before)))
    if abs(clock.offset_s) > SKEW_ERROR_S:
        log.error("this host's clock is %.0f s %s the database server's: the caller's principals are "
                  "signed in the database's time and stay right, but job heartbeats, rate-limit windows "
                  "and UWS times here are off by as much; run NTP on this host (docs/multi_host.md)",
                  abs(clock.offset_s), "behind" if clock.offset_s > 0 else "ahead of")
    return clock


_KEYS: dict[str, bytes] = {}
_CLOCKS: dict[str, DatabaseClock] = {}
_LOCK = threading.Lock()


def _database() -> str:
    from archive.config import get_settings

    settings = get_settings()
    return f"{settings.db_host}:{settings.db_port}/{settings.db_name}"


def _read_key_and_clock(database: str, with_key: bool) -> None:
    """Read the key (if asked) and the clock as the owner role; the caller holds ``_LOCK``."""
    import psycopg2

    from archive.config import get_settings

    conn = psycopg2.connect(get_settings().dsn("owner"), connect_timeout=10)
    try:
        with conn.cursor() as cur:
            if with_key:
                cur.execute("SELECT key FROM lick.principal_key")
                _KEYS[database] = bytes(cur.fetchone()[0])
            _CLOCKS[database] = read_database_clock(cur)
    finally:
        conn.close()


def principal_key() -> bytes:
    """The secret of the configured database, read once per process as the owner role."""
    database = _database()
    key = _KEYS.get(database)
    if key is None:
        with _LOCK:
            if (key := _KEYS.get(database)) is None:
                _read_key_and_clock(database, with_key=True)
                key = _KEYS[database]
    return key


def database_clock() -> DatabaseClock:
    """The configured database's clock, read with the key and again when stale.

    One thread reads it again while the others go on with the stale one (still right to the
    monotonic clock's drift); should the database not answer, the stale one stays in use.
    """
    database = _database()
    clock = _CLOCKS.get(database)
    if clock is None:
        principal_key()
        return _CLOCKS[database]
    if clock.stale() and _LOCK.acquire(blocking=False):
        try:
            if _CLOCKS[database] is clock:
                _read_key_and_clock(database, with_key=False)
        except Exception as exc:  # noqa: BLE001 - psycopg2's errors; the stale clock serves meanwhile
            log.warning("could not read the database's clock again (%s); keeping the last reading", exc)
            _CLOCKS[database] = DatabaseClock(clock.now(), time.monotonic(), clock.offset_s)  # retry later
        finally:
            _LOCK.release()
    return _CLOCKS[database]


def signed_principals(principals: Sequence[str], backend_pid: int) -> str:
    """What a path sets ``lick.principals`` to, for one transaction on session ``backend_pid``.
    Anonymous callers need no signature: the empty setting means no principals. The expiry is in
    the database's time, which the check uses (:func:`database_clock`)."""
    if not principals:
        return ""
    key = principal_key()
    return sign(key, principals, backend_pid, int(database_clock().now()) + LIFETIME_S)


# Verified once per query: the access rule calls it in InitPlans (archive.visibility.VISIBLE_ROWS).
# PARALLEL RESTRICTED, not SAFE: it reads pg_backend_pid() (itself restricted), which in a parallel
# worker names the worker, not the session the value was signed for. An InitPlan runs in the
# leader and hands its value to the workers, so parallel plans stay possible.
# Parsed with split_part, not a regular expression: PostgreSQL's engine expands bounded repeats
# such as {64}, which made one call cost half a millisecond. Nothing is cast before the MAC
# verifies. The MACs (as hex) are compared through a further digest, so that the comparison's
# time tells nothing about the expected MAC.
CURRENT_PRINCIPALS_SQL = r"""
CREATE OR REPLACE FUNCTION lick.current_principals() RETURNS text[]
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    setting text := current_setting('lick.principals', true);
    pid text;
    expiry text;
    mac text;
    principals text;
    inner_key bytea;
    outer_key bytea;
BEGIN
    IF setting IS NULL OR setting = '' THEN
        RETURN '{}';
    END IF;
    pid := split_part(setting, ':', 1);
    expiry := split_part(setting, ':', 2);
    mac := split_part(setting, ':', 3);
    principals := substr(setting, length(pid) + length(expiry) + length(mac) + 4);
    IF pid <> pg_backend_pid()::text OR left(principals, 1) <> '{' THEN
        RETURN '{}';
    END IF;
    SELECT k.ipad_key, k.opad_key INTO inner_key, outer_key FROM lick.principal_key AS k;
    IF inner_key IS NULL OR sha256(convert_to(mac, 'UTF8')) <> sha256(convert_to(encode(sha256(
           outer_key || sha256(inner_key || convert_to(pid || ':' || expiry || ':' || principals, 'UTF8'))),
           'hex'), 'UTF8')) THEN
        RETURN '{}';
    END IF;
    IF expiry::bigint < extract(epoch FROM now()) THEN
        RETURN '{}';
    END IF;
    RETURN principals::text[];
END
$$
"""
