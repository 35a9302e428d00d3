"""Aggregates on 1,000,000 rows through the access rule, against the same SQL on the bare table.

    LICK_DB_NAME=lick_bench .venv/bin/python -m bench.bench_aggregates [--repeat 40]

On the benchmark database (bench/common.py; 30% of the rows still proprietary, granted to 200
programs), times queries people run via /tap/sync on a real gunicorn, as anonymous and as a
member of 20 programs (Bearer token), against the same SQL on ``lick.observation`` without the
access rule, run directly with psycopg2 (the floor), and beside them the translated SQL run
directly through the view as the query role with the member's signed principals ("view"): the
database's share (the access rule, the view's plan) apart from the service's (HTTP, sign,
translate, encode):

- COUNT(*) of one instrument, and GROUP BY instrument_name (ivoa.obscore);
- COUNT(*) of one observing night, and GROUP BY observing_night (lick.observations);
- COUNT(*) of spectra, and GROUP BY dataproduct_type (ivoa.obscore);
- COUNT(*) of one calibration level, and GROUP BY calib_level (ivoa.obscore);
- COUNT(*) of a 30-day t_min range;
- a target-name prefix search (LIKE 'Target 123%').

The counts per value are answered, for every caller, from the column's summary (e.g.
``lick.instrument_counts`` through ``lick.visible_instrument_counts``; archive/visible_counts.py:
the access rule applied to each release-day bucket, the current day's rows counted live), which
the translator calls for that one shape (vo_services/tap/adql/counts.py); their floor is still
the count over the base table (the night's: its index).
The last two run through the view. Beside them, "http": a request to bench/floor_app.py under
the same gunicorn on a new connection, no Django, no database — what any request pays before the
service's own code, so that floor + http is the least a /tap/sync answer can take.

Prints the medians, each side's ratio to its floor (goal: <= 1.5x and < 50 ms), the machine's
load average beside them (the machine is shared: figures are noisy), how wide the table's rows are
(heap and TOAST), how many rows are proprietary, and the plan of each query as the query role
through the view, under the member's signed principals (as the service sets them).

The floor runs as a plain query, so PostgreSQL may run it in parallel; /tap/sync reads a result
without TOP through a server-side cursor (vo_services/tap/execution.py), which PostgreSQL never
runs in parallel: the "view" column runs like the floor, to tell the two apart.
"""
from __future__ import annotations

import argparse
import os
import urllib.parse

os.environ.setdefault("LICK_DB_NAME", "lick_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vo_services.settings")

import bench.common  # noqa: E402,F401  (database name first)
from bench.bench_auth import PROGRAMS, MEMBER, member_token  # noqa: E402
from bench.common import ensure_database, fetch, interleaved_medians, server  # noqa: E402

import psycopg2  # noqa: E402
from psycopg2 import sql  # noqa: E402

from archive.config import get_settings  # noqa: E402
from archive.visible_counts import COUNTED  # noqa: E402

MJD_START = 59000.0  # 2020-05-31
#: name -> (ADQL through the published view, the same SQL on the base table without the rule)
QUERIES = {
    "count one instrument": (
        "SELECT COUNT(*) FROM ivoa.obscore WHERE instrument_name = 'Kast Red'",
        "SELECT COUNT(*) FROM lick.observation WHERE instrument_name = 'Kast Red'"),
    "count per instrument": (
        "SELECT instrument_name, COUNT(*) AS n FROM ivoa.obscore GROUP BY instrument_name",
        "SELECT instrument_name, COUNT(*) AS n FROM lick.observation GROUP BY instrument_name"),
    "count per night": (
        "SELECT observing_night, COUNT(*) AS n FROM lick.observations GROUP BY observing_night",
        "SELECT observing_night::timestamp, COUNT(*) AS n FROM lick.observation GROUP BY observing_night"),
    "count one night": (
        "SELECT COUNT(*) FROM lick.observations WHERE observing_night = '2023-03-21'",
        "SELECT COUNT(*) FROM lick.observation WHERE observing_night = '2023-03-21'"),
    "count per product type": (
        "SELECT dataproduct_type, COUNT(*) AS n FROM ivoa.obscore GROUP BY dataproduct_type",
        "SELECT dataproduct_type, COUNT(*) AS n FROM lick.observation GROUP BY dataproduct_type"),
    "count spectra": (
        "SELECT COUNT(*) FROM ivoa.obscore WHERE dataproduct_type = 'spectrum'",
        "SELECT COUNT(*) FROM lick.observation WHERE dataproduct_type = 'spectrum'"),
    "count per calib level": (
        "SELECT calib_level, COUNT(*) AS n FROM ivoa.obscore GROUP BY calib_level",
        "SELECT calib_level::integer, COUNT(*) AS n FROM lick.observation GROUP BY calib_level"),
    "count one calib level": (
        "SELECT COUNT(*) FROM ivoa.obscore WHERE calib_level = 1",
        "SELECT COUNT(*) FROM lick.observation WHERE calib_level = 1"),
    "count 30 days of t_min": (
        f"SELECT COUNT(*) FROM ivoa.obscore WHERE t_min BETWEEN {MJD_START} AND {MJD_START + 30}",
        f"SELECT COUNT(*) FROM lick.observation WHERE t_min BETWEEN {MJD_START} AND {MJD_START + 30}"),
    "target prefix": (
        "SELECT TOP 100 obs_id, target_name FROM ivoa.obscore WHERE target_name LIKE 'Target 123%'",
        "SELECT obs_id, target_name FROM lick.observation WHERE target_name LIKE 'Target 123%' LIMIT 100"),
}


