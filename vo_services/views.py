"""Site-wide error pages: an HTML page on the portal, a VOTable error on the VO endpoints."""
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


def server_error(request: HttpRequest) -> HttpResponse:
    from vo_services.errors import error_response

    return error_response("internal error in the service; it has been logged", 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A POST without the CSRF token to an endpoint that wants one: Django's page for the admin
    and account pages (a person with a browser), an error document elsewhere."""
    from django.views.csrf import csrf_failure as django_page

    from vo_services.errors import PAGES, error_for, is_portal_page

    if request.path_info.startswith(PAGES) or is_portal_page(request.path_info):
        return django_page(request, reason)
    return error_for(request, f"UsageFault: {request.method} is not allowed here without a CSRF token", 403)
