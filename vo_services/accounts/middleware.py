"""Authenticates every request to the public services, after Django's session middleware.

A request with an Authorization header is that header's user, or a 401 with challenges; without
one it is the session's user, or anonymous. Responses then carry ``X-VO-Authenticated`` or the
challenges (:mod:`vo_services.accounts.challenges`).
"""
from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse

from vo_services.accounts.authentication import AuthenticationFailed, authenticate_header
from vo_services.accounts.challenges import advertise
from vo_services.accounts.throttle import Throttled
from vo_services.errors import error_for


class VoAuthenticationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.ROOT_URLCONF != "vo_services.urls":
            return self.get_response(request)  # the ingest API checks its own token
        request.auth_method = None
        try:
            user, method = authenticate_header(request)
        except AuthenticationFailed as exc:
            return advertise(request, error_for(request, f"authentication failed: {exc}", 401))
        except Throttled as exc:
            response = error_for(request, str(exc), 429)
            response["Retry-After"] = str(exc.retry_after_s)
            return response
        if user is not None:
            request.user, request.auth_method = user, method
        elif settings.SESSION_COOKIE_NAME not in request.COOKIES:
            request.user = AnonymousUser()  # no session to load (and no "Vary: Cookie" for it)
        elif request.user.is_authenticated:
            request.auth_method = "session"
        return advertise(request, self.get_response(request))
