"""Who sent a request: HTTP Basic, a Bearer token, or the session cookie; else anonymous.

The same URLs serve anonymous and authenticated callers (TAP 1.1 §2). Credentials that are
present but wrong are an error (401), never a silent fall-back to anonymous, so that a client
knows its log-in failed. Verifying a password costs a slow hash by design; a verified
(user name, password) pair is remembered for a few minutes, keyed by an HMAC so that the
password itself is never kept, and forgotten when the user's password changes.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import time
from functools import lru_cache

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from archive.config import get_settings
from vo_services.accounts import throttle, tokens

VERIFIED_TTL_S = 300
_verified: dict[bytes, tuple[int, str, float]] = {}  # HMAC -> (user pk, password hash, expiry)


class AuthenticationFailed(Exception):
    """Credentials were given but are wrong, unknown or malformed (401)."""


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from, for the throttle.

    Behind a reverse proxy every request comes from the proxy; a proxy we trust
    (``LICK_TRUSTED_PROXIES``) appends the address it saw to X-Forwarded-For. Reading that list
    from its end, the first address that is not one of our proxies is the client: what comes
    before it was written by the client and proves nothing. Anything unreadable stops the walk
    at the last hop we trust.
    """
    address = request.META.get("REMOTE_ADDR") or None
    proxies = _trusted_proxies(get_settings().trusted_proxies)
    if address is None or not _among(_parsed(address), proxies):
        return address
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        hop = hop.strip()
        ip = _parsed(hop)
        if ip is None:
            return address
        if not _among(ip, proxies):
            return hop
        address = hop
    return address


@lru_cache(maxsize=4)
def _trusted_proxies(setting: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in setting)


def _parsed(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _among(ip, networks: tuple) -> bool:
    return ip is not None and any(ip in network for network in networks)


def verify_password(username: str, password: str, address: str | None) -> AbstractBaseUser:
    """The active user with these credentials; throttled per user name and address.

    Every password check in the service goes through here: Basic, the two log-in end points,
    the account page's form and the admin's log-in form (:mod:`vo_services.accounts.admin`).
    """
    key = hmac.new(settings.SECRET_KEY.encode(), f"{username}\0{password}".encode(), hashlib.sha256).digest()
    remembered = _verified.get(key)
    if remembered is not None and remembered[2] > time.monotonic():
        user = get_user_model().objects.filter(pk=remembered[0], is_active=True).first()
        if user is not None and user.password == remembered[1]:
            return user
    _verified.pop(key, None)
    slot = throttle.reserve(username, address)  # counted as failed until proved right
    user = authenticate(username=username, password=password)
    if user is None:
        raise AuthenticationFailed("wrong user name or password")
    throttle.forgive(slot)
    _verified[key] = (user.pk, user.password, time.monotonic() + VERIFIED_TTL_S)
    return user


def basic_credentials(value: str) -> tuple[str, str]:
    """RFC 7617 §2: base64 of ``user-id:password``."""
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthenticationFailed("malformed Basic credentials") from None
    username, colon, password = decoded.partition(":")
    if not colon or not username:
        raise AuthenticationFailed("malformed Basic credentials")
    return username, password


def authenticate_header(request: HttpRequest) -> tuple[AbstractBaseUser | None, str | None]:
    """The user named by the Authorization header and how (``basic``, ``bearer``), or (None, None)."""
    header = request.META.get("HTTP_AUTHORIZATION", "").strip()
    if not header:
        return None, None
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "basic":
        return verify_password(*basic_credentials(value), client_ip(request)), "basic"
    if scheme == "bearer":
        identity = tokens.identity_for(value.strip())
        if identity is None:
            raise AuthenticationFailed("unknown, expired or revoked token")
        request._lick_principals = identity.principals  # found with the token: no second query
        return identity.user(), "bearer"
    raise AuthenticationFailed(f"unsupported authorization scheme '{scheme}'; use Basic or Bearer")
