"""The portal's search page on 1,000,000 rows: server time of searches, their first page and their
page 50, beside the same ADQL sent to /tap/sync. Three searches: a cone with an instrument and a
range of nights (the GiST index of migration 0013), and just an instrument sorted by time and by
night, newest first (few conditions: the page walks an ordered index, migration 0014, where it
once read and sorted every visible row of the instrument).

    LICK_DB_NAME=lick_bench_portal_search .venv/bin/python -m bench.bench_portal_search

(any database name; it is made and filled once, as bench/common.py does, and reused). Against a
real gunicorn, on a kept connection (a browser keeps its connection), medians of requests run in
turn (bench.common.interleaved_medians). The page does more than the TAP query: the target/form
checks, a capped count of the results ("add all N to the basket") and the HTML; the ratio says
what that costs. Page 50 is reached by following the "next page" links, as a person would: its
URL carries the key of the row before it (keyset paging), so it should cost what page 1 costs.
"""
from __future__ import annotations

import argparse
import html
import os
import re
import urllib.parse

import bench.common  # noqa: F401  (sets the benchmark database before the settings are read)
from bench.common import KeptConnection, ensure_database, interleaved_medians, server

SEARCHES = {
    "cone + instrument + nights": {"run": "1", "coords": "150 20", "radius": "1200",
                                   "instrument": "Kast Blue", "start": "2010-01-01", "end": "2019-12-31"},
    "instrument, by time": {"run": "1", "instrument": "Kast Blue", "sort": "time", "dir": "desc"},
    "instrument, by night": {"run": "1", "instrument": "Kast Blue", "sort": "night", "dir": "desc"},
}
GOAL_MS = 100.0


def _next(body: bytes) -> str | None:
    found = re.search(rb'<a rel="next" href="\?([^"]+)"', body)
    return "/search?" + html.unescape(found.group(1).decode()) if found else None


def _tap(body: bytes) -> str:
    adql = html.unescape(re.search(rb'<pre id="adql">(.*?)</pre>', body, re.S).group(1).decode())
    return "/tap/sync?" + urllib.parse.urlencode({"REQUEST": "doQuery", "LANG": "ADQL", "QUERY": adql})


def measure(client: KeptConnection, search: dict[str, str]) -> tuple[int, int, dict[str, float]]:
    """Rows a page, the last page reached (50, or the search's last), and the medians of page 1
    and that page and of their ADQL via /tap/sync."""
    first = "/search?" + urllib.parse.urlencode(search)
    body = client.get(first)
    rows = len(re.findall(rb'name="id" value=', body))
    tap_first = _tap(body)
    page, number = first, 1
    while number < 50 and (following := _next(body)) is not None:
        page, number = following, number + 1
        body = client.get(page)
    tap_last = _tap(body)
    return rows, number, interleaved_medians({
        "page 1": lambda: client.get(first), "page 1 ADQL via /tap/sync": lambda: client.get(tap_first),
        "page 50": lambda: client.get(page), "page 50 ADQL via /tap/sync": lambda: client.get(tap_last),
    }, repeat=60, warmup=5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as-is", action="store_true",
                        help="use the database as it stands, unmigrated (a copy kept at an older "
                             "revision, for figures before and after a change)")
    if not parser.parse_args().as_is:
        ensure_database()
    # The bench sends /tap/sync far more often than the per-address limit a public server has.
    os.environ["LICK_RATE_LIMIT"] = "1000000"
    results = {}
    with server(workers=1) as (base, _process):
        client = KeptConnection(base)
        for name, search in SEARCHES.items():
            results[name] = (*measure(client, search), os.getloadavg())
        client.close()
    print(f"search page on {os.environ['LICK_DB_NAME']} (1,000,000 rows); medians on a kept connection, "
          "requests in turn")
    for name, (rows, last, medians, load) in results.items():
        print(f"{name}: {urllib.parse.urlencode(SEARCHES[name])} ({rows} rows a page; "
              f"'page 50' is page {last})")
        for page in ("page 1", "page 50"):
            ratio = medians[page] / medians[f"{page} ADQL via /tap/sync"]
            verdict = "meets" if medians[page] < GOAL_MS else "MISSES"
            print(f"  {page:8s} {medians[page]:7.1f} ms   the same ADQL via /tap/sync "
                  f"{medians[f'{page} ADQL via /tap/sync']:6.1f} ms   ratio {ratio:4.2f}   "
                  f"({verdict} the {GOAL_MS:.0f} ms goal)")
        print(f"  load average after it (1, 5, 15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
              f" on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
