"""ADQL translation time of the /tap/examples queries: parse, bare check and full translation.

    .venv/bin/python bench/bench_adql.py

Prints, per example query, the median time (ms) of ``parse``, of ``check`` (grammar and the
catalogue-free type pass, what ``lick-admin translate-adql --parse-only`` runs) and of
``translate`` (the full pipeline against the published catalogue, as /tap/sync runs it), and the
median over all examples. The goal is a full translation under 0.5 ms median. No database is
needed: translation knows only the catalogue.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vo_services.tap.adql import Catalog, parse, translate  # noqa: E402
from vo_services.tap.examples import EXAMPLES  # noqa: E402

try:
    from vo_services.tap.adql import check
except ImportError:  # before the catalogue-free type pass existed
    check = None


def median_ms(action, repeat: int = 400, warmup: int = 20) -> float:
    for _ in range(warmup):
        action()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    catalog = Catalog.from_published()
    rows = []
    for example in EXAMPLES:
        parse_ms = median_ms(lambda: parse(example.query))
        check_ms = median_ms(lambda: check(example.query)) if check else float("nan")
        full_ms = median_ms(lambda: translate(example.query, catalog, maxrec=20000))
        rows.append((example.id, parse_ms, check_ms, full_ms))
    print(f"{'example':<24} {'parse':>8} {'check':>8} {'translate':>10}  (median ms)")
    for name, parse_ms, check_ms, full_ms in rows:
        print(f"{name:<24} {parse_ms:8.3f} {check_ms:8.3f} {full_ms:10.3f}")
    medians = [statistics.median(column) for column in zip(*(r[1:] for r in rows))]
    print(f"{'median of the examples':<24} {medians[0]:8.3f} {medians[1]:8.3f} {medians[2]:10.3f}"
          f"  (goal: translate < 0.5)")


if __name__ == "__main__":
    main()
