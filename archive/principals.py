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
"""
from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Sequence

KEY_BYTES = 64  # SHA-256's block size: HMAC then uses the key as it is (RFC 2104 §2)
IPAD, OPAD = 0x36, 0x5C
LIFETIME_S = 300
"""How long a signed value stays good after signing, checked against the start of the transaction
that uses it: covers clocks that disagree between the web host and the database server, while a
value that leaks (a log, a core dump) opens nothing for long, and only on its own session."""


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


_KEYS: dict[str, bytes] = {}
_LOCK = threading.Lock()


def principal_key() -> bytes:
    """The secret of the configured database, read once per process as the owner role."""
    import psycopg2

    from archive.config import get_settings

    settings = get_settings()
    database = f"{settings.db_host}:{settings.db_port}/{settings.db_name}"
    key = _KEYS.get(database)
    if key is None:
        with _LOCK:
            if (key := _KEYS.get(database)) is None:
                conn = psycopg2.connect(settings.dsn("owner"))
                try:
                    with conn.cursor() as cur:
                        cur.execute("SELECT key FROM lick.principal_key")
                        key = _KEYS[database] = bytes(cur.fetchone()[0])
                finally:
                    conn.close()
    return key


def signed_principals(principals: Sequence[str], backend_pid: int) -> str:
    """What a path sets ``lick.principals`` to, for one transaction on session ``backend_pid``.
    Anonymous callers need no signature: the empty setting means no principals."""
    if not principals:
        return ""
    return sign(principal_key(), principals, backend_pid, int(time.time()) + LIFETIME_S)


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
