"""A row's grantees (the copy of its grants the access rule reads) stay exact through ingest.

The ingest writes a new row's grantees with the row, and the triggers of lick.access_grant keep
them afterwards (migrations 0005, 0007); an admin's grant must survive a re-ingest of the file.
"""
from __future__ import annotations

from ingest.pipeline import ingest_batch

MISMATCHES = """
SELECT count(*) FROM lick.observation o
LEFT JOIN (SELECT observation_id, array_agg(principal) AS principals FROM lick.access_grant
           GROUP BY observation_id) g ON g.observation_id = o.id
WHERE NOT (o.grantees @> coalesce(g.principals, '{}') AND o.grantees <@ coalesce(g.principals, '{}'))
"""


def test_grantees_match_the_grants_after_ingest(demo_archive, owner_conn):
    with owner_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM lick.observation WHERE grantees <> '{}'")
        assert cur.fetchone()[0] > 0  # the demo's rows have grants
        cur.execute(MISMATCHES)
        assert cur.fetchone()[0] == 0


def test_an_admin_grant_survives_a_forced_reingest(demo_archive, archive_root, owner_conn):
    with owner_conn.cursor() as cur:
        cur.execute("SELECT id, file_path FROM lick.observation ORDER BY id LIMIT 1")
        row_id, file_path = cur.fetchone()
        cur.execute("INSERT INTO lick.access_grant (observation_id, principal, reason) "
                    "VALUES (%s, 'user:curated', 'admin: test')", (row_id,))
    owner_conn.commit()
    try:
        report = ingest_batch([archive_root / file_path], root=archive_root, force=True)
        assert report.updated == 1, report.failed
        with owner_conn.cursor() as cur:
            cur.execute("SELECT grantees FROM lick.observation WHERE id = %s", (row_id,))
            assert "user:curated" in cur.fetchone()[0]
            cur.execute(MISMATCHES)
            assert cur.fetchone()[0] == 0
    finally:
        with owner_conn.cursor() as cur:
            cur.execute("DELETE FROM lick.access_grant WHERE observation_id = %s AND principal = 'user:curated'",
                        (row_id,))
        owner_conn.commit()
