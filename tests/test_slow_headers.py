"""Slow request headers ("slowloris", issue #20): a client that opens connections and sends its
request's header bytes very slowly must neither hold gunicorn's threads nor starve other clients.

gunicorn's threaded worker hands a connection to a thread as soon as its first byte arrives; the
thread then reads the rest of the header block from a blocking socket without a time limit. As
many slow clients as a worker process has threads leave it answering nobody. The server of the
test (one worker process, vo_services/gunicorn_config.py) gets twice as many slow sockets as it
has threads, each sending a byte a second; a normal cone search must still be answered promptly,
and each slow socket must be answered 408 and closed once LICK_HEADER_TIMEOUT has passed
(vo_services/header_deadline.py). Waits are bounded; the only time asserted is a generous bound
that separates "answered" from "stuck behind the slow clients" (tens of seconds).
"""
from __future__ import annotations

import socket
import time

import pytest
import requests

from conftest import gunicorn

pytestmark = pytest.mark.slow

THREADS = 4  # vo_services/gunicorn_config.py
SLOW_SOCKETS = 2 * THREADS
HEADER_TIMEOUT_S = 6
DRIP_FOR_S = HEADER_TIMEOUT_S + 8  # the slow clients would go on for longer than they are allowed
PROMPT_S = 5  # a cone search of the demo takes milliseconds; stuck behind the slow ones it never comes


@pytest.fixture(scope="module")
def server(demo_archive, tmp_path_factory):
    log = tmp_path_factory.mktemp("slow_headers") / "gunicorn.log"
    with gunicorn(log, workers=1, LICK_HEADER_TIMEOUT=str(HEADER_TIMEOUT_S)) as base:
        yield base, log


def _slow_socket(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    sock.sendall(b"GET /scs?RA=10&DEC=10&SR=0.1 HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # ... and the rest, slowly
    return sock


def _drip(sockets: list[socket.socket], seconds: float) -> dict[int, bytes]:
    """Send one header byte a second on every socket for ``seconds`` (never the blank line that
    ends the headers); what the server answered on each socket it closed, by index."""
    closed: dict[int, bytes] = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and len(closed) < len(sockets):
        for n, sock in enumerate(sockets):
            if n in closed:
                continue
            try:
                sock.sendall(b"X")
                sock.setblocking(False)
                try:
                    data = sock.recv(4096)
                except BlockingIOError:
                    continue
                finally:
                    sock.setblocking(True)
                closed[n] = data + (_read_rest(sock) if data else b"")
            except OSError:  # reset or broken pipe: the server closed it
                closed[n] = b""
        time.sleep(1)
    return closed


def _read_rest(sock: socket.socket, timeout: float = 2) -> bytes:
    sock.settimeout(timeout)
    chunks = []
    try:
        while chunk := sock.recv(4096):
            chunks.append(chunk)
    except OSError:
        pass
    return b"".join(chunks)


def test_slow_headers_hold_no_thread_and_end_with_408(server):
    base, log = server
    sockets = [_slow_socket(base) for _ in range(SLOW_SOCKETS)]
    try:
        time.sleep(1.5)  # each has sent its first bytes: the server has seen them all
        started = time.monotonic()
        answer = requests.get(f"{base}/scs", params={"RA": 10, "DEC": 10, "SR": 0.1}, timeout=30)
        took = time.monotonic() - started
        assert answer.status_code == 200 and b"VOTABLE" in answer.content
        assert took < PROMPT_S, f"a cone search beside {SLOW_SOCKETS} slow-header clients took {took:.1f} s"

        closed = _drip(sockets, DRIP_FOR_S)
        assert len(closed) == SLOW_SOCKETS, f"only {len(closed)} of {SLOW_SOCKETS} slow sockets were closed"
        answered = [data for data in closed.values() if data]
        # RFC 9110 §15.5.9: 408, with "Connection: close", then the connection ends
        assert answered and all(data.startswith(b"HTTP/1.1 408 ") and b"connection: close" in data.lower()
                                for data in answered), list(closed.values())[:3]
    finally:
        for sock in sockets:
            sock.close()
    # the server is well afterwards, and logged no traceback
    assert requests.get(f"{base}/tap/availability", timeout=10).status_code == 200
    text = log.read_text()
    assert "Traceback" not in text and "[ERROR]" not in text, text[-3000:]


def test_a_complete_request_in_pieces_is_served(server):
    """Headers that come in a few pieces within the deadline are a normal request."""
    base, _ = server
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        for piece in (b"GET /tap/availability HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n", b"Connection: close\r\n", b"\r\n"):
            sock.sendall(piece)
            time.sleep(0.5)
        data = _read_rest(sock)
    assert data.startswith(b"HTTP/1.1 200 "), data[:300]


def test_a_slow_next_request_on_a_kept_connection_ends_with_408(server):
    """The deadline holds for the second request of a kept-alive connection too."""
    base, _ = server
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=HEADER_TIMEOUT_S + 10) as sock:
        sock.sendall(b"GET /tap/availability HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 "), first[:300]
        head, _, body = first.partition(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")))
        while len(body) < length:
            body += sock.recv(65536)
        sock.sendall(b"GET /tap/availability HTTP/1.1\r\n")  # and nothing more
        started = time.monotonic()
        data = _read_rest(sock, HEADER_TIMEOUT_S + 10)
        waited = time.monotonic() - started
    assert data.startswith(b"HTTP/1.1 408 "), data[:300]
    assert waited >= HEADER_TIMEOUT_S - 1, waited


def test_pipelined_requests_read_ahead_by_the_loop_are_all_answered(server):
    """Two requests in one packet (RFC 9112 §9.3.2): the loop reads both; the second is served
    from what it read ahead, not left waiting for the socket to become readable again."""
    base, _ = server
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /tap/availability HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                     b"GET /tap/availability HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = _read_rest(sock, 10)
    assert data.count(b"HTTP/1.1 200 ") == 2, data[:600]
