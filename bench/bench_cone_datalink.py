"""Cone search and DataLink figures on 1,000,000 rows.

    .venv/bin/python -m bench.bench_cone_datalink

Against a real gunicorn on the benchmark database (bench/common.py): /scs?RA=150&DEC=20&SR=0.1,
median, on a new connection each time (a one-off client: curl, a script without a session) and
on a connection kept open (pyvo's and astroquery's requests.Session, TOPCAT, Apache's
mod_proxy), beside the same SQL run directly with psycopg2 on its kept connection; the same at
a new position each time; a cone with rows; /datalink/links for one ID, median.

The HTTP floor is the same request to a WSGI application that does nothing
(:mod:`bench.floor_app`) under the same gunicorn: what any Python service pays before its own
code runs. All figures use a lean client (bench.common: a plain socket).
"""
from __future__ import annotations

import urllib.parse

import bench.common  # noqa: F401  (sets the benchmark database before the settings are read)
from bench.common import KeptConnection, ensure_database, fetch, interleaved_medians, median_ms, server

import psycopg2  # noqa: E402

from archive.config import get_settings  # noqa: E402


def main() -> None:
    ensure_database()
    from vo_services.scs.cone import Cone

    direct = psycopg2.connect(get_settings().dsn("query"))
    direct.autocommit = True

    def run_directly(sr: float):
        """The cone's SQL on a plain connection: a function that runs it, and its row count."""
        sql, params = Cone(150.0, 20.0, sr, 2, 20_000).sql()

        def run() -> int:
            with direct.cursor() as cur:
                cur.execute(sql, params)
                return len(cur.fetchall())
        return run, run()

    run_direct, rows = run_directly(0.1)
    run_wide_direct, wide_rows = run_directly(1.0)
    with direct.cursor() as cur:
        cur.execute("SELECT obs_publisher_did FROM lick.observations WHERE frame_type = 'science' LIMIT 1")
        did = cur.fetchone()[0]
    with server() as (base, _), server(app="bench.floor_app", ready_path="/") as (floor, _):
        # The ratio's sides in turn, so that the machine's load weighs on them alike; then the
        # floor and a new position each time, in turn with the cone again.
        cone = "/scs?RA=150&DEC=20&SR=0.1"
        kept, kept_floor = KeptConnection(base), KeptConnection(floor)
        steps = iter(range(1, 10**6))
        medians = interleaved_medians({"direct": run_direct, "new": lambda: fetch(base + cone),
                                       "kept": lambda: kept.get(cone)}, repeat=1000, warmup=100)
        context = interleaved_medians({
            "new": lambda: fetch(base + cone),
            "moving": lambda: fetch(f"{base}/scs?RA={150 + next(steps) * 1e-6:.6f}&DEC=20&SR=0.1"),
            "floor": lambda: fetch(floor + cone),
            "kept": lambda: kept.get(cone),
            "kept floor": lambda: kept_floor.get(cone)}, repeat=500, warmup=50)
        wide_medians = interleaved_medians({"direct": run_wide_direct,
                                            "kept": lambda: kept.get("/scs?RA=150&DEC=20&SR=1")},
                                           repeat=500, warmup=50)
        links_ms = median_ms(lambda: fetch(f"{base}/datalink/links?ID={urllib.parse.quote(did)}"))
    direct_ms = medians["direct"]
    print(f"cone search RA=150 DEC=20 SR=0.1 ({rows} rows; target < 8 ms and <= 3x the SQL directly):")
    print(f"  the SQL directly (psycopg2):   median {direct_ms:5.2f} ms")
    print(f"  on a kept connection:          median {medians['kept']:5.2f} ms, {medians['kept'] / direct_ms:.1f}x")
    print(f"  on a new connection each time: median {medians['new']:5.2f} ms, {medians['new'] / direct_ms:.1f}x")
    print(f"in turn with gunicorn serving no code (the HTTP floor), new connection / kept:")
    print(f"  cone {context['new']:5.2f} / {context['kept']:5.2f} ms; at a new position each time "
          f"{context['moving']:5.2f} ms (new)")
    print(f"  floor {context['floor']:5.2f} / {context['kept floor']:5.2f} ms; the archive's own part "
          f"{context['new'] - context['floor']:.2f} / {context['kept'] - context['kept floor']:.2f} ms "
          f"= {(context['new'] - context['floor']) / direct_ms:.1f} / "
          f"{(context['kept'] - context['kept floor']) / direct_ms:.1f}x direct")
    print(f"cone search SR=1 ({wide_rows} rows), kept connection: median {wide_medians['kept']:5.2f} ms; "
          f"directly {wide_medians['direct']:5.2f} ms; {wide_medians['kept'] / wide_medians['direct']:.1f}x")
    print(f"DataLink links for one ID:        median {links_ms:5.2f} ms (target < 15 ms)")


if __name__ == "__main__":
    main()
