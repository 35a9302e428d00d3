"""SIA 2.0 cone (POS=CIRCLE, r = 0.5 deg) against the same ADQL through /tap/sync, at 1,000,000 rows.

    .venv/bin/python -m bench.bench_sia

On its own benchmark database, ``lick_bench_sia`` (``LICK_DB_NAME`` chooses another), filled
once by :mod:`archive.benchrows` and given footprints once: the bench rows carry a pointing but no
``s_region``, which SIA's POS matches, so each row gets a 0.1-degree box around its pointing
(what the demo's images have). Both sides run under the same gunicorn (bench.common), one after
the other in turn, on a new connection each time and on a kept one, with the default output
(a BINARY2 VOTable), the default MAXREC and the same columns; the figures are medians, the ratio
SIA / TAP (target <= 2), and the machine's load average before and after (it is shared: figures
are noisy).
"""
from __future__ import annotations

import os
import urllib.parse

os.environ.setdefault("LICK_DB_NAME", "lick_bench_sia")  # not the other benches' database
os.environ["LICK_RATE_LIMIT"] = "0"  # the per-address rate limit would stop the run

import bench.common  # noqa: E402,F401  (sets the benchmark database before the settings are read)
from bench.common import KeptConnection, ensure_database, fetch, interleaved_medians, server  # noqa: E402

import psycopg2  # noqa: E402

from archive.config import get_settings  # noqa: E402

RA, DEC, RADIUS = 150.0, 20.0, 0.5
HALF_BOX_DEG = 0.05
# A box of HALF_BOX_DEG around each pointing, in pgsphere's text form (radians); Dec kept off the
# poles so that every box is a valid polygon.
FOOTPRINTS = """
UPDATE lick.observation SET s_region = CAST(format('{(%%s,%%s),(%%s,%%s),(%%s,%%s),(%%s,%%s)}',
    radians(s_ra - %(h)s), radians(d - %(h)s), radians(s_ra + %(h)s), radians(d - %(h)s),
    radians(s_ra + %(h)s), radians(d + %(h)s), radians(s_ra - %(h)s), radians(d + %(h)s)) AS spoly)
FROM (SELECT id AS row_id, least(greatest(s_dec, -89.5), 89.5) AS d FROM lick.observation
      WHERE s_region IS NULL AND s_ra IS NOT NULL AND id >= %(first)s AND id < %(first)s + %(n)s) AS pointing
WHERE id = pointing.row_id
"""
BATCH = 100_000


def ensure_footprints() -> None:
    conn = psycopg2.connect(get_settings().dsn("owner"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM lick.observation WHERE s_region IS NULL AND s_ra IS NOT NULL")
            missing = cur.fetchone()[0]
            if missing:
                print(f"giving {missing} bench rows a footprint (once; some minutes)...", flush=True)
                cur.execute("SELECT min(id), max(id) FROM lick.observation")
                low, high = cur.fetchone()
                for first in range(low, high + 1, BATCH):  # in batches: progress shows, none is huge
                    cur.execute(FOOTPRINTS, {"h": HALF_BOX_DEG, "first": first, "n": BATCH})
                    print(f"  ids {first}..{first + BATCH - 1}: {cur.rowcount} rows", flush=True)
                cur.execute("VACUUM ANALYZE lick.observation")
    finally:
        conn.close()


def main() -> None:
    ensure_database()
    ensure_footprints()
    from vo_services.sia.search import FIELDS

    columns = ", ".join(c.name for c in FIELDS)
    adql = (f"SELECT {columns} FROM ivoa.obscore "
            f"WHERE 1 = INTERSECTS(s_region, CIRCLE('ICRS', {RA}, {DEC}, {RADIUS}))")
    sia = "/sia/query?" + urllib.parse.urlencode({"POS": f"CIRCLE {RA} {DEC} {RADIUS}"})
    tap = "/tap/sync?" + urllib.parse.urlencode({"LANG": "ADQL", "QUERY": adql})
    load_before = os.getloadavg()
    with server() as (base, _):
        rows = {name: fetch(base + path + "&RESPONSEFORMAT=votable/td").count(b"<TR>")
                for name, path in (("sia", sia), ("tap", tap))}
        if rows["sia"] != rows["tap"] or not rows["sia"]:
            raise SystemExit(f"the two sides do not find the same rows: {rows}")
        kept = KeptConnection(base)
        new = interleaved_medians({"sia": lambda: fetch(base + sia), "tap": lambda: fetch(base + tap)},
                                  repeat=200, warmup=20)
        on_kept = interleaved_medians({"sia": lambda: kept.get(sia), "tap": lambda: kept.get(tap)},
                                      repeat=200, warmup=20)
    load_after = os.getloadavg()
    print(f"SIA 2.0 POS=CIRCLE {RA} {DEC} {RADIUS} on {get_settings().db_name} "
          f"({rows['sia']} rows; target: SIA <= 2x the same ADQL via /tap/sync):")
    for label, medians in (("new connection each time", new), ("kept connection", on_kept)):
        print(f"  {label:<25} SIA median {medians['sia']:6.2f} ms, TAP sync {medians['tap']:6.2f} ms, "
              f"ratio {medians['sia'] / medians['tap']:.2f}")
    print(f"load average (1, 5, 15 min) before {' '.join(f'{x:.2f}' for x in load_before)}, "
          f"after {' '.join(f'{x:.2f}' for x in load_after)} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
