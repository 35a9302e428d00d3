"""Watcher latency: from a file closed on disk to its row visible through the query role.

    .venv/bin/python bench/bench_watcher.py [--files 100] [--interval 5]

Starts the real pieces on a fresh database (``lick_bench_watch``) and archive root
(var/bench_watch): the ingest API under gunicorn, a Celery worker and the watcher, first in
inotify mode, then in polling mode (scan interval ``--interval``). Copies demo files into the
tree one every 0.2 s and prints the median and 95th percentile latency of each mode.
Targets: p95 under 5 s (inotify) and under the interval plus 5 s (polling).
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["LICK_DB_NAME"] = "lick_bench_watch"
os.environ["LICK_ARCHIVE_ROOT"] = str(REPO / "var" / "bench_watch")
os.environ["LICK_CELERY_QUEUE"] = "lick_bench_watch"

import psycopg2  # noqa: E402

from archive.config import get_settings  # noqa: E402
from archive.demo import generate_demo  # noqa: E402
from archive.testdb import create_test_database, drop_database  # noqa: E402

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(command: list[str], log: Path, **env) -> subprocess.Popen:
    return subprocess.Popen(command, env={**os.environ, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT)


def wait_ready(log: Path, word: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while word not in log.read_text():
        if time.monotonic() > deadline:
            raise SystemExit(f"not ready: {log}\n{log.read_text()[-2000:]}")
        time.sleep(0.2)


def measure(mode: str, interval: float, sources: list[Path], api: str, logs: Path) -> list[float]:
    settings = get_settings()
    root = settings.archive_root
    watcher = start([str(BIN / "python"), "-m", "watcher", "--mode", mode, "--root", str(root),
                     "--interval", str(interval), "--api", api, "--backlog", str(logs / "watcher-backlog.json")],
                    logs / f"watcher-{mode}.log")
    wait_ready(logs / f"watcher-{mode}.log", "watcher running")
    conn = psycopg2.connect(settings.dsn("query"))
    conn.autocommit = True
    closed: dict[str, float] = {}
    seen: dict[str, float] = {}
    try:
        for i, source in enumerate(sources):
            night = source.relative_to(root / "source").parts
            target = root / "1990-01" / ("01" if mode == "inotify" else "02") / night[2] / f"{mode}{i:04d}.fits"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            closed[target.relative_to(root).with_suffix("").as_posix()] = time.monotonic()
            _poll(conn, closed, seen)
            time.sleep(0.2)
        deadline = time.monotonic() + interval + 60
        while len(seen) < len(closed) and time.monotonic() < deadline:
            _poll(conn, closed, seen)
            time.sleep(0.05)
    finally:
        watcher.terminate()
        watcher.wait(timeout=20)
        conn.close()
    if len(seen) < len(closed):
        print(f"  {mode}: {len(closed) - len(seen)} file(s) never became visible")
    return [seen[k] - closed[k] for k in seen]


def _poll(conn, closed: dict[str, float], seen: dict[str, float]) -> None:
    waiting = [k for k in closed if k not in seen]
    if not waiting:
        return
    with conn.cursor() as cur:
        cur.execute("SELECT obs_id FROM lick.observations WHERE obs_id = ANY (%s)", (waiting,))
        now = time.monotonic()
        for (obs_id,) in cur.fetchall():
            seen[obs_id] = now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--interval", type=float, default=5.0)
    args = parser.parse_args()
    settings = get_settings()
    root = settings.archive_root
    shutil.rmtree(root, ignore_errors=True)
    generate_demo(root / "source", seed=7, files=args.files)
    sources = sorted((root / "source").glob("*/*/*/*.fits"))[:args.files]
    drop_database(settings.db_name)
    create_test_database(settings.db_name)
    logs = REPO / "var" / "log"
    logs.mkdir(parents=True, exist_ok=True)
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    gunicorn = start([str(BIN / "gunicorn"), "vo_services.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
                     logs / "bench-ingest-api.log", LICK_URLCONF="ingest.urls")
    worker = start([str(BIN / "celery"), "-A", "lick.worker", "worker", "--concurrency", "2",
                    "--queues", settings.celery_queue, "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
                   logs / "bench-worker.log")
    try:
        wait_ready(logs / "bench-ingest-api.log", "Booting worker")
        wait_ready(logs / "bench-worker.log", "ready")
        for mode in ("inotify", "polling"):
            latencies = sorted(measure(mode, args.interval, sources, api, logs))
            if latencies:
                p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
                target = 5.0 if mode == "inotify" else args.interval + 5.0
                print(f"{mode:8} {len(latencies)} files: median {statistics.median(latencies):.2f} s, "
                      f"p95 {p95:.2f} s (target < {target:.0f} s)")
    finally:
        for process in (gunicorn, worker):
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
