"""Log-in throttling: too many failed log-ins for a user name or from an address, and we refuse
further attempts for a while (429 with Retry-After) without even checking the password.

Failures are rows in the database, so every gunicorn worker sees the same count.
"""
from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from vo_services.accounts.models import LoginFailure

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


def record_failure(username: str, client_ip: str | None) -> None:
    LoginFailure.objects.filter(at__lt=timezone.now() - WINDOW).delete()
    LoginFailure.objects.create(username=username[:150], client_ip=client_ip)
