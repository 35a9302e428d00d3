"""gunicorn's logs without the credentials that clients put into URLs.

Nothing here takes a credential from a URL (log-ins are headers and POSTed forms, IVOA SSO §2),
but clients put them there all the same: ``/auth/login?username=…&password=…`` typed into a
browser, ``?access_token=…`` from OAuth habits, a Referer copied from a page whose URL held one.
gunicorn prints the request line and the Referer whole in its access log, and a malformed
request line in its error log. The value of every query parameter whose name says it holds a
credential is replaced there; the rest of the line (TAP queries, cone positions) stays readable.
"""
from __future__ import annotations

import logging
import re
import urllib.parse

from gunicorn.glogging import Logger

REDACTED = "[redacted]"
#: parameter names that hold credentials: password, passwd, pwd, token, access_token, api_key,
#: secret, sessionid, auth, csrfmiddlewaretoken, signature, preauth (the grant of a pre-authorised URL,
#: vo_services/accounts/preauth.py)...
_CREDENTIAL_NAME = re.compile(r"pass|pwd|token|secret|session|key|auth|csrf|sig", re.IGNORECASE)
_PARAMETER = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&;#\s'\"]+)=(?P<value>[^&;#\s'\"]*)")


def redact(text: str) -> str:
    """``text`` with the values of credential parameters in any URL or query string in it replaced."""
    def one(match: re.Match) -> str:
        if _CREDENTIAL_NAME.search(urllib.parse.unquote_plus(match["name"])):
            return f"{match['lead']}{match['name']}={REDACTED}"
        return match[0]
    return _PARAMETER.sub(one, text)


class _Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()  # formatted: a URL in it keeps its "?"
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_REDACT = _Redact()  # one instance: a configuration reload runs setup() again, addFilter keeps one


class RedactingLogger(Logger):
    """gunicorn's logger (``logger_class``), its access and error logs passed through :func:`redact`."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        self.access_log.addFilter(_REDACT)
        self.error_log.addFilter(_REDACT)
