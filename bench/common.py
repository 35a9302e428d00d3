"""What the query benchmarks share: the 1,000,000-row database and a real server on it.

The database ``lick_bench`` is made once (cloned from the pgsphere template, migrated, filled by
the fast path of :mod:`archive.benchrows`) and reused by later runs; the server is gunicorn as in
production, started for the run on a free port.
"""
from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DB_NAME = os.environ.setdefault("LICK_DB_NAME", "lick_bench")

import psycopg2  # noqa: E402

from archive.config import get_settings  # noqa: E402


def ensure_database(rows: int = 1_000_000, proprietary: float = 0.0) -> None:
    from archive.benchrows import fill
    from archive.migrate import migrate_all
    from archive.testdb import create_database

    admin = psycopg2.connect(get_settings().dsn("owner", dbname="postgres"))
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,))
        exists = cur.fetchone() is not None
    admin.close()
    if not exists:
        create_database(DB_NAME)
    for _ in migrate_all():
        pass
    with psycopg2.connect(get_settings().dsn("owner")) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM lick.observation")
        have = cur.fetchone()[0]
    if have < rows:
        print(f"filling {DB_NAME} with {rows - have} rows (once; a few minutes)...", flush=True)
        fill(rows - have, proprietary=proprietary)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(workers: int = 2, app: str = "vo_services.wsgi", ready_path: str = "/tap/availability"):
    """gunicorn as in production (:mod:`vo_services.gunicorn_config`) on the bench database;
    yields (base URL, its Popen).

    ``app`` is the WSGI application; :mod:`bench.floor_app` measures gunicorn's own cost.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    (REPO / "var" / "log").mkdir(parents=True, exist_ok=True)
    log = open(REPO / "var" / "log" / "bench-gunicorn.log", "w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), app, "-c", "python:vo_services.gunicorn_config",
         "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
        # Hundreds of requests from one address: the service is measured, not its rate limiter.
        env={"LICK_RATE_LIMIT": "0", **os.environ, "LICK_PUBLIC_URL": base}, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}{ready_path}", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not start; see var/log/bench-gunicorn.log")
                time.sleep(0.3)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def median_ms(action, repeat: int = 50, warmup: int = 5) -> float:
    for _ in range(warmup):
        action()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def interleaved_medians(actions: dict, repeat: int = 300, warmup: int = 30) -> dict[str, float]:
    """Median ms of each action, run in turn, so that a change of the machine's load (other jobs,
    a server's first requests) weighs on all of them alike; for ratios between them."""
    times: dict[str, list[float]] = {name: [] for name in actions}
    for i in range(warmup + repeat):
        for name, action in actions.items():
            started = time.perf_counter()
            action()
            if i >= warmup:
                times[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> bytes:
    """GET ``url`` (POST ``data`` as a form) on a new connection, as a one-off client makes it;
    the body of a 200 answer, else RuntimeError.

    A lean client on a plain socket, as curl's or TOPCAT's would be. Python's http.client parses
    response headers with the email package, about 0.13 ms a request on a 2-vCPU machine, which
    would be counted against the service, while psycopg2, the other side of the ratios, parses
    in C.
    """
    parts = urllib.parse.urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    with socket.create_connection((parts.hostname, parts.port), timeout=300) as sock, sock.makefile("rb") as stream:
        sock.sendall(_request(parts.netloc, path, data, headers, close=True))
        status, _, body = _response(stream)
        return _body(url, status, body)


class KeptConnection:
    """GETs on one HTTP/1.1 connection kept open between requests, as pyvo's requests.Session,
    TOPCAT and Apache's mod_proxy keep theirs (and as psycopg2 keeps its connection on the
    direct side of the ratios); opened again when the server has closed it."""

    def __init__(self, base: str):
        self.parts = urllib.parse.urlsplit(base)
        self._sock: socket.socket | None = None
        self._stream = None

    def get(self, path: str) -> bytes:
        request = _request(self.parts.netloc, path, None, None, close=False)
        for attempt in (1, 2):
            if self._sock is None:
                self._sock = socket.create_connection((self.parts.hostname, self.parts.port), timeout=300)
                self._stream = self._sock.makefile("rb")
            try:
                self._sock.sendall(request)
                status, fields, body = _response(self._stream)
            except ConnectionError:
                status = None
            if status is None:  # closed while idle (keep-alive timeout): once more, anew
                self.close()
                if attempt == 1:
                    continue
                raise RuntimeError(f"{path}: the server closed the connection without an answer")
            if "close" in fields.get("connection", "").lower():
                self.close()
            return _body(path, status, body)
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._sock is not None:
            self._stream.close()
            self._sock.close()
            self._sock = self._stream = None


def _request(host: str, path: str, data: bytes | None, headers: dict[str, str] | None, *, close: bool) -> bytes:
    lines = [f"{'GET' if data is None else 'POST'} {path} HTTP/1.1", f"Host: {host}",
             *(f"{name}: {value}" for name, value in (headers or {}).items())]
    if close:
        lines.append("Connection: close")
    if data is not None:
        lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(data)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (data or b"")


def _response(stream) -> tuple[int | None, dict[str, str], bytes]:
    """(status, header fields, body) of one response read from ``stream``; status None when the
    connection ended before one began. The body is framed by Content-Length, by chunks
    (RFC 9112 §7.1), or by the end of the connection."""
    status_line = stream.readline()
    if not status_line:
        return None, {}, b""
    fields: dict[str, str] = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        fields[name.strip().lower()] = value.strip()
    if "chunked" in fields.get("transfer-encoding", "").lower():
        pieces = []
        while size := int(stream.readline().split(b";")[0], 16):
            pieces.append(stream.read(size))
            stream.readline()
        while stream.readline() not in (b"\r\n", b""):  # trailer fields
            pass
        body = b"".join(pieces)
    elif "content-length" in fields:
        body = stream.read(int(fields["content-length"]))
    else:
        body = stream.read()
    return int(status_line.split()[1]), fields, body


def _body(url: str, status: int | None, body: bytes) -> bytes:
    if status != 200:
        raise RuntimeError(f"{url}: HTTP {status}: {body[:300]!r}")
    return body


def children_peak_rss_mb(pid: int) -> float:
    """The largest peak resident set (VmHWM) among a process's children: the gunicorn workers."""
    peak = 0
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        for line in Path(f"/proc/{child}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
    return peak / 1024
