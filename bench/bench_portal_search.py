"""The portal's search page on 1,000,000 rows: server time of a search (cone + instrument + date
range), its first page and its page 50, beside the same ADQL sent to /tap/sync.

    LICK_DB_NAME=lick_bench_portal_search .venv/bin/python -m bench.bench_portal_search

(any database name; it is made and filled once, as bench/common.py does, and reused). Against a
real gunicorn, on a kept connection (a browser keeps its connection), medians of requests run in
turn (bench.common.interleaved_medians). The page does more than the TAP query: the target/form
checks, a capped count of the results ("add all N to the basket") and the HTML; the ratio says
what that costs. Page 50 is reached by following the "next page" links, as a person would: its
URL carries the key of the row before it (keyset paging), so it should cost what page 1 costs.
"""
from __future__ import annotations

import html
import os
import re
import urllib.parse

import bench.common  # noqa: F401  (sets the benchmark database before the settings are read)
from bench.common import KeptConnection, ensure_database, interleaved_medians, server

SEARCH = {"run": "1", "coords": "150 20", "radius": "1200", "instrument": "Kast Blue",
          "start": "2010-01-01", "end": "2019-12-31"}
GOAL_MS = 100.0


def _next(body: bytes) -> str:
    found = re.search(rb'<a rel="next" href="\?([^"]+)"', body)
    if not found:
        raise SystemExit("the search has fewer than 50 pages' worth of rows on this database")
    return "/search?" + html.unescape(found.group(1).decode())


def _tap(body: bytes) -> str:
    adql = html.unescape(re.search(rb'<pre id="adql">(.*?)</pre>', body, re.S).group(1).decode())
    return "/tap/sync?" + urllib.parse.urlencode({"REQUEST": "doQuery", "LANG": "ADQL", "QUERY": adql})


def main() -> None:
    ensure_database()
    # The bench sends /tap/sync far more often than the per-address limit a public server has.
    os.environ["LICK_RATE_LIMIT"] = "1000000"
    with server(workers=1) as (base, _process):
        client = KeptConnection(base)
        first = "/search?" + urllib.parse.urlencode(SEARCH)
        body = client.get(first)
        rows = len(re.findall(rb'name="id" value=', body))
        tap_first = _tap(body)
        page = first
        for _ in range(49):
            page = _next(client.get(page))
        body50 = client.get(page)
        tap_50 = _tap(body50)
        medians = interleaved_medians({
            "page 1": lambda: client.get(first), "page 1 ADQL via /tap/sync": lambda: client.get(tap_first),
            "page 50": lambda: client.get(page), "page 50 ADQL via /tap/sync": lambda: client.get(tap_50),
        }, repeat=60, warmup=5)
        client.close()
    load = os.getloadavg()
    print(f"search page on {os.environ['LICK_DB_NAME']} (1,000,000 rows): {urllib.parse.urlencode(SEARCH)}")
    print(f"  {rows} rows a page; medians on a kept connection, requests in turn")
    for name in ("page 1", "page 50"):
        ratio = medians[name] / medians[f"{name} ADQL via /tap/sync"]
        verdict = "meets" if medians[name] < GOAL_MS else "MISSES"
        print(f"  {name:8s} {medians[name]:7.1f} ms   the same ADQL via /tap/sync "
              f"{medians[f'{name} ADQL via /tap/sync']:6.1f} ms   ratio {ratio:4.2f}   "
              f"({verdict} the {GOAL_MS:.0f} ms goal)")
    print(f"  load average while measuring (1, 5, 15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
          f" on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
