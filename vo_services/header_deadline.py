"""Request headers are gathered without a thread, within a deadline, or answered 408 (RFC 9110 §15.5.9).

gunicorn's threaded worker (``gthread``) hands a connection to one of its threads as soon as the
first byte of a request arrives; the thread then reads the rest of the header block from a
blocking socket with no time limit (gunicorn's ``timeout`` watches the worker process, not a
connection). A client that sends its headers a byte at a time ("slowloris") holds that thread
for as long as it likes, and as many such clients as a process has threads leave it answering
nobody (tests/test_slow_headers.py).

:class:`HeaderDeadlineWorker` is ``gthread`` with one change: the worker's event loop, which
already watches every idle connection, also reads the header bytes as they come (non-blocking)
and gives the connection to a thread only once the blank line that ends the header block has
arrived. A slow client then costs a file descriptor and a few bytes, never a thread. Its headers
get :data:`TIMEOUT_S` (``LICK_HEADER_TIMEOUT``, Apache mod_reqtimeout's ``header=20``; 0: no
limit) from their first byte; past that the client is answered ``408 Request Timeout`` with
``Connection: close`` and the connection ends. The same deadline bounds the thread's own reads of the header block
when bytes beyond what the loop gathered are still needed (a header block larger than
:data:`GATHER_MAX`, or a pipelined request): those reads fail at the deadline alike.

The request body is bounded by vo_services/body_deadline.py; an idle kept-alive connection by
gunicorn's ``keepalive``. TLS is terminated by the front proxy (docs/deployment.md): with
gunicorn's own TLS the worker behaves as plain ``gthread``.
"""
from __future__ import annotations

import errno
import math
import selectors
import socket
import time
from collections import deque

from gunicorn.http.errors import NoMoreData
from gunicorn.workers.gthread import _DEFER, TConn, ThreadWorker

from archive.config import configured_int

TIMEOUT_S = configured_int("LICK_HEADER_TIMEOUT", 20)
#: Header bytes the loop gathers at most before a thread takes over (and the parser answers 431
#: if the block is too large): gunicorn's request line limit and a few dozen common headers.
GATHER_MAX = 64 * 1024
_END = b"\r\n\r\n"  # RFC 9112 §2.1: the empty line after the header fields
_REASON = b"The request headers did not arrive in time; the connection is closed.\n"
TIMED_OUT = (b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain\r\n"
             b"Content-Length: %d\r\n\r\n%s" % (len(_REASON), _REASON))


def _deadline() -> float:
    return time.monotonic() + TIMEOUT_S if TIMEOUT_S > 0 else math.inf


