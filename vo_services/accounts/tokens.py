"""Bearer tokens: made once, shown once, stored only as a SHA-256 digest.

A token is 256 random bits, so a plain (unsalted, fast) digest is as safe as a password hash
and lets each request find its token with one indexed lookup.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from vo_services.accounts.models import ApiToken

PREFIX = "lick_"
LOGIN_TOKEN_LIFETIME = timedelta(hours=24)
LAST_USED_RESOLUTION = timedelta(minutes=5)  # no write on every request


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


def user_for(token: str) -> AbstractBaseUser | None:
    """The active user whose live token this is, or None."""
    now = timezone.now()
    record = (ApiToken.objects.select_related("user")
              .filter(digest=digest(token), revoked_at__isnull=True, user__is_active=True).first())
    if record is None or (record.expires_at is not None and record.expires_at <= now):
        return None
    if record.last_used_at is None or now - record.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    return record.user


def revoke(record: ApiToken) -> None:
    if record.revoked_at is None:
        record.revoked_at = timezone.now()
        record.save(update_fields=["revoked_at"])


def revoke_token(token: str) -> None:
    """Revoke a token given by value (log-out with a Bearer token)."""
    ApiToken.objects.filter(digest=digest(token), revoked_at__isnull=True).update(revoked_at=timezone.now())
