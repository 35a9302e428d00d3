"""TAP 1.1 endpoints: thin views over the domain modules."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from archive.config import get_settings
from vo_services import vosi
from vo_services.tap.examples import EXAMPLES

XML = "text/xml; charset=utf-8"


def tap_base() -> str:
    return f"{get_settings().public_url}/tap"


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """TAP 1.1 §2: the base URL answers with a human-readable page."""
    return render(request, "tap/index.html", {"base": tap_base()})


@require_safe
def availability(request: HttpRequest) -> HttpResponse:
    return HttpResponse(vosi.availability_xml(), content_type=XML)


@require_safe
def tables(request: HttpRequest) -> HttpResponse:
    # VOSI 1.1 §3.3: detail=min lists tables without columns; the default is everything.
    detail = request.GET.get("detail", request.GET.get("DETAIL", "max")).lower() != "min"
    return HttpResponse(vosi.tableset_xml(detail), content_type=XML)


@require_safe
def table(request: HttpRequest, name: str) -> HttpResponse:
    document = vosi.table_xml(name)
    if document is None:
        return HttpResponse(f"no table {name} in this service\n", status=404,
                            content_type="text/plain; charset=utf-8")
    return HttpResponse(document, content_type=XML)


@require_safe
def examples(request: HttpRequest) -> HttpResponse:
    return render(request, "tap/examples.html", {"examples": EXAMPLES},
                  content_type="application/xhtml+xml; charset=utf-8")
