"""Error answers of the VO endpoints: a VOTable error document with the right HTTP status.

DALI 1.1 §4.2 and §4.4.2: never an HTML page, never a traceback.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.html import escape

from archive.standards import VOTABLE_MIME
from vo_services.dali import DaliParameterError
from vo_services.identity import caller_name
from vo_services.encoders.errors import error_document

PAGES = ("/auth/", "/admin/")  # the account pages and API, and the admin: not VO endpoints
#: The web portal's pages (vo_services/portal/): HTML for people, with HTML error pages.
PORTAL = ("/search", "/observation/", "/basket", "/query", "/tonight", "/my/")


def is_portal_page(path: str) -> bool:
    return path == "/" or path.startswith(PORTAL)


def error_response(message: str, status: int = 400, content_type: str = VOTABLE_MIME) -> HttpResponse:
    return HttpResponse(error_document(message), status=status, content_type=content_type)


def unavailable(message: str, retry_after_s: int) -> HttpResponse:
    """503 with Retry-After (RFC 9110 §15.6.4): the service cannot answer now, but will."""
    response = error_response(f"ServiceUnavailable: {message}", 503)
    response["Retry-After"] = str(retry_after_s)
    return response


def unavailable_for(request, message: str, retry_after_s: int) -> HttpResponse:
    """503 with Retry-After in the form the path speaks: a plain HTML page on the portal (its
    templates may need what is unavailable), else as :func:`error_for`."""
    if is_portal_page(request.path_info):
        response = HttpResponse(_UNAVAILABLE_PAGE.format(message=escape(message)), status=503,
                                content_type="text/html; charset=utf-8")
    else:
        response = error_for(request, f"ServiceUnavailable: {message}", 503)
    response["Retry-After"] = str(retry_after_s)
    return response


_UNAVAILABLE_PAGE = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
                     "<title>Temporarily unavailable — Lick Searchable Archive</title></head><body>"
                     "<h1>Temporarily unavailable</h1><p>{message}</p></body></html>")


def error_for(request, message: str, status: int) -> HttpResponse:
    """An error in the form its endpoint speaks: JSON on the account pages and API, the admin and
    the internal ingest API; text/plain on SODA's (SODA 1.0 §5.2); a VOTable error document on
    the other VO endpoints (DALI §4.2)."""
    if settings.ROOT_URLCONF != "vo_services.urls" or request.path_info.startswith(PAGES):
        return JsonResponse({"error": message}, status=status)
    if request.path_info.startswith(SODA):
        return soda_error(message, status)
    return error_response(message, status)


#: The SODA endpoints, whose errors are text/plain (SODA 1.0 §5.2).
SODA = ("/soda/sync",)
#: SODA 1.0 §5.2's first words of an error document (NotFoundFault as DataLink and DALI say).
SODA_WORDS = frozenset({"Error", "AuthenticationError", "AuthorizationError", "ServiceUnavailable", "UsageError",
                        "MultiValuedParamNotSupported", "NotFoundFault"})
_SODA_WORD_OF = {"UsageFault": "UsageError", "AuthorizationFault": "AuthorizationError",
                 "ServiceUnavailable": "ServiceUnavailable"}
_SODA_WORD_BY_STATUS = {400: "UsageError", 401: "AuthenticationError", 403: "AuthorizationError",
                        404: "NotFoundFault", 405: "UsageError", 429: "ServiceUnavailable", 503: "ServiceUnavailable"}


def soda_error(message: str, status: int) -> HttpResponse:
    """A SODA error: text/plain, starting with one of SODA 1.0 §5.2's words; a message written
    for the other endpoints (``UsageFault: ...``, or none) gets SODA's word for it."""
    word, _, rest = message.partition(": ")
    if word in _SODA_WORD_OF:
        message = f"{_SODA_WORD_OF[word]}: {rest}"
    elif word not in SODA_WORDS:
        message = f"{_SODA_WORD_BY_STATUS.get(status, 'Error')}: {message}"
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def bad_request(request, exception=None) -> HttpResponse:
    """Django's 400 (a Host header that is not ours, a malformed request): in the endpoint's
    error format instead of Django's HTML page. The message never repeats the request."""
    return error_for(request, "UsageFault: bad request (unknown Host, or malformed)", 400)


def owned_or_refusal(request, model, pk: str, what: str):
    """The ``model`` object ``pk`` (a job, a bundle) if the caller may use it; else its error
    answer: 404 if there is none, 401 or 403 if it is another user's (:func:`refusal`)."""
    found = model.objects.filter(id=pk).first()
    if found is None:
        return error_response(f"NotFoundFault: no {what} {pk}", 404)
    if owned_by_another(request, found.owner):
        return refusal(request, f"AuthorizationFault: {what} {pk} belongs to another user")
    return found


def owned_by_another(request, owner: str | None) -> bool:
    """Jobs and bundles: one made anonymously is anyone's who has its URL; one made by a
    logged-in user is that user's alone (UWS 1.1 §3)."""
    return owner is not None and owner != caller_name(request)


def refusal(request, message: str) -> HttpResponse:
    """A resource the caller may not use: 401 when not logged in (the authentication middleware
    adds the challenges), 403 when logged in (UWS 1.1 §3, IVOA SSO challenges §2)."""
    return error_response(message, refusal_status(request))


def refusal_status(request) -> int:
    """401 for an anonymous caller, 403 for a logged-in one (see :func:`refusal`)."""
    return 401 if caller_name(request) is None else 403


def allow_methods(*methods: str) -> Callable:
    """A view decorator like Django's ``require_http_methods``, whose 405 is an error document
    (DALI §4.2) with the Allow header (RFC 9110 §15.5.6) instead of an empty HTML page."""
    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def checked(request, *args, **kwargs):
            if request.method not in allowed:
                methods = ", ".join(sorted(allowed))
                response = error_for(request, f"UsageFault: {request.method} is not allowed here; use {methods}", 405)
                response["Allow"] = methods
                return response
            try:
                return view(request, *args, **kwargs)
            except DaliParameterError as exc:  # DALI §3.2: e.g. PHASE twice, wherever a view reads it
                return error_for(request, f"UsageFault: {exc}", 400)
        # A view that takes no unsafe method needs no CSRF check: the check would only turn a
        # POST's 405 into a 403. (Never set False: csrf_exempt applied outside copies this
        # wrapper's attributes over its own.)
        if allowed <= {"GET", "HEAD", "OPTIONS"}:
            checked.csrf_exempt = True
        return checked
    return decorate
