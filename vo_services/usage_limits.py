"""How much of the service one caller may take at once, declared and enforced from here.

The query, upload, output and time limits of TAP are in :mod:`vo_services.tap.limits`, and the
async jobs a caller may have in flight in :mod:`vo_services.tap.admission`; this module holds
the request rate per address on the expensive endpoints. Each is set by a ``LICK_*`` variable
(README, docs/deployment.md); 0 turns it off.

The rate is counted in Redis (the Celery broker, under its own key prefix), so that it holds
across gunicorn workers and hosts; a fixed window per address is enough to stop one address
from flooding the expensive endpoints, and costs one round trip per request.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import lru_cache

from django.http import HttpRequest, HttpResponse

from archive.config import configured_int as configured, get_settings

log = logging.getLogger(__name__)

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


def page_rate_limited(request: HttpRequest) -> str | None:
    """For the portal's pages that run queries (the ADQL page, search results): the same
    per-address limit as /tap/sync, said in words for a person; None when the query may run."""
    address = client_address(request)
    wait = rate_wait(address) if address else 0
    return f"Too many queries from your address just now; try again in {wait} s." if wait else None


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
