"""Load figures (issue #20): many clients at once, cheap kinds alone and beside heavy queries.

    .venv/bin/python -m bench.bench_load [--clients 32] [--seconds 60] [--heavy 3 8] [--workers 2]
                                         [--slots 100 3 1] [--only full]

On the 1,000,000-row benchmark database (bench/common.py) with a real gunicorn (2 workers, the
production configuration) and a real Celery worker, the load driver of tests/test_load.py
(bench/load_mix.py) runs, each on a fresh server:

1. ``alone``: one client, cone searches only, one after another: the direct baseline.
2. ``mix``: N clients (a third with a Bearer token) drawing cone searches, small TAP queries,
   DataLink links and async jobs (submit, WAIT, result, delete).
3. ``mix+N heavy``: the same, but N of the clients (each of ``--heavy``) run heavy TAP queries
   (a full scan and a 100,000-row result), bounded by LICK_SYNC_TIMEOUT; beyond the server's
   sync slots (vo_services/sync_slots.py) they get 503 and wait as Retry-After says. Set
   LICK_SYNC_SLOTS to compare budgets.
4. ``full``: the issue's whole mix, every client drawing from it: the cheap kinds, 100,000-row
   TAP queries as BINARY2 (every row counted), file downloads by HTTP Range requests (the slice's
   bytes compared with the file; ranges past the end answered 416), the portal's search page;
   a third of the clients logged in with a Bearer token, a third with HTTP Basic. The files are
   written for the run (the benchmark's rows have none) under an archive root of its own.

For each: requests/s, errors, p50/p95/p99 per kind, the load average, the peak RSS of every
process (gunicorn's master and workers, the Celery worker and its pool), the peak of the server's
PostgreSQL connections and their states once the load is over (all idle, or a leak); then the
cone search's p50 against ``alone`` and each ``mix+N heavy`` against ``mix``: how much cheap
queries suffer from expensive ones. The machine is shared: its load average before each run is
printed beside the figures.
"""
from __future__ import annotations

import argparse
import base64
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

os.environ.setdefault("LICK_CELERY_QUEUE", "lick_bench_load")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vo_services.settings")
os.environ["LICK_RATE_LIMIT"] = "0"  # the figures are the service's, not the limiter's
os.environ.setdefault("LICK_SYNC_TIMEOUT", "15")  # the heavy queries' bound
os.environ.setdefault("LICK_TRUSTED_PROXIES", "127.0.0.1")  # each client its own address
import bench.common  # noqa: E402,F401  (sets the benchmark database before the settings are read)
from bench.common import REPO, ensure_database, fetch, server  # noqa: E402
from bench.load_mix import (Caller, Download, Sampler, Scenario, connections_now,  # noqa: E402
                            peak_rss_mb, percentile, process_tree, rss_lines, run_load, summary)

APP_NAME = "lick-bench-load"
CHEAP = {"cone": 5, "tap_small": 4, "datalink": 3, "async_job": 1}
FULL = {**CHEAP, "download": 3, "portal_search": 2, "tap_100k": 1}
PASSWORD = "bench-load-Basic-42"  # the bench's own user, on the bench's own database
SEARCHES = ["instrument=Kast+Red&frame=science&sort=night", "telescope=Nickel&exp_min=10&exp_max=900",
            "coords=150+20&radius=30&sort=time", "start=2001-01-01&end=2001-12-31&telescope=Shane&access=public",
            "instrument=Kast+Blue&exp_min=100"]
DOWNLOADS = 12
HEAVY_QUERIES = [
    # a full scan of the view with an expression on every row (no index can help)
    "SELECT COUNT(*) AS n FROM ivoa.obscore WHERE target_name LIKE '%q%z%'",
    # 100,000 rows to encode and send
    "SELECT TOP 100000 obs_id, s_ra, s_dec, t_min, t_exptime FROM ivoa.obscore",
]


