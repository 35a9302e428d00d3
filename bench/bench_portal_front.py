"""Server time of the portal's front page at 1,000,000 rows, against the full count it replaced.

    LICK_DB_NAME=lick_bench_portal .venv/bin/python -m bench.bench_portal_front [--repeat 100]

On a benchmark database of its own (bench/common.py; rows by COPY through archive/benchrows.py,
30% still proprietary; the holdings summary is kept by the triggers of migration 0010 during the
COPY, as during ingest), times ``GET /`` on a real gunicorn (one kept connection, as a browser
keeps it) and, in turn, the old front page's query (``count(*) ... GROUP BY`` over the published
view, as the query role) run directly with psycopg2. Prints both medians, their ratio, the
summary's size and the machine's load average (the machine is shared: figures are noisy).
Goal: front page < 100 ms median.
"""
from __future__ import annotations

import argparse
import os

os.environ.setdefault("LICK_DB_NAME", "lick_bench_portal")

import bench.common  # noqa: E402,F401  (database name first)
from bench.common import KeptConnection, ensure_database, interleaved_medians, server  # noqa: E402

import psycopg2  # noqa: E402

from archive.config import get_settings  # noqa: E402

OLD_COUNT = ("SELECT telescope, instrument, count(*), min(observing_night), max(observing_night) "
             "FROM lick.observations GROUP BY telescope, instrument ORDER BY telescope, instrument")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=100)
    args = parser.parse_args()
    ensure_database(1_000_000, proprietary=0.3)
    settings = get_settings()
    query = psycopg2.connect(settings.dsn("query"))
    query.autocommit = True
    with query.cursor() as cur:
        cur.execute("SELECT count(*) FROM lick.observations")
        public_rows = cur.fetchone()[0]
    with psycopg2.connect(settings.dsn("owner")) as owner, owner.cursor() as cur:
        cur.execute("SELECT count(*), (SELECT count(*) FROM lick.observation) FROM lick.holdings")
        summary_rows, rows = cur.fetchone()

    def old_count() -> None:
        with query.cursor() as cur:
            cur.execute(OLD_COUNT)
            cur.fetchall()

    with server(workers=1) as (base, _process):
        page = KeptConnection(base)
        body = page.get("/")
        assert b"public files" in body, body[:500]

        def front() -> None:
            page.get("/")

        medians = interleaved_medians({"front page (GET /, summary)": front,
                                       "old full count (direct SQL)": old_count},
                                      repeat=args.repeat, warmup=5)
        page.close()
    query.close()
    new, old = medians["front page (GET /, summary)"], medians["old full count (direct SQL)"]
    print(f"database {settings.db_name}: {rows:,} rows ({public_rows:,} public); summary: {summary_rows} rows")
    for name, value in medians.items():
        print(f"  {name:32s} {value:8.1f} ms median of {args.repeat}")
    print(f"  ratio front page / old count: {new / old:.3f} (old is {old / new:.1f}x slower)")
    print(f"  goal: front page < 100 ms: {'met' if new < 100 else 'NOT met'}")
    print(f"  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
