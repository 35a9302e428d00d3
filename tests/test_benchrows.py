"""``lick-admin fill-bench-rows`` on a database that already holds real ingested rows.

The benchmarks fill their 1,000,000 rows on top of the demo. Every grant written must point at
the bench row it was drawn for, whatever ids the demo's ingest already took from the sequence.
"""
from __future__ import annotations

from lick.cli import main
from ingest.pipeline import ingest_batch

BENCH_HEADER = "SIMPLE  =                    T"


def test_fill_bench_rows_after_the_demo_grants_the_rows_it_wrote(demo_archive, archive_root, owner_conn):
    demo_file = next((archive_root / "demo").rglob("*.fits"))
    # A forced re-ingest updates its row in place; the upsert still draws an id from the sequence,
    # as every re-ingest of a changed file does, so the sequence runs ahead of max(id).
    assert ingest_batch([demo_file], root=archive_root, force=True).updated == 1
    with owner_conn.cursor() as cur:
        cur.execute("SELECT max(id) FROM lick.observation")
        (before,) = cur.fetchone()
    owner_conn.commit()
    try:
        assert main(["fill-bench-rows", "--rows", "300", "--proprietary", "0.5", "--seed", "3"]) == 0
        with owner_conn.cursor() as cur:
            cur.execute("SELECT id, obs_id, obs_release_date > now(), grantees FROM lick.observation "
                        "WHERE id > %s AND header = %s", (before, BENCH_HEADER))
            rows = cur.fetchall()
            cur.execute("SELECT g.observation_id, o.header = %s FROM lick.access_grant g "
                        "JOIN lick.observation o ON o.id = g.observation_id WHERE g.reason = 'bench fill'",
                        (BENCH_HEADER,))
            grants = dict(cur.fetchall())
    finally:
        with owner_conn.cursor() as cur:
            cur.execute("DELETE FROM lick.observation WHERE id > %s AND header = %s", (before, BENCH_HEADER))
        owner_conn.commit()
    assert len(rows) == 300
    hidden = {row_id for row_id, _, proprietary, _ in rows if proprietary}
    assert 100 < len(hidden) < 200
    assert set(grants) == hidden  # each proprietary bench row has its grant, and only those
    assert all(grants.values())  # no grant landed on a demo row
    for row_id, obs_id, proprietary, grantees in rows:
        assert obs_id.endswith(str(row_id))  # the row is the one drawn for this id
        assert bool(grantees) == proprietary  # the trigger mirrored the grant onto the row
