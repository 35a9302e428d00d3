"""TAP 1.1 endpoints: thin views over the domain modules."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from archive.config import get_settings
from vo_services import vosi
from vo_services.dali import DaliParams
from vo_services.errors import allow_methods, error_response, unavailable
from vo_services.identity import principals_for
from vo_services import limits
from vo_services.tap.examples import EXAMPLES
from vo_services.results.query import DatabaseUnavailable
from vo_services.tap.execution import QueryFailed, TapRequest, TapUsageError, prepare, stream

XML = "text/xml; charset=utf-8"


def tap_base() -> str:
    return f"{get_settings().public_url}/tap"


@allow_methods("GET")
def index(request: HttpRequest) -> HttpResponse:
    """TAP 1.1 §2: the base URL answers with a human-readable page."""
    return render(request, "tap/index.html", {"base": tap_base()})


@allow_methods("GET")
def availability(request: HttpRequest) -> HttpResponse:
    return HttpResponse(vosi.availability_xml(), content_type=XML)


@allow_methods("GET")
def tables(request: HttpRequest) -> HttpResponse:
    # VOSI 1.1 §3.3: detail=min lists tables without columns; the default is everything.
    detail = request.GET.get("detail", request.GET.get("DETAIL", "max")).lower() != "min"
    return HttpResponse(vosi.tableset_xml(detail), content_type=XML)


@allow_methods("GET")
def table(request: HttpRequest, name: str) -> HttpResponse:
    document = vosi.table_xml(name)
    if document is None:
        return HttpResponse(f"no table {name} in this service\n", status=404,
                            content_type="text/plain; charset=utf-8")
    return HttpResponse(document, content_type=XML)


@allow_methods("GET")
def examples(request: HttpRequest) -> HttpResponse:
    return render(request, "tap/examples.html", {"examples": EXAMPLES},
                  content_type="application/xhtml+xml; charset=utf-8")


@allow_methods("GET")
def capabilities(request: HttpRequest) -> HttpResponse:
    from vo_services.tap.capabilities import capabilities_xml

    return HttpResponse(capabilities_xml(tap_base()), content_type=XML)


@csrf_exempt
@allow_methods("GET", "POST")
def sync(request: HttpRequest) -> HttpResponse:
    """TAP 1.1 §2.1: run the query and stream its result; errors are VOTable documents (§3.3)."""
    from vo_services.tap.adql import AdqlError

    try:
        tap_request = TapRequest.from_params(DaliParams.from_request(request))
        prepared = prepare(tap_request)
    except (TapUsageError, AdqlError) as exc:
        return error_response(str(exc), 400)
    result = stream(prepared, principals_for(request), limits.SYNC_EXECUTION_S.default)
    try:
        result.start()
    except DatabaseUnavailable as exc:
        return unavailable(str(exc), exc.retry_after_s)
    except QueryFailed as exc:
        return error_response(str(exc), 400)
    response = result.response(tap_request.content_type)
    response["Cache-Control"] = "no-store"
    return response
