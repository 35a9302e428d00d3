"""Cross-site requests made with a browser's own credentials: refused where they change things.

A page on another site can make a visitor's browser POST (or, by a form, submit) to the archive;
the browser adds what it holds for the archive by itself: the session cookie (SameSite=Lax stops
it on cross-site POSTs in current browsers, not in all) and HTTP Basic credentials cached after a
password prompt (which no SameSite rule covers). On the endpoints that change something for the
caller, such a request would create a token, start or delete a job, build a bundle, or log the
browser in as the attacker. Browsers say where a request comes from in ``Origin`` (RFC 6454 §7;
on every cross-origin POST) or ``Referer``; VO clients (pyvo, TOPCAT, curl) send neither, and are
let through. Bearer tokens are sent only by the code that holds them, so they are not checked.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse

from archive.config import get_settings
from vo_services.errors import error_for

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: Endpoints that change something on behalf of the caller: the account API and pages (tokens,
#: log-in and log-out), UWS jobs (UWS 1.1 §2.2: creation, phase, parameters, DELETE) and bundles.
GUARDED = ("/auth/", "/tap/async", "/datalink/bundles")
BROWSER_HELD = frozenset({"basic", "session"})
COOKIE_LOGIN = "/auth/cookie"  # sets the browser's session: "login CSRF" needs no credential at all


def _origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased, default ports dropped (RFC 6454 §4)."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if not scheme or not host:
        return "null"
    try:
        port = parts.port
    except ValueError:
        return "null"
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" if port in (None, default) else f"{scheme}://{host}:{port}"


def public_origin() -> str:
    return _origin_of(get_settings().public_url)


def request_origin(request: HttpRequest) -> str | None:
    """Where the browser says the request comes from; None when it does not say (a VO client)."""
    stated = request.META.get("HTTP_ORIGIN")
    if stated is not None:
        return _origin_of(stated) if stated.strip() != "null" else "null"
    referer = request.META.get("HTTP_REFERER")
    return _origin_of(referer) if referer else None


def cross_site_refusal(request: HttpRequest) -> HttpResponse | None:
    """The 403 answer to a cross-site change made with the browser's credentials, else None."""
    if request.method in SAFE_METHODS or not request.path_info.startswith(GUARDED):
        return None
    if request.auth_method not in BROWSER_HELD and request.path_info != COOKIE_LOGIN:
        return None
    came_from = request_origin(request)
    if came_from is None or came_from == public_origin():
        return None
    return error_for(request, "AuthorizationFault: a change requested by a page of another site "
                              "with this browser's log-in is refused", 403)
