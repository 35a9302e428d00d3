"""Pre-authorised URLs: one user's read access to one exact resource, for a few minutes.

A SAMP hub (SAMP 1.3 §5: the Web Profile the portal speaks) and the application it forwards to
fetch the URL they are sent by themselves, without the browser's session cookie; so a logged-in
observer could send only public data. Like CADC's "preauth" URLs, the portal asks
``POST /auth/preauth`` for a URL that carries a signed grant, ``preauth=v1.<expiry>.<user>.<mac>``:

- *who*: the user name, looked up again (active, with today's principals) on every use, so a
  deactivated user's grants die at once and a lost program membership counts at once; the
  database's access rule still decides what that user sees (the grant says who asks, no more);
  and the user's credential as it is now (a digest of the stored password hash, as Django's
  session hash): changing the password cancels every grant made before, as it ends sessions;
- *what*: the path below the service root and every other query parameter, sorted; changing,
  adding or dropping any of them (another file, another QUERY, another MAXREC) breaks the MAC;
- *until*: an expiry ``LICK_SAMP_URL_LIFETIME`` seconds (default 300) after it was made;
- the MAC: HMAC-SHA256 under a key derived from Django's ``SECRET_KEY`` with this module's salt
  (never the principal key of ``archive/principals.py``, which signs what the database trusts).

Only reads of grantable resources accept one (:data:`GRANTABLE`: file downloads, SODA cutouts,
TAP sync queries, an async job's result), with GET or HEAD: a grant never reaches ``/auth/``
(no session, no token from it), never a change. The parameter's name contains "auth", so
gunicorn's logs redact its value (:mod:`vo_services.log_redaction`).
"""
from __future__ import annotations

import base64
import binascii
import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from django.db import connection
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare, salted_hmac

from archive.config import get_settings
from vo_services.identity import Identity, identity_of

PARAMETER = "preauth"
VERSION = "v1"
_SALT = "vo_services.accounts.preauth"  # derives this purpose's own key from SECRET_KEY
#: What a grant may open, as paths below the service root: reads that the access rule governs.
GRANTABLE = re.compile(r"/datalink/download/.+|/soda/sync|/tap/sync|/tap/async/[^/]+/results/result")
READS = frozenset({"GET", "HEAD"})


class Refused(Exception):
    """The grant is malformed, altered, expired, for another resource, or its user is gone."""


@dataclass(frozen=True)
class Grant:
    url: str
    expires: int  # Unix seconds


def _resource(path: str, query: str) -> str:
    """The canonical text of what a grant opens: the path and all its other parameters, sorted."""
    pairs = sorted((k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != PARAMETER)
    return f"{path}?{urlencode(pairs)}"


def _credential(username: str) -> str:
    """What changes when the user's password does: a digest of the stored hash ("" for no such
    user, whose grants then match nothing made for a real one)."""
    with connection.cursor() as cur:
        cur.execute("SELECT password FROM auth_user WHERE username = %s", (username,))
        row = cur.fetchone()
    return "" if row is None else salted_hmac(_SALT + ".credential", row[0], algorithm="sha256").hexdigest()


def _mac(username: str, expires: int, resource: str, credential: str) -> str:
    signed = "\n".join((VERSION, username, str(expires), resource, credential))
    return salted_hmac(_SALT, signed, algorithm="sha256").hexdigest()


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unb64(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


def grant(url: str, username: str, now: float | None = None) -> Grant:
    """A pre-authorised copy of ``url`` for ``username``: the same path and parameters below the
    public URL (``LICK_PUBLIC_URL``; the host the browser used does not matter, a page's URLs
    being relative), with the grant added. ValueError if it is no grantable resource of ours.
    """
    public = urlsplit(get_settings().public_url)
    parts = urlsplit(url)
    root = public.path.rstrip("/")
    path = unquote(parts.path)
    if not path.startswith(root + "/"):
        raise ValueError("only this archive's URLs can be pre-authorised")
    path = path[len(root):]
    if not GRANTABLE.fullmatch(path):
        raise ValueError("only file downloads, cutouts, TAP queries and job results can be pre-authorised")
    expires = int(now if now is not None else time.time()) + get_settings().samp_url_lifetime_s
    resource = _resource(path, parts.query)
    token = f"{VERSION}.{expires}.{_b64(username)}.{_mac(username, expires, resource, _credential(username))}"
    pairs = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != PARAMETER)
    query = urlencode([*pairs, (PARAMETER, token)])
    return Grant(f"{public.scheme}://{public.netloc}{root}{quote(path)}?{query}", expires)


def identity_of_grant(request: HttpRequest) -> Identity:
    """The identity a request's grant names, if the grant is genuine, current and for exactly
    this request; else :class:`Refused` (with a reason that reveals nothing of the key)."""
    if request.method not in READS:
        raise Refused("a pre-authorised URL is for reading (GET) only")
    tokens = request.GET.getlist(PARAMETER)
    if len(tokens) != 1:
        raise Refused("one grant at most")
    path = request.path_info
    if not GRANTABLE.fullmatch(path):
        raise Refused("this resource cannot be opened by a pre-authorised URL")
    try:
        version, expires_text, user_text, mac = tokens[0].split(".")
        username, expires = _unb64(user_text), int(expires_text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Refused("malformed grant") from None
    if version != VERSION:
        raise Refused("malformed grant")
    expected = _mac(username, expires, _resource(path, request.META.get("QUERY_STRING", "")), _credential(username))
    if not constant_time_compare(mac, expected):
        raise Refused("the grant does not match this URL, or its user's password changed since it was made")
    if time.time() > expires:
        raise Refused("the grant has expired")
    identity = identity_of(username)
    if identity is None:
        raise Refused("the grant's user is no longer active")
    return identity
