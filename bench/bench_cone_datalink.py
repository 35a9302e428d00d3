"""Cone search and DataLink figures on 1,000,000 rows.

    .venv/bin/python -m bench.bench_cone_datalink

Against a real gunicorn on the benchmark database (bench/common.py): /scs?RA=150&DEC=20&SR=0.1,
median, and the same SQL run directly with psycopg2; the same at a new position each time;
/datalink/links for one ID, median.
"""
from __future__ import annotations

import urllib.parse

import bench.common  # noqa: F401  (sets the benchmark database before the settings are read)
from bench.common import ensure_database, fetch, interleaved_medians, median_ms, server

import psycopg2  # noqa: E402

from archive.config import get_settings  # noqa: E402


def main() -> None:
    ensure_database()
    from vo_services.scs.cone import Cone

    cone = Cone(150.0, 20.0, 0.1, 2, 20_000)
    sql, params = cone.sql()
    direct = psycopg2.connect(get_settings().dsn("query"))
    direct.autocommit = True

    def run_direct():
        with direct.cursor() as cur:
            cur.execute(sql, params)
            cur.fetchall()

    with direct.cursor() as cur:
        cur.execute("SELECT obs_publisher_did FROM lick.observations WHERE frame_type = 'science' LIMIT 1")
        did = cur.fetchone()[0]
    with server() as (base, _):
        # in turn, so that the machine's load weighs on both sides of the ratio alike
        medians = interleaved_medians({"direct": run_direct,
                                       "scs": lambda: fetch(f"{base}/scs?RA=150&DEC=20&SR=0.1")})
        direct_ms, scs_ms = medians["direct"], medians["scs"]
        steps = iter(range(1, 10**6))
        moving_ms = median_ms(lambda: fetch(f"{base}/scs?RA={150 + next(steps) * 1e-6:.6f}&DEC=20&SR=0.1"))
        links_ms = median_ms(lambda: fetch(f"{base}/datalink/links?ID={urllib.parse.quote(did)}"))
    print(f"cone search RA=150 DEC=20 SR=0.1: median {scs_ms:5.1f} ms (target < 8 ms)")
    print(f"same SQL directly (psycopg2):     median {direct_ms:5.1f} ms; ratio {scs_ms / direct_ms:.1f}x (target <= 3x)")
    print(f"  at a new position each time:    median {moving_ms:5.1f} ms; ratio {moving_ms / direct_ms:.1f}x")
    print(f"DataLink links for one ID:        median {links_ms:5.1f} ms (target < 15 ms)")


if __name__ == "__main__":
    main()
