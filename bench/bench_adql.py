"""ADQL translation time of the /tap/examples queries: parse, bare check and full translation.

    .venv/bin/python bench/bench_adql.py

Prints, per example query, the median time (ms) of ``parse``, of ``check`` (grammar and the
catalogue-free type pass, what ``lick-admin translate-adql --parse-only`` runs) and of
``translate`` (the full pipeline against the published catalogue, as /tap/sync runs it), each on
a new text every call (a numbered comment appended, so that the parser's cache of recent trees
never answers: "cold"), and ``translate`` of the same text again ("warm", the tree cached). The
goal is a full translation under 0.5 ms median. No database is needed: translation knows only
the catalogue.

    valgrind --tool=callgrind --callgrind-out-file=/dev/null .venv/bin/python bench/bench_adql.py --count 0
    valgrind --tool=callgrind --callgrind-out-file=/dev/null .venv/bin/python bench/bench_adql.py --count 100

``--count N`` only runs N cold translations of each example, untimed, for an instruction count
that the machine's load does not change: the difference of the two runs' totals ("Collected"),
divided by 5 N, is the instructions of one cold translation (docs/adql.md, "Speed").
"""
from __future__ import annotations

import itertools
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common  # noqa: E402
from vo_services.tap.adql import check, parse, translate  # noqa: E402
from vo_services.tap.catalog import catalog as published_catalog  # noqa: E402
from vo_services.tap.examples import EXAMPLES  # noqa: E402

_SERIAL = itertools.count()


def fresh(query: str) -> str:
    """The same query under a text never seen before."""
    return f"{query}\n-- {next(_SERIAL)}"


def median_ms(action, repeat: int = 400, warmup: int = 20) -> float:
    return common.median_ms(action, repeat=repeat, warmup=warmup)


def count_only(count: int) -> None:
    """``count`` cold translations of each example, for valgrind's instruction count."""
    catalog = published_catalog()
    translate(fresh("SELECT obs_id FROM ivoa.obscore"), catalog)  # imports and first-call setup
    for example in EXAMPLES:
        for _ in range(count):
            translate(fresh(example.query), catalog, maxrec=20000)


def main() -> None:
    if sys.argv[1:2] == ["--count"]:
        count_only(int(sys.argv[2]))
        return
    catalog = published_catalog()
    rows = []
    for example in EXAMPLES:
        query = example.query
        rows.append((example.id,
                     median_ms(lambda: parse(fresh(query))),
                     median_ms(lambda: check(fresh(query))),
                     median_ms(lambda: translate(fresh(query), catalog, maxrec=20000)),
                     median_ms(lambda: translate(query, catalog, maxrec=20000))))
    print(f"{'median ms':<24} {'parse':>8} {'check':>8} {'translate':>10} {'warm':>8}")
    for name, *times in rows:
        print(f"{name:<24} " + " ".join(f"{t:{w}.3f}" for t, w in zip(times, (8, 8, 10, 8))))
    medians = [statistics.median(column) for column in zip(*(r[1:] for r in rows))]
    print(f"{'median of the examples':<24} "
          + " ".join(f"{t:{w}.3f}" for t, w in zip(medians, (8, 8, 10, 8)))
          + "   (goal: translate < 0.5)")
    # Large queries must stay linear in their size (no quadratic pass in parser or generator).
    in_list = "SELECT obs_id FROM ivoa.obscore WHERE s_xel1 IN (" + ", ".join(map(str, range(1000))) + ")"
    polygon = ("SELECT obs_id FROM ivoa.obscore WHERE 1 = CONTAINS(POINT(s_ra, s_dec), POLYGON("
               + ", ".join(f"{i * 0.1:.1f}, {(i % 7) * 0.1:.1f}" for i in range(200)) + "))")
    ors = "SELECT obs_id FROM ivoa.obscore WHERE " + " OR ".join(
        f"(s_xel1 = {i} AND s_xel2 > {i})" for i in range(200))
    for name, query in (("IN (1000 values)", in_list), ("200-vertex POLYGON", polygon),
                        ("200 ORed ANDs", ors)):
        cold = median_ms(lambda: translate(fresh(query), catalog), repeat=5, warmup=1)
        print(f"{name} ({len(query)} characters): translate {cold:.1f} ms")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