def sync(base: str, query: str, token: str | None) -> bytes:
    url = f"{base}/tap/sync?" + urllib.parse.urlencode({"LANG": "ADQL", "QUERY": query, "FORMAT": "csv"})
    return fetch(url, headers={"Authorization": f"Bearer {token}"} if token else None)


def table_width(cur) -> str:
    """How wide the hot table's rows are: heap bytes a row, TOAST, and the covering indexes."""
    cur.execute("""
        SELECT c.reltuples, pg_relation_size(c.oid), pg_relation_size(c.reltoastrelid),
               (SELECT avg(pg_column_size(header)) FROM (SELECT header FROM lick.observation
                 TABLESAMPLE SYSTEM (0.1)) s),
               pg_relation_size('lick.observation_instrument'), pg_relation_size('lick.observation_t_min')
        FROM pg_class c WHERE c.oid = 'lick.observation'::regclass""")
    rows, heap, toast, header, instrument, t_min = cur.fetchone()
    return (f"lick.observation: {rows:,.0f} rows, heap {heap / 1e6:,.0f} MB ({heap / max(rows, 1):,.0f} B a row), "
            f"TOAST {toast / 1e6:,.0f} MB, header {header or 0:,.0f} B a row as stored; "
            f"covering indexes: instrument {instrument / 1e6:,.0f} MB, t_min {t_min / 1e6:,.0f} MB")


def _translated(adql: str) -> str:
    from vo_services.tap.adql import translate
    from vo_services.tap.catalog import catalog

    return translate(adql, catalog(), maxrec=20000).sql


def _as_caller(cur, principals: list[str]) -> None:
    """The transaction's principals, signed for this session as the service signs them."""
    from archive.principals import signed_principals

    cur.execute("SELECT set_config('lick.principals', %s, true)",
                (signed_principals(principals, cur.connection.get_backend_pid()),))


def plans(principals: list[str]) -> dict[str, list[str]]:
    """EXPLAIN ANALYZE of each query as the query role through the view, under ``principals``."""
    out = {}
    with psycopg2.connect(get_settings().dsn("query")) as conn, conn.cursor() as cur:
        _as_caller(cur, principals)
        cur.execute("SELECT cardinality(lick.current_principals())")
        if cur.fetchone()[0] != len(principals):
            raise SystemExit("the signed principals did not verify: the plans would be anonymous")
        for name, (adql, _) in QUERIES.items():
            cur.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + _translated(adql))
            out[name] = [r[0] for r in cur.fetchall()]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--as-is", action="store_true",
                        help="use the database as it stands, unmigrated (a copy kept at an older "
                             "revision, for figures before and after a change)")
    args = parser.parse_args()
    if not args.as_is:
        ensure_database(1_000_000, proprietary=0.3)
    token = member_token()
    direct = psycopg2.connect(get_settings().dsn("owner"))
    direct.autocommit = True
    with direct.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) lick.observation")  # index-only scans need the visibility map
        width = table_width(cur)
        cur.execute("SELECT count(*) FILTER (WHERE obs_release_date > now()), count(*) FROM lick.observation")
        hidden, total = cur.fetchone()
        summary_rows = {}
        for counted in COUNTED:
            cur.execute(sql.SQL("SELECT count(*) FROM lick.{}").format(sql.Identifier(counted.summary)))
            summary_rows[counted.summary] = cur.fetchone()[0]
    principals = [f"user:{MEMBER}", *(f"program:{p}" for p in PROGRAMS)]
    view = psycopg2.connect(get_settings().dsn("query"))

    def run_direct(sql: str):
        def action():
            with direct.cursor() as cur:
                cur.execute(sql)
                cur.fetchall()
        return action

    def run_view(sql: str):
        def action():
            with view, view.cursor() as cur:  # one transaction, as a request has
                _as_caller(cur, principals)
                cur.execute(sql)
                cur.fetchall()
        return action

    results = {}
    with server() as (base, _), server(app="bench.floor_app", ready_path="/") as (bare, _):
        for name, (adql, floor_sql) in QUERIES.items():
            load = os.getloadavg()[0]
            results[name] = (interleaved_medians({
                "floor": run_direct(floor_sql),
                "http": lambda: fetch(bare + "/"),
                "view": run_view(_translated(adql)),
                "anonymous": lambda adql=adql: sync(base, adql, None),
                "member": lambda adql=adql: sync(base, adql, token),
            }, repeat=args.repeat, warmup=3), load, os.getloadavg()[0])
    direct.close()
    view.close()
    print(width)
    print(f"{hidden:,} of {total:,} rows proprietary; rows of the count summaries: "
          + ", ".join(f"{name} {rows:,}" for name, rows in summary_rows.items()))
    print(f"{'query':<24} {'floor':>8} {'http':>6} {'view':>8} {'ratio':>6} {'anonymous':>10} {'ratio':>6} "
          f"{'member':>8} {'ratio':>6}   load (1 min) before/after   [goal via /tap/sync: <= 1.5x and < 50 ms]")
    for name, (m, before, after) in results.items():
        print(f"{name:<24} {m['floor']:6.1f}ms {m['http']:4.1f}ms {m['view']:6.1f}ms {m['view'] / m['floor']:5.2f}x "
              f"{m['anonymous']:8.1f}ms {m['anonymous'] / m['floor']:5.2f}x "
              f"{m['member']:6.1f}ms {m['member'] / m['floor']:5.2f}x   {before:.1f}/{after:.1f}")
    print("view: the translated SQL through the view as the query role, member's signed principals, direct; "
          "http: gunicorn and the client alone (bench/floor_app.py), new connection")
    for name, lines in plans(principals).items():
        print(f"\nplan, member of 20 programs, {name}:")
        print("\n".join("    " + line for line in lines))


if __name__ == "__main__":
    main()
