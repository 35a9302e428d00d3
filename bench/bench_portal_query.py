"""The ADQL page's figures on 1,000,000 rows: what the page adds to /tap/sync.

    .venv/bin/python -m bench.bench_portal_query

Against a real gunicorn on the benchmark database (bench/common.py), on a kept connection, run
in turn: the same ADQL (a cone with instrument and TOP 100, and a 1,000-row result) as
``/tap/sync`` (a BINARY2 VOTable) and as the page's own link ``/query?query=…&run=1`` (the whole
HTML page with the result as a table, through the same TAP path and result engine), and the
empty page ``/query``. Prints medians in ms and the ratio of the page to /tap/sync.
"""
from __future__ import annotations

import os
import urllib.parse

os.environ["LICK_RATE_LIMIT"] = "0"  # hundreds of queries from one address: measured, not limited
import bench.common  # noqa: F401  (sets the benchmark database before the settings are read)
from bench.common import KeptConnection, ensure_database, interleaved_medians, server

QUERIES = {
    "cone, TOP 100": ("SELECT TOP 100 obs_id, target_name, instrument_name, t_min, t_exptime, s_ra, s_dec "
                      "FROM ivoa.obscore WHERE 1 = CONTAINS(POINT('ICRS', s_ra, s_dec), "
                      "CIRCLE('ICRS', 150, 20, 2)) AND instrument_name LIKE 'Kast%'", 100),
    "1,000 rows": ("SELECT TOP 1000 obs_id, target_name, instrument_name, t_min, t_exptime, s_ra, s_dec "
                   "FROM ivoa.obscore", 1000),
}


def main() -> None:
    ensure_database()
    with server() as (base, _):
        kept = KeptConnection(base)
        print(f"{'query':<16}{'/tap/sync ms':>14}{'/query ms':>12}{'ratio':>8}")
        for name, (adql, maxrec) in QUERIES.items():
            tap = "/tap/sync?" + urllib.parse.urlencode(
                {"REQUEST": "doQuery", "LANG": "ADQL", "MAXREC": maxrec, "QUERY": adql})
            page = "/query?" + urllib.parse.urlencode({"query": adql, "maxrec": maxrec, "run": 1})
            assert b'<table class="result">' in kept.get(page)
            medians = interleaved_medians({"tap": lambda: kept.get(tap), "page": lambda: kept.get(page)},
                                          repeat=100, warmup=10)
            print(f"{name:<16}{medians['tap']:>14.2f}{medians['page']:>12.2f}"
                  f"{medians['page'] / medians['tap']:>8.2f}")
        empty = interleaved_medians({"empty": lambda: kept.get("/query")}, repeat=100, warmup=10)
        print(f"{'empty /query':<16}{'':>14}{empty['empty']:>12.2f}")
        kept.close()


if __name__ == "__main__":
    main()
