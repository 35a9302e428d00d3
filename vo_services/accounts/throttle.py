"""Log-in throttling: too many failed log-ins for a user name or from an address, and we refuse
further attempts for a while (429 with Retry-After) without even checking the password.

Failures are rows in the database, so every gunicorn worker sees the same count. Counting and
checking must be one step, or N guesses fired at once would all see "9 failures so far" and all
be checked: each attempt therefore first takes a slot (:func:`reserve`), counted as a failure,
under a PostgreSQL advisory lock per user name and per address, and gives it back
(:func:`forgive`) only when the password was right. At most the limit's worth of passwords are
ever checked within the window, however many workers and requests race.
"""
from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from vo_services.accounts.models import LoginFailure
from vo_services.advisory import lock_for_transaction

WINDOW = timedelta(minutes=15)
MAX_PER_USERNAME = 10
MAX_PER_ADDRESS = 50


class Throttled(Exception):
    def __init__(self, retry_after_s: int):
        super().__init__(f"too many failed log-ins; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


def check(username: str, client_ip: str | None) -> None:
    """Raise :class:`Throttled` when ``username`` or ``client_ip`` has failed too often lately."""
    since = timezone.now() - WINDOW
    recent = LoginFailure.objects.filter(at__gt=since)
    for condition, limit in ((Q(username=username), MAX_PER_USERNAME), (Q(client_ip=client_ip), MAX_PER_ADDRESS)):
        if client_ip is None and limit == MAX_PER_ADDRESS:
            continue
        failures = recent.filter(condition).order_by("-at").values_list("at", flat=True)[:limit]
        if len(failures) >= limit:
            oldest = failures[limit - 1]
            raise Throttled(max(1, int((oldest + WINDOW - timezone.now()).total_seconds()) + 1))


def reserve(username: str, client_ip: str | None) -> int:
    """Count one log-in attempt as failed before its password is checked, or raise
    :class:`Throttled`; returns the slot to :func:`forgive` if the password turns out right.

    The locks are always taken in the same order (user name, then address), so that two
    attempts never wait for each other's second lock.
    """
    username = username[:150]
    with transaction.atomic():
        # One advisory lock per user name and per address (vo_services/advisory.py).
        lock_for_transaction(f"lick.login.user:{username}")
        if client_ip is not None:
            lock_for_transaction(f"lick.login.address:{client_ip}")
        check(username, client_ip)
        slot = LoginFailure.objects.create(username=username, client_ip=client_ip)
    LoginFailure.objects.filter(at__lt=timezone.now() - WINDOW).delete()
    return slot.pk


def forgive(slot: int) -> None:
    """The attempt of ``slot`` gave the right password: it was no failure."""
    LoginFailure.objects.filter(pk=slot).delete()
