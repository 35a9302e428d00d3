"""PostgreSQL advisory locks held for one transaction: counting and then acting as one step.

A check such as "fewer than N failures" or "fewer than N jobs in flight" followed by an insert or
update is a race when requests run in parallel (gunicorn threads, several workers or hosts): each
sees the same count and each acts. Taking a lock named after what is counted first, inside the
transaction that acts, makes the next caller wait until this one has committed, and its count
then includes this one's row. The lock is released at commit or rollback; nothing to clean up.
"""
from __future__ import annotations

from django.db import connection

_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"


def lock_for_transaction(key: str) -> None:
    """Wait for and hold the lock named ``key`` until the current transaction ends (call it
    inside ``transaction.atomic()``; in autocommit it would be released at once)."""
    with connection.cursor() as cur:
        cur.execute(_LOCK, [key])
