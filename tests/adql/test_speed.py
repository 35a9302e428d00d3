"""Translation is fast enough to do on every synchronous request (target: well under 2 ms)."""
from __future__ import annotations

import time

from vo_services.tap.adql import parse, translate

TYPICAL = ("SELECT TOP 100 obs_id, target_name, instrument_name, t_min, t_exptime,\n"
           "       DISTANCE(POINT('ICRS', s_ra, s_dec), POINT('ICRS', 150, 20)) AS dist\n"
           "FROM ivoa.obscore\n"
           "WHERE 1 = CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 150, 20, 0.5))\n"
           "  AND instrument_name LIKE 'Kast%' AND t_min BETWEEN 58484 AND 58849\n"
           "ORDER BY dist")


def _mean_ms(function, runs: int = 200) -> float:
    function()  # the first call builds the parser
    best = float("inf")
    for _ in range(5):  # best of five batches: the machine may be busy with other work
        start = time.perf_counter()
        for _ in range(runs):
            function()
        best = min(best, (time.perf_counter() - start) / runs * 1000)
    return best


def test_typical_translation_time(catalog):
    mean = _mean_ms(lambda: translate(TYPICAL, catalog, maxrec=20000))
    print(f"\ntranslate() of a typical cone query: {mean:.2f} ms on average")
    assert mean < 20


def test_large_queries_stay_linear(catalog):
    in_list = "SELECT obs_id FROM ivoa.obscore WHERE s_xel1 IN (" + ", ".join(
        str(i) for i in range(1000)) + ")"
    polygon = ("SELECT obs_id FROM ivoa.obscore WHERE 1 = CONTAINS(POINT(s_ra, s_dec), POLYGON("
               + ", ".join(f"{i * 0.1:.1f}, {(i % 7) * 0.1:.1f}" for i in range(200)) + "))")
    ors = "SELECT obs_id FROM ivoa.obscore WHERE " + " OR ".join(
        f"(s_xel1 = {i} AND s_xel2 > {i})" for i in range(200))
    for name, query in (("IN (1000 values)", in_list), ("200-vertex POLYGON", polygon),
                        ("200 ORed ANDs", ors)):
        mean = _mean_ms(lambda: translate(query, catalog), runs=3)
        print(f"\n{name} ({len(query)} characters): {mean:.0f} ms")
        assert mean < 1000
    parse(in_list)
