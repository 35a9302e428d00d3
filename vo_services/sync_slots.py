"""Threads kept for cheap requests: a web process refuses one more synchronous query (TAP sync, the
portal's search and ADQL pages: :data:`QUERY_PATHS`) while it runs ``LICK_SYNC_SLOTS`` of them
(by default all its threads but one) and one of those is a long one.

A gunicorn worker serves requests on a fixed number of threads (``vo_services/gunicorn_config.py``).
A synchronous TAP query may hold its thread until ``LICK_SYNC_TIMEOUT``: with as many heavy queries
as threads, a process answers nothing else, not even a cone search of 2 ms, until one of them
ends. Measured with ``bench/bench_load.py`` (2 workers x 4 threads, 1,000,000 rows): 24 clients of
the cone search beside 8 of heavy TAP queries took the cone's p50 from 77 ms to 3.5 s and the
service from 219 to 8 requests/s. So while heavy sync queries run, they get at most all threads
but one of a process; one more is answered at once with 503 and Retry-After (RFC 9110 §15.6.4; it
cannot wait for a slot without holding a thread, which is what this prevents), and the cone
search, DataLink, downloads and the job endpoints always find a thread. Quick queries are never
refused, however many arrive at once: which query is heavy is known only once it runs long
(:data:`LONG_AFTER_S`). Async jobs run on the Celery workers and are not counted.
"""
from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from archive.config import configured_int

#: Requests that run a caller's query in the web thread: TAP sync, and the portal's search and
#: ADQL pages (which run theirs through the same result engine).
QUERY_PATHS = frozenset({"/tap/sync", "/search", "/query"})
RETRY_AFTER_S = 5
#: A sync query running this long is a heavy one; quick ones end within milliseconds.
LONG_AFTER_S = 2.0


def slots() -> int:
    """``LICK_SYNC_SLOTS``, or the worker's threads (``LICK_WEB_THREADS``, set by the gunicorn
    configuration in each worker) less one; at least one."""
    configured = configured_int("LICK_SYNC_SLOTS", 0)
    if configured > 0:
        return configured
    return max(1, int(os.environ.get("LICK_WEB_THREADS", "4")) - 1)


class _Once:
    """``release`` called once, however many of the ways below end the response."""

    def __init__(self, release: Callable[[], None]):
        self._release, self._lock = release, threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            release, self._release = self._release, None
        if release is not None:
            release()


def _release_on_close(response: HttpResponse, release: _Once) -> None:
    """Give the slot back when the WSGI server closes the response (PEP 3333: always, also when
    the client goes away): a streamed result holds its thread until its last byte is sent, not
    only while the view runs. (The closure holds the response weakly: no reference cycle.)"""
    own = vars(response).get("close")  # a close() set on the instance already, kept as it is
    response_ref = weakref.ref(response)

    def close() -> None:
        try:
            if own is not None:
                own()
            elif (alive := response_ref()) is not None:
                type(alive).close(alive)
        finally:
            release()

    response.close = close


class SyncQuerySlots:
    """Middleware: a TAP sync request runs, or gets a 503 at once when this process already runs
    :func:`slots` of them and at least one has been running for :data:`LONG_AFTER_S` (a heavy
    one: a burst of quick queries is never refused, they free their threads in milliseconds).

    A request counts until the WSGI server closes its response, or until its thread starts its
    next request: a thread serves one request at a time, so by then that response is over,
    closed or not (Django's test client never closes a streamed response it does not read)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.size = slots()
        self.lock = threading.Lock()
        self.running: dict[int, float] = {}  # thread -> when its sync request started
        self.held: dict[int, _Once] = {}  # thread -> the end of the sync request it took last

    def _refuse(self, now: float) -> bool:
        with self.lock:
            long_running = sum(1 for started in self.running.values() if now - started >= LONG_AFTER_S)
            return len(self.running) >= self.size and long_running > 0

    def _end(self, thread: int) -> Callable[[], None]:
        def end() -> None:
            with self.lock:
                self.running.pop(thread, None)
        return end

    def __call__(self, request: HttpRequest) -> HttpResponse:
        thread = threading.get_ident()
        if (earlier := self.held.pop(thread, None)) is not None:
            earlier()
        if request.path_info.rstrip("/") not in QUERY_PATHS:
            return self.get_response(request)
        now = time.monotonic()
        if self._refuse(now):
            from vo_services.errors import unavailable_for

            return unavailable_for(request, f"this server is running {self.size} synchronous queries already, some "
                                            f"of them long, as many as it runs at once (LICK_SYNC_SLOTS); retry in "
                                            f"{RETRY_AFTER_S} s, or submit the query to /tap/async", RETRY_AFTER_S)
        with self.lock:
            self.running[thread] = now
        end = self.held[thread] = _Once(self._end(thread))
        try:
            response = self.get_response(request)
        except BaseException:
            end()
            raise
        _release_on_close(response, end)
        return response
