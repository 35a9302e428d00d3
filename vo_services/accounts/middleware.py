"""Authenticates every request to the public services, after Django's session middleware.

A request with an Authorization header is that header's user, or a 401 with challenges; without
one it is the session's user, or anonymous. Responses then carry ``X-VO-Authenticated`` or the
challenges (:mod:`vo_services.accounts.challenges`).

Two exceptions to that rule, both because a browser holds some credentials on its own:

- the admin pages know only the session (the admin's own log-in form, with Django's CSRF token):
  an Authorization header is ignored there, so that a personal token or a password in a Basic
  header, made for scripts, never opens them;
- a request that changes something (tokens, UWS jobs, bundles, the cookie log-in) and comes with
  a credential the browser sends by itself (the session cookie, or Basic cached after a prompt)
  is refused when its ``Origin`` (or, without one, ``Referer``) is another site
  (:mod:`vo_services.accounts.origin`). VO clients send neither header, and Bearer tokens are
  only ever sent by the code that holds them.

A pre-authorised URL (``?preauth=``, :mod:`vo_services.accounts.preauth`: what the portal sends
by SAMP) is its grant's user for that one read, whatever else the request carries; a grant that
is not genuine, current and for exactly this request is refused (403), never read as anonymous.
"""
from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse

from vo_services.accounts import origin, preauth
from vo_services.accounts.authentication import AuthenticationFailed, authenticate_header
from vo_services.accounts.challenges import advertise
from vo_services.accounts.throttle import Throttled
from vo_services.errors import error_for

ADMIN = "/admin/"


def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    """429 with Retry-After (RFC 6585 §4), in the endpoint's own error format."""
    response = error_for(request, str(exc), 429)
    response["Retry-After"] = str(exc.retry_after_s)
    return response


class VoAuthenticationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.ROOT_URLCONF != "vo_services.urls":
            return self.get_response(request)  # the ingest API checks its own token
        request.auth_method = None
        if preauth.PARAMETER in request.GET:
            return advertise(request, self._preauthorised(request))
        admin = request.path_info.startswith(ADMIN)
        try:
            user, method = (None, None) if admin else authenticate_header(request)
        except AuthenticationFailed as exc:
            return advertise(request, error_for(request, f"authentication failed: {exc}", 401))
        except Throttled as exc:
            return throttled(request, exc)
        if user is not None:
            request.user, request.auth_method = user, method
        elif settings.SESSION_COOKIE_NAME not in request.COOKIES:
            request.user = AnonymousUser()  # no session to load (and no "Vary: Cookie" for it)
        elif request.user.is_authenticated:
            request.auth_method = "session"
        refused = origin.cross_site_refusal(request)
        if refused is not None:
            return advertise(request, refused)
        return advertise(request, self.get_response(request))

    def _preauthorised(self, request: HttpRequest) -> HttpResponse:
        try:
            identity = preauth.identity_of_grant(request)
        except preauth.Refused as exc:
            return error_for(request, f"AuthorizationFault: pre-authorised URL refused: {exc}", 403)
        request.user, request.auth_method = identity.user(), "preauth"
        request._lick_principals = identity.principals  # vo_services.identity.principals_for
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A view's password check (the admin's log-in form) that was throttled: 429, not 500."""
        if isinstance(exception, Throttled):
            return throttled(request, exception)
        return None
