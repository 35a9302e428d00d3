"""The archive's human-readable front page."""
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
    return render(request, "vo_services/home.html", {
        "holdings": rows,
        "total": sum(r[2] for r in rows),
        "services": [
            ("TAP", f"{base}/tap"),
            ("Simple Cone Search", f"{base}/scs"),
            ("Simple Image Access 2.0", f"{base}/sia/query"),
            ("DataLink", f"{base}/datalink/links"),
        ],
    })


def availability(request: HttpRequest) -> HttpResponse:
    """VOSI 1.1 §3.2 availability of the simple services (cone search, SIA): one probe for all."""
    from vo_services.vosi import availability_xml

    return HttpResponse(availability_xml(), content_type="text/xml")


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    """DALI §4.2: VO clients get a VOTable error document, not an HTML page."""
    from vo_services.errors import error_response

    return error_response(f"no such resource: {request.path}", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    from vo_services.errors import error_response

    return error_response("internal error in the service; it has been logged", 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A POST without the CSRF token to an endpoint that wants one: Django's page for the admin
    and account pages (a person with a browser), an error document elsewhere."""
    from django.views.csrf import csrf_failure as django_page

    from vo_services.errors import PAGES, error_for

    if request.path_info.startswith(PAGES):
        return django_page(request, reason)
    return error_for(request, f"UsageFault: {request.method} is not allowed here without a CSRF token", 403)
