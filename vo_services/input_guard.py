"""Requests that hold a NUL character are refused before any view sees them.

No path or parameter of these services may contain one, and PostgreSQL cannot store one in text:
let through, it would surface deep in a view as a database error, a 500 (an ID of
``/datalink/links``, a parameter of a new async job, an obs_id in a download path).
"""
from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from vo_services.errors import error_for

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RejectNulCharacters:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _holds_nul(request):
            return error_for(request, "UsageFault: the request holds a NUL character (%00), which no path or "
                                      "parameter of this service may contain", 400)
        return self.get_response(request)


def _holds_nul(request: HttpRequest) -> bool:
    # The query string as sent: a NUL in a name or value is there as %00 (or, raw, as itself);
    # reading it costs less than parsing it, which a VO query's view does anyway.
    query = request.META.get("QUERY_STRING", "")
    if "\x00" in request.path_info or "%00" in query or "\x00" in query:
        return True
    if request.method != "POST" or request.content_type not in FORM_TYPES:
        return False
    try:
        form = request.POST  # parsed here rather than in the view: the same work, done once
    except Exception:  # noqa: BLE001  (a malformed body: the view finds no parameters, and says so)
        return False
    return _any_nul(form)


def _any_nul(params) -> bool:
    return any("\x00" in name or any("\x00" in value for value in values) for name, values in params.lists())
