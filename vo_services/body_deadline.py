"""A request body must arrive at a minimum rate, or the request ends with 408 (RFC 9110 §15.5.9).

gunicorn's threaded worker reads a request body from a blocking socket without any time limit
(its ``timeout`` watches the worker process, not a connection): a client that announces a body
and stops sending it holds a thread for ever, and as many such clients as a process has threads
leave it answering nobody (tests/test_faults_io.py). As Apache's mod_reqtimeout does
(``body=20,MinRate=500``), the body gets :data:`TIMEOUT_S` (``LICK_BODY_TIMEOUT``) for its first
bytes, one more second for every :data:`MIN_RATE` bytes received; past that the read fails, the
request is answered 408 and the connection is closed.

The failed read raises :class:`BodyTimedOut`, a ``BaseException``: it passes through Django's
handler (which turns every ``Exception`` into a logged 500) and no view goes on with a partial
body; this wrapper, the outermost, turns it into the 408.
"""
from __future__ import annotations

import socket
import time

from archive.config import configured_int
from vo_services.encoders.errors import error_document

TIMEOUT_S = configured_int("LICK_BODY_TIMEOUT", 20)
MIN_RATE = 500  # bytes per second, mod_reqtimeout's default


class BodyTimedOut(BaseException):
    """The client did not send its request body in time."""


class _DeadlineInput:
    """``wsgi.input``, each read bounded by the time left to the body's deadline."""

    def __init__(self, source, sock: socket.socket, timeout_s: float, min_rate: int):
        self.source, self.sock = source, sock
        self.deadline = time.monotonic() + timeout_s
        self.min_rate = min_rate

    def _bounded(self, read, *args):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise BodyTimedOut()
        self.sock.settimeout(left)
        try:
            data = read(*args)
        except (TimeoutError, BlockingIOError) as exc:
            raise BodyTimedOut() from exc
        finally:
            self.sock.settimeout(None)  # the response is written without a limit (a slow reader may be slow)
        self.deadline += len(data) / self.min_rate
        return data

    def read(self, size: int | None = None) -> bytes:
        return self._bounded(self.source.read, size)

    def readline(self, size: int | None = None) -> bytes:
        return self._bounded(self.source.readline, size)

    def __iter__(self):
        while line := self.readline():
            yield line


class BodyDeadline:
    """WSGI middleware: see the module's docstring. Requests without a socket (tests) pass as they are."""

    def __init__(self, application, timeout_s: float = TIMEOUT_S, min_rate: int = MIN_RATE):
        self.application = application
        self.timeout_s, self.min_rate = timeout_s, min_rate

    def __call__(self, environ, start_response):
        sock = environ.get("gunicorn.socket")
        if sock is None or self.timeout_s <= 0:
            return self.application(environ, start_response)
        environ["wsgi.input"] = _DeadlineInput(environ["wsgi.input"], sock, self.timeout_s, self.min_rate)
        try:
            return self.application(environ, start_response)
        except BodyTimedOut:
            return self._timed_out(sock, start_response)

    def _timed_out(self, sock: socket.socket, start_response):
        document = error_document(f"UsageFault: the request body did not arrive in time (it has "
                                  f"{self.timeout_s:g} s, one more per {self.min_rate} bytes received)")
        try:
            sock.shutdown(socket.SHUT_RD)  # the rest of the body is not waited for: the connection ends
        except OSError:
            pass
        start_response("408 Request Timeout", [("Content-Type", "application/x-votable+xml"),
                                               ("Content-Length", str(len(document))), ("Connection", "close")])
        return [document]
