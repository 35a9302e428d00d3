"""Site-wide error pages: an HTML page on the portal, a VOTable error on the VO endpoints."""
import sys

from django.http import HttpRequest, HttpResponse


def availability(request: HttpRequest) -> HttpResponse:
    """VOSI 1.1 §3.2 availability of the simple services (cone search, SIA): one probe for all."""
    from vo_services.vosi import availability_xml

    return HttpResponse(availability_xml(), content_type="text/xml")


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    """DALI §4.2: VO clients get a VOTable error document, not an HTML page; people on the
    portal get the portal's page."""
    from vo_services.errors import error_response, is_portal_page
    from vo_services.portal.views import not_found as portal_not_found

    if is_portal_page(request.path_info):
        return portal_not_found(request)

    return error_response(f"no such resource: {request.path}", 404)


DATABASE_RETRY_AFTER_S = 10


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's last resort for an exception no view answered. The database out of reach (down,
    restarting, or out of connection slots) is not the service's fault: 503 with Retry-After
    (RFC 9110 §15.6.4) in the endpoint's own error format, wherever the ORM or a middleware
    met it; anything else stays a logged 500 without a traceback."""
    from vo_services.errors import error_response, unavailable_for

    if _database_unreachable(sys.exc_info()[1]):
        return unavailable_for(request, "the archive's database cannot be reached just now; please try again "
                                        "in a moment", DATABASE_RETRY_AFTER_S)
    return error_response("internal error in the service; it has been logged", 500)


def _database_unreachable(exc: BaseException | None) -> bool:
    """An error of connecting to or talking with the database, from Django's ORM or psycopg."""
    import psycopg
    import psycopg2
    from django.db import utils

    from vo_services.results.query import DatabaseUnavailable

    return isinstance(exc, (DatabaseUnavailable, utils.OperationalError, utils.InterfaceError, psycopg2.OperationalError,
                            psycopg2.InterfaceError, psycopg.OperationalError, psycopg.InterfaceError))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A POST without the CSRF token to an endpoint that wants one: Django's page for the admin
    and account pages (a person with a browser), an error document elsewhere."""
    from django.views.csrf import csrf_failure as django_page

    from vo_services.errors import PAGES, error_for, is_portal_page

    if request.path_info.startswith(PAGES) or is_portal_page(request.path_info):
        return django_page(request, reason)
    return error_for(request, f"UsageFault: {request.method} is not allowed here without a CSRF token", 403)
