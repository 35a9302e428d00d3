"""What the count summaries' triggers (archive/visible_counts.py) cost a write of 10,000 rows.

    LICK_DB_NAME=lick_bench .venv/bin/python -m bench.bench_count_writes [--repeat 7]

On the benchmark database, times one UPDATE of 10,000 rows of ``lick.observation`` (their release
moved by a day, as a curator's re-decision is: every summary's buckets change), rolled back each
time, with every count summary's triggers, with only the instrument counts' (as at migration
0016), and with none of them (the floor: the table's other triggers still run). The triggers are
disabled inside the rolled-back transaction only, so nothing else sees it; run it on your own copy
(ALTER TABLE takes the table's lock for that moment). Prints medians and the load average.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("LICK_DB_NAME", "lick_bench")

import bench.common  # noqa: E402,F401  (database name first)

import psycopg2  # noqa: E402
from psycopg2 import sql  # noqa: E402

from archive.config import get_settings  # noqa: E402
from archive.visible_counts import COUNTED, INSTRUMENTS  # noqa: E402

ROWS = 10_000
UPDATE = ("UPDATE lick.observation SET obs_release_date = obs_release_date + interval '1 day' "
          "WHERE id IN (SELECT id FROM lick.observation ORDER BY id OFFSET %s LIMIT %s)")
CASES = {
    "every count summary": (),
    "instrument counts only (0016)": tuple(c for c in COUNTED if c is not INSTRUMENTS),
    "no count summary (floor)": COUNTED,
}


def _time(conn, disabled, offset: int) -> float:
    with conn.cursor() as cur:
        for counted in disabled:
            for trigger in counted.trigger_names:
                cur.execute(sql.SQL("ALTER TABLE lick.observation DISABLE TRIGGER {}").format(sql.Identifier(trigger)))
        start = time.perf_counter()
        cur.execute(UPDATE, (offset, ROWS))
        elapsed = time.perf_counter() - start
        assert cur.rowcount == ROWS
    conn.rollback()
    return elapsed * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    conn = psycopg2.connect(get_settings().dsn("owner"))
    times: dict[str, list[float]] = {name: [] for name in CASES}
    load = os.getloadavg()[0]
    for i in range(args.repeat + 1):  # interleaved; the first round warms the cache
        for name, disabled in CASES.items():
            ms = _time(conn, disabled, 100_000 + 20_000 * i)
            if i:
                times[name].append(ms)
    conn.close()
    floor = statistics.median(times["no count summary (floor)"])
    print(f"UPDATE of {ROWS:,} rows' release, median of {args.repeat}, load (1 min) "
          f"{load:.1f}/{os.getloadavg()[0]:.1f}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<32} {median:8.1f} ms  (+{median - floor:6.1f} ms over the floor)")


if __name__ == "__main__":
    main()
