"""The coverage refresh (archive.coverage.refresh) on the benchmark rows, against direct baselines.

    LICK_DB_NAME=lick_bench .venv/bin/python -m bench.bench_coverage [--rows 1000000] [--repeat 3]

On the benchmark database (bench/common.py: metadata rows, 30% still proprietary), times:

- ``refresh()``: the whole refresh task's work: the MOCs computed by pgsphere through
  ``ivoa.obscore`` as an anonymous caller (query role), the picture drawn, the rows stored;
- its parts: the computation, and the picture;
- the floor: the same union tree of smocs straight on ``lick.observation`` as the owner, the
  access rule written out as a plain condition (no view, no security barrier);
- ``/coverage`` on a real gunicorn (one worker): the first request of each format after a
  refresh (the body is made from the stored MOC, then kept), a repeated one, and the picture;
- why a tree: the flat ``sum(smoc)`` that copies its running union at every row, against the
  tree, on the first ``--flat-rows`` public rows (the flat sum grows as rows x MOC size).

Prints medians, the ratios, and the machine's load average before and after (a shared machine:
figures are noisy). It migrates the database it is given (``LICK_DB_NAME``).
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("LICK_DB_NAME", "lick_bench")

import bench.common  # noqa: E402,F401  (database name first)
from bench.common import ensure_database, fetch, server  # noqa: E402

import psycopg2  # noqa: E402

from archive.config import get_settings  # noqa: E402
from archive.coverage import refresh as coverage  # noqa: E402
from archive.coverage.skymap import render  # noqa: E402

FLOOR_SQL = coverage.COVERAGE_SQL.replace(
    "FROM ivoa.obscore\n    WHERE obs_collection IS NOT NULL",
    "FROM (SELECT 'Lick/' || instrument AS obs_collection, instrument_name, s_region, pos, t_min, t_max, "
    "em_min, em_max FROM lick.observation WHERE obs_release_date <= now()) o\n    WHERE obs_collection IS NOT NULL")
FLAT_SQL = """
SELECT sum(smoc(8, pos))::text FROM (SELECT pos FROM lick.observation
WHERE obs_release_date <= now() AND pos IS NOT NULL ORDER BY id LIMIT %(rows)s) r
"""
assert FLOOR_SQL != coverage.COVERAGE_SQL, "the floor no longer matches the refresh's SQL"
TREE_SQL = """
SELECT sum(m)::text FROM (SELECT sum(m) AS m FROM (SELECT sum(m) AS m, k >> 4 AS k FROM (
    SELECT healpix_nest(6, pos) AS k, sum(smoc(8, pos)) AS m FROM (SELECT pos FROM lick.observation
    WHERE obs_release_date <= now() AND pos IS NOT NULL ORDER BY id LIMIT %(rows)s) r GROUP BY 1) a
  GROUP BY 2) b GROUP BY k >> 4) c
"""


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def owner_query(sql: str, params: dict | None = None):
    with psycopg2.connect(get_settings().dsn("owner")) as conn, conn.cursor() as cur:
        cur.execute("SET statement_timeout = 0")
        cur.execute(sql, params or {})
        return cur.fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--flat-rows", type=int, default=10_000)
    args = parser.parse_args()
    ensure_database(args.rows, proprietary=0.3)
    load_before = os.getloadavg()
    (total_rows,), = owner_query("SELECT count(*) FROM lick.observation")

    median = statistics.median
    refreshes, computes, pictures, floors = [], [], [], []
    for _ in range(args.repeat):
        refreshes.append(timed(coverage.refresh))
        found = []
        computes.append(timed(lambda: found.append(coverage.compute())))
        whole = next(c for c in found[0][0] if c.collection == coverage.ARCHIVE)
        pictures.append(timed(lambda: render(whole.moc)))
        floors.append(timed(lambda: owner_query(FLOOR_SQL, {"order": coverage.MOC_ORDER})))
    with server(workers=1) as (base, _):
        served = {fmt: timed(lambda: fetch(f"{base}/coverage?FORMAT={fmt}")) for fmt in ("fits", "ascii", "json")}
        kept = median([timed(lambda: fetch(f"{base}/coverage?FORMAT=fits")) for _ in range(20)])
        picture = median([timed(lambda: fetch(f"{base}/coverage/sky.png")) for _ in range(20)])
    flat = timed(lambda: owner_query(FLAT_SQL, {"rows": args.flat_rows}))
    tree = timed(lambda: owner_query(TREE_SQL, {"rows": args.flat_rows}))
    load_after = os.getloadavg()

    print(f"database {get_settings().db_name}: {total_rows:,} rows, {whole.public_rows:,} public; "
          f"{len(whole.moc.cells):,} order-{coverage.MOC_ORDER} cells "
          f"({100 * whole.moc.sky_fraction:.1f}% of the sky), {len(found[0][0]) - 1} collections")
    print(f"refresh (compute + picture + store), median of {args.repeat}: {median(refreshes):8.2f} s")
    print(f"  compute, query role through ivoa.obscore:        {median(computes):8.2f} s")
    print(f"  picture ({len(render(whole.moc)):,} bytes PNG):                    {median(pictures):8.2f} s")
    print(f"floor: the same union tree on lick.observation as owner: {median(floors):8.2f} s  "
          f"-> compute / floor = {median(computes) / median(floors):.2f}x")
    print("/coverage, first request after a refresh (made, then kept): "
          + ", ".join(f"{fmt} {1000 * t:.0f} ms" for fmt, t in served.items())
          + f"; again (kept), median of 20: {1000 * kept:.1f} ms; /coverage/sky.png {1000 * picture:.1f} ms")
    print(f"flat sum(smoc) vs union tree on {args.flat_rows:,} public rows: {flat:.2f} s vs {tree:.2f} s "
          f"-> {flat / tree:.0f}x")
    print(f"load average before {' '.join(f'{x:.2f}' for x in load_before)}, "
          f"after {' '.join(f'{x:.2f}' for x in load_after)} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
