"""``/coverage`` and ``/coverage/sky.png``: the stored public coverage, cacheable.

Both answer from ``lick.coverage`` (one indexed row), never by computing: the refresh task keeps
it current. Neither depends on who asks (the coverage is the anonymous caller's), so responses are
``Cache-Control: public`` with a strong ETag (the stored digest) and Last-Modified (the refresh
that last changed it); a conditional request that matches gets a 304. Errors are plain text.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from archive.coverage import refresh
from archive.coverage.moc import Moc
from vo_services.coverage.formats import BY_VALUE, FORMATS
from vo_services.dali import DaliParameterError, DaliParams

log = logging.getLogger(__name__)
#: The coverage changes at most once per debounce period, and a client revalidates after this.
MAX_AGE_S = 300
RETRY_AFTER_S = 60


def text_error(message: str, status: int) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


class _Bodies:
    """The serialised MOCs last served, per (collection, digest, format), in this process: a
    whole-archive MOC of 1,000,000 rows takes a second or two to serialise, and changes at most
    once per refresh. Small and bounded; a new digest simply misses."""

    def __init__(self, size: int = 16):
        self.size = size
        self.bodies: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()
        self.lock = threading.Lock()

    def lookup(self, key: tuple[str, str, str]) -> bytes | None:
        with self.lock:
            if key in self.bodies:
                self.bodies.move_to_end(key)
            return self.bodies.get(key)

    def keep(self, key: tuple[str, str, str], body: bytes) -> None:
        with self.lock:
            self.bodies[key] = body
            while len(self.bodies) > self.size:
                self.bodies.popitem(last=False)


BODIES = _Bodies()


def _cacheable(request: HttpRequest, body: Callable[[], bytes], content_type: str, etag: str,
               stored: datetime | None) -> HttpResponse:
    """The response, or a 304 when the client's copy is current (RFC 9110 §13.1.2, §13.1.3);
    ``body`` is made only when it is sent."""
    modified = int(stored.timestamp()) if stored else None
    unchanged = get_conditional_response(request, etag=etag, last_modified=modified)
    response = unchanged or HttpResponse(body(), content_type=content_type)
    response["ETag"] = etag
    if modified is not None:
        response["Last-Modified"] = http_date(modified)
    response["Cache-Control"] = f"public, max-age={MAX_AGE_S}"
    return response


def _not_ready() -> HttpResponse:
    response = text_error("the coverage has not been computed yet; try again in a minute", 503)
    response["Retry-After"] = str(RETRY_AFTER_S)
    return response


def _unavailable(exc: Exception) -> HttpResponse:
    log.warning("coverage unavailable: %s", exc)
    response = text_error("the archive database is unavailable; try again later", 503)
    response["Retry-After"] = str(RETRY_AFTER_S)
    return response


def _method_not_allowed(request: HttpRequest) -> HttpResponse | None:
    if request.method in ("GET", "HEAD"):
        return None
    response = text_error(f"{request.method} is not allowed here; use GET", 405)
    response["Allow"] = "GET, HEAD"
    return response


@csrf_exempt  # GET only: a POST gets the 405, not a CSRF refusal
def coverage(request: HttpRequest) -> HttpResponse:
    """``/coverage?collection=<obs_collection>&FORMAT=fits|ascii|json``: the MOC of the public
    rows of one collection, or of the whole archive without ``collection``; FITS by default."""
    if refused := _method_not_allowed(request):
        return refused
    try:
        params = DaliParams((name, value) for name, values in request.GET.lists() for value in values)
        collection = params.get("collection", "") or ""
        format_value = (params.get("FORMAT") or "fits").strip().lower()
    except DaliParameterError as exc:
        return text_error(str(exc), 400)
    served = BY_VALUE.get(format_value)
    if served is None:
        names = ", ".join(f.name for f in FORMATS)
        return text_error(f"unknown FORMAT {format_value!r}; use one of {names}", 400)
    try:
        with connection.cursor() as cursor:
            version = refresh.stored_version(cursor, collection)
            ready = version if collection == refresh.ARCHIVE else refresh.stored_version(cursor, refresh.ARCHIVE)
    except DatabaseError as exc:
        return _unavailable(exc)
    if ready is None:
        return _not_ready()
    if version is None:
        # Only collections with public rows are stored: one without any is unknown, like a typo.
        return text_error(f"no public collection {collection!r}", 404)
    digest, refreshed_at = version

    def body() -> bytes:
        key = (collection, digest, served.name)
        if (kept := BODIES.lookup(key)) is not None:
            return kept
        with connection.cursor() as cursor:
            if served.name == "ascii":  # stored in the canonical ASCII form: served as it is
                text = refresh.stored_text(cursor, collection)
                made = (text[0] if text else Moc.empty(refresh.MOC_ORDER).to_ascii()).encode() + b"\n"
                now = text[1] if text else None
            else:
                found = refresh.stored(cursor, collection)
                moc = found.moc if found else Moc.empty(refresh.MOC_ORDER)  # withdrawn meanwhile
                made, now = served.write(moc, collection or "Lick archive"), found.digest if found else None
        if now == digest:  # not refreshed meanwhile
            BODIES.keep(key, made)
        return made

    try:
        response = _cacheable(request, body, served.content_type, f'"{digest[:40]}-{served.name}"', refreshed_at)
    except DatabaseError as exc:
        return _unavailable(exc)
    stem = quote(collection.replace("/", "-").replace(" ", "_") or "lick-archive", safe="")
    response["Content-Disposition"] = f'inline; filename="{stem}-moc.{served.suffix}"'
    return response


@csrf_exempt
def sky_picture(request: HttpRequest) -> HttpResponse:
    """``/coverage/sky.png``: the whole public archive's MOC on an all-sky Mollweide map, drawn
    by the refresh task (archive.coverage.skymap), served as stored."""
    if refused := _method_not_allowed(request):
        return refused
    try:
        with connection.cursor() as cursor:
            found = refresh.sky_picture(cursor)
    except DatabaseError as exc:
        return _unavailable(exc)
    if found is None:
        return _not_ready()
    png, digest, refreshed_at = found
    return _cacheable(request, lambda: png, "image/png", f'"{digest[:40]}-png"', refreshed_at)
