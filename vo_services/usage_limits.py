"""How much of the service one caller may take at once, declared and enforced from here.

The query, upload, output and time limits of TAP are in :mod:`vo_services.tap.limits`; this
module holds the ones about callers rather than queries: async jobs in flight per user and per
anonymous address, and the request rate per address on the expensive endpoints. Each is set by
a ``LICK_*`` variable (README, docs/deployment.md); 0 turns it off.

The rate is counted in Redis (the Celery broker, under its own key prefix), so that it holds
across gunicorn workers and hosts; a fixed window per address is enough to stop one address
from flooding the expensive endpoints, and costs one round trip per request.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from archive.config import configured_int as configured, get_settings
from vo_services.advisory import lock_for_transaction

log = logging.getLogger(__name__)

#: Async jobs QUEUED or EXECUTING at once (UWS 1.1 §2.2.3: a service may refuse to run a job).
JOBS_PER_USER = configured("LICK_ASYNC_JOBS_PER_USER", 10)
JOBS_PER_ADDRESS = configured("LICK_ASYNC_JOBS_PER_ADDRESS", 5)  # anonymous jobs, per client address
#: Requests per address and window on the expensive endpoints.
RATE_REQUESTS = configured("LICK_RATE_LIMIT", 120)
RATE_WINDOW_S = configured("LICK_RATE_WINDOW", 60)
RATE_KEY_PREFIX = "lick:rate:"
#: The endpoints that run queries or start work; a request to any other path is not counted.
EXPENSIVE = {"/tap/sync": None, "/scs": None, "/sia/query": None, "/datalink/links": None,
             "/tap/async": "POST", "/datalink/bundles": "POST"}  # path -> the method counted (None: all)


def client_address(request: HttpRequest) -> str | None:
    from vo_services.accounts.authentication import client_ip

    return client_ip(request)


def too_many_jobs(owner: str | None, address: str | None) -> str | None:
    """Why one more job may not run now, naming the limit; None when it may."""
    from vo_services.tap.models import ACTIVE_PHASES, Job

    if owner is not None:
        limit, mine, whose = JOBS_PER_USER, Job.objects.filter(owner=owner), f"user {owner}"
    else:
        limit, mine, whose = JOBS_PER_ADDRESS, Job.objects.filter(owner=None, origin=address), "an anonymous address"
    if limit <= 0 or address is None and owner is None:
        return None
    if mine.filter(phase__in=ACTIVE_PHASES).count() < limit:
        return None
    variable = "LICK_ASYNC_JOBS_PER_USER" if owner is not None else "LICK_ASYNC_JOBS_PER_ADDRESS"
    return (f"LimitExceeded: {whose} may have at most {limit} async jobs QUEUED or EXECUTING "
            f"({variable}); wait for one to finish or abort one")


@contextmanager
def job_admission(owner: str | None, address: str | None) -> Iterator[str | None]:
    """A transaction in which one more job of ``owner`` (or of the anonymous ``address``) may be
    queued: yields why not (:func:`too_many_jobs`), or None, and the caller queues the job inside.

    Parallel submissions of one user (or address) pass through here one at a time, under an
    advisory lock named after them (:mod:`vo_services.advisory`): the next count then sees the
    job this one queued, and no burst of requests gets past the limit by counting at once.
    """
    whose = f"lick.jobs.user:{owner}" if owner is not None else f"lick.jobs.address:{address}"
    with transaction.atomic():
        lock_for_transaction(whose)
        yield too_many_jobs(owner, address)


@lru_cache(maxsize=1)
def _redis():
    import redis

    return redis.Redis.from_url(get_settings().redis_url, socket_timeout=1, socket_connect_timeout=1)


def rate_wait(address: str, now: float | None = None) -> int:
    """Seconds the address must wait before its next expensive request; 0 if it may go now.

    If Redis cannot be reached the request goes through: the rate limit protects the service,
    and refusing everyone would be the outage it is there to prevent.
    """
    if RATE_REQUESTS <= 0:
        return 0
    now = time.time() if now is None else now
    window = int(now // RATE_WINDOW_S)
    key = f"{RATE_KEY_PREFIX}{get_settings().db_name}:{address}:{window}"
    try:
        pipe = _redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, RATE_WINDOW_S + 1)
        count = pipe.execute()[0]
    except Exception as exc:  # noqa: BLE001  (any Redis failure: count nothing)
        log.warning("rate limit not counted: Redis unreachable (%s)", type(exc).__name__)
        return 0
    if count <= RATE_REQUESTS:
        return 0
    return max(1, int((window + 1) * RATE_WINDOW_S - now + 0.999))


class RateLimitMiddleware:
    """429 with Retry-After (RFC 6585 §4) and a VOTable error (DALI 1.1 §4.2) for an address
    over :data:`RATE_REQUESTS` per :data:`RATE_WINDOW_S` on the expensive endpoints."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info.rstrip("/")
        if path in EXPENSIVE and EXPENSIVE[path] in (None, request.method):
            address = client_address(request)
            wait = rate_wait(address) if address else 0
            if wait:
                from vo_services.errors import error_response

                response = error_response(
                    f"LimitExceeded: at most {RATE_REQUESTS} requests per {RATE_WINDOW_S} s from one "
                    f"address to {path} and the other query endpoints (LICK_RATE_LIMIT, "
                    f"LICK_RATE_WINDOW); retry after {wait} s", 429)
                response["Retry-After"] = str(wait)
                return response
        return self.get_response(request)
