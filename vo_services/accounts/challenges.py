"""How the service tells clients that and how they can log in.

IVOA "Authentication in the VO" (SSO challenges, WD 2022 §2–3): ``WWW-Authenticate`` challenges
on anonymous responses (optional authentication: 200 with challenges on /capabilities), on 401
and 403; ``X-VO-Authenticated`` on every response to an authenticated caller and never otherwise.
TOPCAT understands ``Basic``, ``ivoa_bearer`` (POST username and password to ``access_url``,
token back in ``X-VO-Bearer``) and ``ivoa_cookie``.
"""
from __future__ import annotations

import functools

from django.http import HttpRequest, HttpResponse

from archive.config import get_settings
from vo_services.identity import caller_name

REALM = "Lick Observatory Archive"
TLS_WITH_PASSWORD = "ivo://ivoa.net/sso#tls-with-password"


def challenges() -> str:
    """One header value holding every challenge (RFC 9110 §11.6.1 allows a comma-separated list)."""
    return _challenges(get_settings().public_url)


@functools.lru_cache(maxsize=4)
def _challenges(public_url: str) -> str:
    return ", ".join((
        f'ivoa_bearer standard_id="{TLS_WITH_PASSWORD}", access_url="{public_url}/auth/login"',
        f'ivoa_cookie standard_id="{TLS_WITH_PASSWORD}", access_url="{public_url}/auth/cookie"',
        f'Basic realm="{REALM}"',
        f'Bearer realm="{REALM}"',
    ))


def advertise(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    username = caller_name(request)
    if username is not None:
        response["X-VO-Authenticated"] = username
    elif "WWW-Authenticate" not in response:
        response["WWW-Authenticate"] = challenges()
    return response


# SSO 2.0 §2.1 / VOResource 1.1: how the VO interfaces may be called, in order of preference;
# None is anonymous use (a bare <securityMethod/>, meaningful beside the others). Bearer tokens
# have no standard securityMethod id; clients learn of them from the challenges.
INTERFACE_SECURITY_METHODS = (None, "ivo://ivoa.net/sso#BasicAA", "ivo://ivoa.net/sso#cookie")