def token() -> str:
    """A Bearer token of the bench's user (who has a password for HTTP Basic too)."""
    import django

    django.setup()
    from vo_services.accounts.observers import configure_user

    return configure_user("bench_load_user", password=PASSWORD, token_name="bench-load")[1]


def write_files(root: Path) -> list[Download]:
    """Files for public rows near (150, 20), 0.5 to 3 MB of seeded bytes each, at their
    ``file_path`` under ``root`` (the server's LICK_ARCHIVE_ROOT for the run)."""
    import psycopg2

    from archive.config import get_settings

    with psycopg2.connect(get_settings().dsn("owner")) as conn, conn.cursor() as cur:
        cur.execute("SELECT obs_id, file_path FROM lick.observation WHERE obs_release_date < now() "
                    "AND pos <@ scircle(spoint(radians(150), radians(20)), radians(3)) ORDER BY obs_id LIMIT %s",
                    (DOWNLOADS,))
        rows = cur.fetchall()
    conn.close()
    rng = random.Random(20)
    made = []
    for obs_id, file_path in rows:
        body = rng.randbytes(rng.randint(512 * 1024, 3 * 1024 * 1024))
        path = root / file_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        made.append(Download(f"/datalink/download/{obs_id}", body))
    return made


def scenario(base: str) -> Scenario:
    query = ("SELECT TOP 40 obs_publisher_did, s_ra, s_dec FROM ivoa.obscore WHERE "
             "1=CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 150, 20, 3))")
    body = fetch(f"{base}/tap/sync?" + urllib.parse.urlencode({"LANG": "ADQL", "RESPONSEFORMAT": "csv", "QUERY": query}))
    rows = [line.split(",") for line in body.decode().splitlines()[1:]]
    if len(rows) < 10:
        raise SystemExit(f"too few rows near (150, 20) in the benchmark database: {body[:300]!r}")
    return Scenario(
        cones=[(float(ra), float(dec), 0.05) for _, ra, dec in rows],
        datalink_ids=[did for did, _, _ in rows],
        small_queries=[f"SELECT TOP 10 obs_id, s_ra, s_dec, t_min FROM ivoa.obscore WHERE "
                       f"1=CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', {ra}, {dec}, 0.05))" for _, ra, dec in rows],
        heavy_queries=HEAVY_QUERIES,
        async_query="SELECT TOP 10 obs_id, s_ra, s_dec FROM ivoa.obscore WHERE t_exptime > 100",
        big_query="SELECT TOP 100000 s_ra, s_dec, t_min, t_exptime FROM ivoa.obscore",  # BIG_COLUMNS doubles
        searches=SEARCHES)


def worker() -> subprocess.Popen:
    (REPO / "var" / "log").mkdir(parents=True, exist_ok=True)
    log = open(REPO / "var" / "log" / "bench-load-worker.log", "w")
    process = subprocess.Popen([str(Path(sys.executable).parent / "celery"), "-A", "lick.worker", "worker",
                                "--concurrency", "2", "--queues", os.environ["LICK_CELERY_QUEUE"],
                                "--without-gossip", "--without-mingle", "--without-heartbeat"],
                               stdout=log, stderr=subprocess.STDOUT)
    time.sleep(4)
    return process


