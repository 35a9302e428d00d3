"""TAP figures on 1,000,000 rows: cone latency, streaming throughput and memory, metadata, translation.

    .venv/bin/python -m bench.bench_tap [--large]

Prints, against a real gunicorn on the benchmark database (bench/common.py):
- the cone query via /tap/sync, median, on a new connection and on a kept one (as pyvo's session
  keeps it), and the same pgsphere SQL run directly with psycopg2; the cone query with a new text
  each time (its translation and prepared statement never reused);
- 100,000 rows x 3 columns as BINARY2, beside its floor: the same SQL read with a psycopg 3
  binary cursor directly (target <= 1.3x); 1,000,000 rows x 5 columns in rows/s, with the peak
  resident memory of the server's workers (both read by binary COPY on the server:
  vo_services/results/copyout.py);
- the machine's load average beside each figure (the machine is shared).
- SELECT * FROM TAP_SCHEMA.columns, median; translating a typical query, mean.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

os.environ["LICK_RATE_LIMIT"] = "0"  # hundreds of requests from one address: measured, not limited
import bench.common  # noqa: F401  (sets the benchmark database before the settings are read)
from bench.common import (KeptConnection, children_peak_rss_mb, ensure_database, fetch, interleaved_medians,
                          median_ms, server)

import psycopg  # noqa: E402
import psycopg2  # noqa: E402

from archive.config import get_settings  # noqa: E402

ROWS_100K = "SELECT TOP 100000 obs_id, s_ra, s_dec FROM ivoa.obscore"
CONE = ("SELECT TOP 100 * FROM ivoa.obscore WHERE "
        "1=CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 150, 20, 0.5))")


def sync_url(base: str, query: str, **params) -> str:
    return f"{base}/tap/sync?" + urllib.parse.urlencode({"LANG": "ADQL", "QUERY": query, **params})


def load() -> str:
    return "load %.1f" % os.getloadavg()[0]


def binary_read(conn, sql: str):
    """Reading ``sql``'s rows with a psycopg 3 binary cursor, as the query role: the floor.
    The reader returns how many rows it read (those the access rule lets this caller see)."""
    def read() -> int:
        with conn.cursor(binary=True) as cur:
            cur.execute(sql)
            return len(cur.fetchall())
    return read


BIG = "SELECT obs_id, s_ra, s_dec, t_min, t_exptime FROM ivoa.obscore"


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def workers_cpu_s(pid: int) -> float:
    return sum(cpu_s(int(child)) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())


def large_results(base: str, process) -> list[str]:
    """The large-result figures: 100,000 x 3 beside its floor, 1,000,000 x 5 in rows/s (median of
    three, each beside the same SQL read with a psycopg 3 binary cursor), the workers' CPU
    seconds for it, and their peak memory."""
    from vo_services.tap.adql import translate
    from vo_services.tap.catalog import catalog

    floor_sql = translate(ROWS_100K, catalog(), maxrec=100000).sql
    big_sql = translate(BIG, catalog(), maxrec=1000000).sql
    with psycopg.connect(get_settings().dsn("query"), autocommit=True) as floor_conn:
        # in turn, as the cone's: the machine's load weighs on both sides of the ratio alike
        medians = interleaved_medians({
            "sync": lambda: fetch(sync_url(base, ROWS_100K, MAXREC="100000")),
            "floor": binary_read(floor_conn, floor_sql)}, repeat=9, warmup=1)
        rows100k_ms, floor_ms = medians["sync"], medians["floor"]
        load_100k = load()
        body = fetch(sync_url(base, ROWS_100K, MAXREC="100000"))
        cpu_before = workers_cpu_s(process.pid)
        big_times, floor_times, size = [], [], 0
        for _ in range(3):
            started = time.perf_counter()
            size = len(fetch(sync_url(base, BIG, MAXREC="1000000")))
            big_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            rows = binary_read(floor_conn, big_sql)()
            floor_times.append(time.perf_counter() - started)
        workers_cpu = (workers_cpu_s(process.pid) - cpu_before) / 3
        load_big = load()
    big_s, big_floor_s = statistics.median(big_times), statistics.median(floor_times)
    peak = children_peak_rss_mb(process.pid)
    return [
        f"100,000 rows x 3 cols BINARY2:  median {rows100k_ms:6.0f} ms, {len(body) / 1e6:.1f} MB; psycopg binary "
        f"cursor directly {floor_ms:6.0f} ms; ratio {rows100k_ms / floor_ms:.2f}x (target <= 1.3x) [{load_100k}]",
        f"1,000,000 rows x 5 cols BINARY2: {rows / big_s:8.0f} rows/s ({rows:,} rows the caller sees, "
        f"{size / 1e6:.0f} MB, median of 3: {big_s:.2f} s, best {min(big_times):.2f} s; "
        f"{1_000_000 / big_s:8.0f} per million asked) (target >= 900,000 rows/s) [{load_big}]",
        f"  the same SQL, psycopg binary cursor directly: {big_floor_s:.2f} s, {rows / big_floor_s:8.0f} rows/s; "
        f"ratio {big_s / big_floor_s:.2f}x; the server worker's CPU per response {workers_cpu:.2f} s",
        f"peak server worker memory:      {peak:6.0f} MB (target < 300 MB)",
    ]


def main() -> None:
    """``--large``: only the large-result figures (100,000 x 3 and 1,000,000 x 5)."""
    ensure_database()
    if "--large" in sys.argv[1:]:
        with server() as (base, process):
            print("\n".join(large_results(base, process)))
        return
    from vo_services.tap.adql import translate
    from vo_services.tap.catalog import catalog

    translated = translate(CONE, catalog(), maxrec=20000)
    direct = psycopg2.connect(get_settings().dsn("query"))
    direct.autocommit = True

    def run_direct():
        with direct.cursor() as cur:
            cur.execute(translated.sql)
            cur.fetchall()

    translate_ms = median_ms(lambda: translate(CONE, catalog(), maxrec=20000), repeat=200)
    with server() as (base, process):
        # in turn, so that the machine's load weighs on both sides of the ratio alike
        kept = KeptConnection(base)
        medians = interleaved_medians({"direct": run_direct, "sync": lambda: fetch(sync_url(base, CONE)),
                                       "kept": lambda: kept.get(sync_url("", CONE))})
        direct_ms, cone_ms, kept_ms = medians["direct"], medians["sync"], medians["kept"]
        radii = iter(range(1, 10**6))  # a new query text each time: nothing translated or prepared before
        fresh_ms = median_ms(lambda: fetch(sync_url(base, CONE.replace("0.5))", f"0.5{next(radii):06d}))"))))
        columns_ms = median_ms(lambda: fetch(sync_url(base, "SELECT * FROM TAP_SCHEMA.columns")))
        large = large_results(base, process)
    print(f"cone via /tap/sync:             median {cone_ms:6.1f} ms (target < 15 ms)")
    print(f"same SQL directly (psycopg2):   median {direct_ms:6.1f} ms; ratio {cone_ms / direct_ms:.1f}x (target <= 3x)")
    print(f"  on a kept connection:         median {kept_ms:6.1f} ms; ratio {kept_ms / direct_ms:.1f}x")
    print(f"  the same, a new text each time: median {fresh_ms:6.1f} ms; ratio {fresh_ms / direct_ms:.1f}x "
          "(nothing translated or prepared before)")
    print("\n".join(large))
    print(f"SELECT * FROM TAP_SCHEMA.columns: median {columns_ms:6.1f} ms (target < 15 ms)")
    print(f"translating the cone query:     median {translate_ms:6.2f} ms (target < 2 ms)")


if __name__ == "__main__":
    main()