class HeaderSocket(socket.socket):
    """A client's socket: the header bytes the loop read ahead come first, and reads while a
    header deadline is armed fail at it (after answering 408)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.early = bytearray()  # read by the loop, not yet given to gunicorn's parser
        self.deadline: float | None = None  # armed while a thread reads a header block

    @classmethod
    def adopt(cls, sock: socket.socket) -> HeaderSocket:
        return cls(sock.family, sock.type, sock.proto, fileno=sock.detach())

    def recv(self, size: int, flags: int = 0) -> bytes:
        if self.early:
            data = bytes(self.early[:size])
            del self.early[:size]
            return data
        if self.deadline is None:
            return super().recv(size, flags)
        left = self.deadline - time.monotonic()
        try:
            if left <= 0:
                raise TimeoutError
            self.settimeout(left if left != math.inf else None)
            try:
                return super().recv(size, flags)
            finally:
                self.settimeout(None)
        except TimeoutError:
            self.deadline = None
            try:
                self.sendall(TIMED_OUT)
            except OSError:
                pass
            # gunicorn's thread takes this for a client that went away: no log, connection closed
            raise NoMoreData(b"") from None


class HeaderDeadlineWorker(ThreadWorker):
    """``gthread``, whose loop gathers each request's header block before a thread serves it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.gathering: deque[TConn] = deque()  # by deadline: all get the same time from their start

    # ------------------------------------------------------------ where connections come from ---
    def accept(self, listener) -> None:
        if self.cfg.is_ssl:
            return super().accept(listener)
        try:
            client_sock, client_addr = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._gather(TConn(self.cfg, HeaderSocket.adopt(client_sock), client_addr, listener.getsockname()))

    def on_client_socket_readable(self, conn: TConn, client) -> None:
        """A kept-alive connection's next request begins."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._gather(conn)

    def on_pending_socket_readable(self, conn: TConn, client) -> None:
        self.poller.unregister(client)
        self.pending_conns.remove(conn)
        self._gather(conn)

    # ------------------------------------------------------------ gathering the header block ----
    def _gather(self, conn: TConn) -> None:
        if not isinstance(conn.sock, HeaderSocket):
            return self.enqueue_req(conn)
        conn.header_deadline = _deadline()
        conn.sock.setblocking(False)
        verdict = self._read_ahead(conn)
        if verdict is None:
            self.gathering.append(conn)
            self.poller.register(conn.sock, selectors.EVENT_READ, lambda client: self._on_header_bytes(conn, client))
        else:
            self._settle(conn, verdict)

    def _on_header_bytes(self, conn: TConn, client) -> None:
        verdict = self._read_ahead(conn)
        if verdict is not None:
            self.poller.unregister(client)
            self.gathering.remove(conn)
            self._settle(conn, verdict)

    @staticmethod
    def _read_ahead(conn: TConn) -> str | None:
        """Read what has arrived: "ready" when the header block is in (or as much as the loop
        gathers), "gone" when the client closed or reset the connection, None to wait for more."""
        sock: HeaderSocket = conn.sock
        try:
            data = socket.socket.recv(sock, GATHER_MAX)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            return "gone"
        if not data:
            return "gone"
        seen = len(sock.early)
        sock.early += data
        return "ready" if _END in sock.early[max(0, seen - 3):] or len(sock.early) >= GATHER_MAX else None

    def _settle(self, conn: TConn, verdict: str) -> None:
        if verdict == "gone":  # before a whole request: nothing to answer
            self.nr_conns -= 1
            conn.close()
            return
        conn.sock.deadline = conn.header_deadline  # the thread's reads, if any, end at the same time
        conn.data_ready = True  # gthread's own wait for a first byte is not needed
        self.enqueue_req(conn)

    def murder_pending(self) -> None:
        """gthread's sweep of deferred connections, and of header blocks past their deadline
        (every connection still gathering when the worker stops)."""
        super().murder_pending()
        now = time.monotonic()
        while self.gathering and (self.gathering[0].header_deadline <= now or not self.alive):
            conn = self.gathering.popleft()
            try:
                self.poller.unregister(conn.sock)
            except (OSError, KeyError, ValueError):
                pass
            self.nr_conns -= 1
            if self.alive:
                self.log.info("408: the request headers from %s did not arrive within %d s", conn.client[0], TIMEOUT_S)
            _answer_timed_out(conn)

    def finish_request(self, conn: TConn, fs) -> None:
        """A kept-alive connection whose next request the loop already read ahead (pipelined)
        goes straight back to a thread: its socket will not become readable for it again."""
        if (isinstance(conn.sock, HeaderSocket) and conn.sock.early and self.alive and not fs.cancelled()
                and fs.exception() is None and fs.result() and fs.result() is not _DEFER):
            return self.enqueue_req(conn)
        return super().finish_request(conn, fs)

    # ------------------------------------------------------------ in the thread -----------------
    def handle(self, conn: TConn):
        if isinstance(conn.sock, HeaderSocket) and conn.sock.deadline is None:
            # a request that follows the previous one on the connection with no stop in the loop
            # (pipelined): its header block is read by the thread, within the same deadline
            conn.sock.deadline = _deadline()
        return super().handle(conn)

    def handle_request(self, req, conn: TConn):
        if isinstance(conn.sock, HeaderSocket):
            conn.sock.deadline = None  # the headers are in; the body has its own (body_deadline.py)
        return super().handle_request(req, conn)


def _answer_timed_out(conn: TConn) -> None:
    """408 and the end of the connection, from the loop: nothing here may block."""
    sock = conn.sock
    try:
        sock.send(TIMED_OUT)
        sock.shutdown(socket.SHUT_WR)
        while socket.socket.recv(sock, 65536):  # what the client sent meanwhile, so that closing sends no RST
            pass
    except OSError:
        pass
    sock.close()