def run(name: str, args, callers, mix: dict, mixes: dict | None = None, budget: int = 100_000,
        downloads: list[Download] = ()) -> dict:
    from archive.config import get_settings

    before = os.getloadavg()[0]
    os.environ["PGAPPNAME"] = APP_NAME  # the server's connections, told from everyone else's
    try:
        context = server(workers=args.workers)
        base, process = context.__enter__()
    finally:
        del os.environ["PGAPPNAME"]
    try:
        plan = scenario(base)
        plan.downloads = list(downloads)
        sampler = Sampler(get_settings().dsn("owner"), APP_NAME)
        sampler.start()
        exchanges, elapsed = run_load(base, callers, plan, mix, args.seconds if len(callers) > 1 else 600, budget,
                                      mixes=mixes)
        sampler.stop()
        peaks = peak_rss_mb(process_tree(process.pid) + process_tree(args.celery_pid))
        settled = time.monotonic() + 15  # the connections once the load is over: all idle, or a leak
        while (states := connections_now(get_settings().dsn("owner"), APP_NAME)).keys() - {"idle"} \
                and time.monotonic() < settled:
            time.sleep(0.5)
    finally:
        context.__exit__(None, None, None)
    print(f"\n== {name}: {len(callers)} client(s); load average before {before:.1f}, after {os.getloadavg()[0]:.1f}")
    for line in summary(exchanges, elapsed):
        print(line)
    print(f"  peak PostgreSQL connections of the server {sampler.peak_connections} (of max_connections "
          f"shared by everyone); after the load: {states or 'none'}")
    for line in rss_lines(peaks):
        print(line)
    return {"cone_p50": percentile([e.ms for e in exchanges if e.kind == "cone" and e.status == 200], 50),
            "rate": len(exchanges) / elapsed, "errors": sum(1 for e in exchanges if e.problem)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--heavy", type=int, nargs="*", default=[3, 8],
                        help="runs with this many clients of heavy queries (8: as many as 2 workers x 4 threads)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--slots", nargs="*", default=[""],
                        help="LICK_SYNC_SLOTS values to run each heavy mix with (100: no limit in effect); "
                             "default: the server's own default")
    parser.add_argument("--only", choices=["full"], help="only the run of the whole mix")
    args = parser.parse_args()
    ensure_database()
    bearer = {"Authorization": f"Bearer {token()}"}
    basic = {"Authorization": "Basic " + base64.b64encode(f"bench_load_user:{PASSWORD}".encode()).decode()}
    callers = [(Caller("bench_load_user", bearer) if n % 3 == 0 else Caller("bench_load_user", basic) if n % 3 == 1
                else Caller("anonymous"), f"10.88.0.{n + 1}") for n in range(args.clients)]
    root = Path(tempfile.mkdtemp(prefix="bench-load-archive-"))
    os.environ["LICK_ARCHIVE_ROOT"] = str(root)  # the server's, for the files written here
    downloads = write_files(root)
    celery = worker()
    args.celery_pid = celery.pid
    try:
        if args.only == "full":
            run("full", args, callers, FULL, downloads=downloads)
            return
        alone = run("alone", args, callers[:1], {"cone": 1}, budget=300)
        mix = run("mix", args, callers, CHEAP)
        full = run("full", args, callers, FULL, downloads=downloads)
        heavy = {}
        for n in args.heavy:
            for slots in args.slots:
                if slots:
                    os.environ["LICK_SYNC_SLOTS"] = slots
                label = f"{n} heavy" + (f" slots={slots}" if slots else "")
                heavy[label] = run(f"mix+{label}", args, callers, CHEAP, mixes={c: {"tap_heavy": 1} for c in range(n)})
                os.environ.pop("LICK_SYNC_SLOTS", None)
    finally:
        celery.terminate()
        celery.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)
    print(f"\ncone p50: alone {alone['cone_p50']:.1f} ms; mix {mix['cone_p50']:.1f} ms "
          f"({mix['cone_p50'] / alone['cone_p50']:.1f}x alone)"
          + f"; full {full['cone_p50']:.1f} ms ({full['cone_p50'] / mix['cone_p50']:.2f}x mix)"
          + "".join(f"; mix+{n} {h['cone_p50']:.1f} ms ({h['cone_p50'] / mix['cone_p50']:.2f}x mix)"
                    for n, h in heavy.items()))
    print(f"requests/s: mix {mix['rate']:.1f}, full {full['rate']:.1f}"
          + "".join(f", mix+{n} {h['rate']:.1f}" for n, h in heavy.items())
          + f"; errors: mix {mix['errors']}, full {full['errors']}"
          + "".join(f", mix+{n} {h['errors']}" for n, h in heavy.items()))


if __name__ == "__main__":
    main()
