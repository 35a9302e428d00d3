"""Bearer tokens: made once, shown once, stored only as a SHA-256 digest.

A token is 256 random bits, so a plain (unsalted, fast) digest is as safe as a password hash
and lets each request find its token with one indexed lookup. What a lookup found is kept for
:data:`RECHECK_S` seconds in the worker process, so that a client's stream of requests costs one
query per token every few seconds (bench/bench_auth.py); a revocation applies at once in the
process that revokes, and within that time in the others, as do membership changes.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.utils import timezone

from vo_services.accounts.models import ApiToken
from vo_services.identity import IDENTITY_COLUMNS, Identity

PREFIX = "lick_"
LOGIN_TOKEN_LIFETIME = timedelta(hours=24)
LAST_USED_RESOLUTION = timedelta(minutes=5)  # no write on every request
RECHECK_S = 10.0
_recent: dict[str, tuple[Identity, float]] = {}  # digest -> (identity, monotonic deadline)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(user: AbstractBaseUser, name: str, kind: str = ApiToken.Kind.PERSONAL,
          expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token of ``user``: its record, and the token itself, which is never stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    record = ApiToken.objects.create(user=user, name=name[:100], kind=kind, digest=digest(token),
                                     prefix=token[:len(PREFIX) + 6], expires_at=expires_at)
    return record, token


def issue_login_token(user: AbstractBaseUser) -> str:
    return issue(user, "ivoa_bearer log-in", ApiToken.Kind.LOGIN, timezone.now() + LOGIN_TOKEN_LIFETIME)[1]


_LOOKUP = f"""
SELECT t.id, t.expires_at, t.last_used_at, {IDENTITY_COLUMNS}
FROM accounts_apitoken t JOIN auth_user u ON u.id = t.user_id
WHERE t.digest = %s AND t.revoked_at IS NULL AND u.is_active
"""


def identity_for(token: str) -> Identity | None:
    """Whose live token this is (an active user), or None."""
    key = digest(token)
    recent = _recent.get(key)
    if recent is not None and recent[1] > time.monotonic():
        return recent[0]
    now = timezone.now()
    with connection.cursor() as cur:
        cur.execute(_LOOKUP, (key,))
        row = cur.fetchone()
    if row is None:
        return None
    token_id, expires_at, last_used_at = row[:3]
    if expires_at is not None and expires_at <= now:
        return None
    if last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    identity = Identity.from_row(row[3:])
    keep = RECHECK_S if expires_at is None else min(RECHECK_S, (expires_at - now).total_seconds())
    if len(_recent) > 10_000:
        _recent.clear()
    _recent[key] = (identity, time.monotonic() + keep)
    return identity


def revoke(record: ApiToken) -> None:
    _recent.pop(record.digest, None)
    if record.revoked_at is None:
        record.revoked_at = timezone.now()
        record.save(update_fields=["revoked_at"])


def revoke_token(token: str) -> None:
    """Revoke a token given by value (log-out with a Bearer token)."""
    _recent.pop(digest(token), None)
    ApiToken.objects.filter(digest=digest(token), revoked_at__isnull=True).update(revoked_at=timezone.now())
