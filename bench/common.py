"""What the query benchmarks share: the 1,000,000-row database and a real server on it.

The database ``lick_bench`` is made once (cloned from the pgsphere template, migrated, filled by
the fast path of :mod:`archive.benchrows`) and reused by later runs; the server is gunicorn as in
production, started for the run on a free port.
"""
from __future__ import annotations

import http.client
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
    """gunicorn on the bench database; yields (base URL, its Popen).

    ``app`` is the WSGI application; :mod:`bench.floor_app` measures gunicorn's own cost.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    (REPO / "var" / "log").mkdir(parents=True, exist_ok=True)
    log = open(REPO / "var" / "log" / "bench-gunicorn.log", "w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), app, "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--timeout", "300"],
        env={**os.environ, "LICK_PUBLIC_URL": base}, stdout=log, stderr=subprocess.STDOUT)
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
    """GET ``url`` (POST ``data`` as a form), on a new connection as a one-off client makes it.

    http.client rather than urllib.request: urllib's opener machinery costs the client about
    0.1 ms a request, which would be counted against the service.
    """
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = dict(headers or {})
        if data is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request("GET" if data is None else "POST", path, body=data, headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}: {body[:300]!r}")
        return body
    finally:
        conn.close()


def children_peak_rss_mb(pid: int) -> float:
    """The largest peak resident set (VmHWM) among a process's children: the gunicorn workers."""
    peak = 0
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        for line in Path(f"/proc/{child}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
    return peak / 1024
