"""The portal's pages: thin views over the domain modules."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from archive.config import get_settings
from vo_services.results.query import run_query


def home(request: HttpRequest) -> HttpResponse:
    """What the archive holds (as the anonymous public sees it) and where its services are."""
    rows = run_query(
        "SELECT telescope, instrument, count(*), min(observing_night), max(observing_night) "
        "FROM lick.observations GROUP BY telescope, instrument ORDER BY telescope, instrument")
    base = get_settings().public_url
    return render(request, "portal/home.html", {
        "holdings": rows,
        "total": sum(r[2] for r in rows),
        "services": [
            ("TAP", f"{base}/tap"),
            ("Simple Cone Search", f"{base}/scs"),
            ("DataLink", f"{base}/datalink/links"),
        ],
    })


def not_found(request: HttpRequest) -> HttpResponse:
    """A page that is not there: the portal's own 404 page, in the site's look."""
    return render(request, "portal/404.html", status=404)
