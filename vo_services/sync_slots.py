"""Threads kept for cheap requests: at most ``LICK_SYNC_SLOTS`` TAP sync queries at once per
web process, by default all its threads but one.

A gunicorn worker serves requests on a fixed number of threads (``vo_services/gunicorn_config.py``).
A synchronous TAP query may hold its thread until ``LICK_SYNC_TIMEOUT``: with as many heavy queries
as threads, a process answers nothing else, not even a cone search of 2 ms, until one of them
ends. Measured with ``bench/bench_load.py`` (2 workers x 4 threads, 1,000,000 rows): 24 clients of
the cone search beside 8 of heavy TAP queries took the cone's p50 from 77 ms to 3.5 s and the
service from 219 to 8 requests/s. So sync queries get at most all threads but one of a process;
one more is answered at once with 503 and Retry-After (RFC 9110 §15.6.4; it cannot wait for a
slot without holding a thread, which is what this prevents), and the cone search, DataLink,
downloads and the job endpoints always find a thread. Async jobs run on the Celery workers and
are not counted.
"""
from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from archive.config import configured_int

SYNC_PATH = "/tap/sync"
RETRY_AFTER_S = 5


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
    """Middleware: a slot of this process for each TAP sync request, or a 503 at once.

    A slot is also given back when the thread that took it starts its next request: a thread
    serves one request at a time, so by then that response is over, closed or not (Django's
    test client never closes a streamed response it does not read)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.size = slots()
        self.free = threading.BoundedSemaphore(self.size)
        self.held: dict[int, _Once] = {}  # thread -> the release of the slot it took last

    def __call__(self, request: HttpRequest) -> HttpResponse:
        thread = threading.get_ident()
        if (earlier := self.held.pop(thread, None)) is not None:
            earlier()
        if request.path_info.rstrip("/") != SYNC_PATH:
            return self.get_response(request)
        if not self.free.acquire(blocking=False):
            from vo_services.errors import unavailable

            return unavailable(f"this server is running {self.size} synchronous queries already, as many as "
                               f"it runs at once (LICK_SYNC_SLOTS); retry in {RETRY_AFTER_S} s, or submit "
                               f"the query to /tap/async", RETRY_AFTER_S)
        release = self.held[thread] = _Once(self.free.release)
        try:
            response = self.get_response(request)
        except BaseException:
            release()
            raise
        _release_on_close(response, release)
        return response
