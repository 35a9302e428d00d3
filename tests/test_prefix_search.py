"""Target-name prefix search through the published views uses the "C"-collation index.

LIKE is not leakproof, so through the security_barrier views it is evaluated row by row after
the access rule; the translator writes ``col LIKE 'prefix%'`` as starts_with(), which is
leakproof and which PostgreSQL answers from ``observation_target_name_prefix`` (migration 0009).
"""
from __future__ import annotations

import pytest

from vo_services.tap.adql import translate
from vo_services.tap.catalog import catalog

ROWS = 20_000
MARK = "prefix-test/"


@pytest.fixture
def many_targets(archive_db, owner_conn):
    """ROWS public observations with target names 'NGC 0' ... 'HD 19999' and a few odd ones."""
    with owner_conn.cursor() as cur:
        cur.execute(
            "INSERT INTO lick.observation (obs_id, obs_publisher_did, dataproduct_type, target_name, "
            "s_ra, s_dec, pos, instrument_name, facility_name, obs_release_date, telescope, instrument, "
            "frame_type, observing_night, file_size, file_mtime, header, file_path) "
            "SELECT %(mark)s || i, 'ivo://test?' || %(mark)s || i, 'image', "
            "  (ARRAY['NGC ', 'HD ', 'M', 'Ngc ', 'NGC_', 'ñgc '])[1 + i %% 6] || i, "
            "  150, 20, spoint(radians(150), radians(20)), 'Nickel Direct', 'Lick Nickel 1m', "
            "  '2020-01-01', 'Nickel', 'Nickel Direct', 'science', '2020-01-01', 4096, now(), "
            "  'SIMPLE = T', '/data/' || i FROM generate_series(1, %(rows)s) AS i",
            {"mark": MARK, "rows": ROWS})
        cur.execute("ANALYZE lick.observation")
    owner_conn.commit()
    yield
    with owner_conn.cursor() as cur:
        cur.execute("DELETE FROM lick.observation WHERE obs_id LIKE %s", (MARK + "%",))
    owner_conn.commit()
    owner_conn.autocommit = True
    with owner_conn.cursor() as cur:  # statistics of the table as it is again, for later tests' plans
        cur.execute("VACUUM ANALYZE lick.observation")
    owner_conn.autocommit = False


def _rows(conn, sql: str) -> list:
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


@pytest.mark.parametrize("pattern", ["NGC 1%", "NGC 1%6", "NGC_1%", "N_C 1%", "ñgc 1%", "NGC 1"])
def test_prefix_like_gives_the_rows_of_like(many_targets, query_conn, pattern):
    adql = f"SELECT obs_id FROM ivoa.obscore WHERE target_name LIKE '{pattern}' ORDER BY obs_id"
    translated = translate(adql, catalog(), maxrec=ROWS).sql
    plain = ("SELECT obs_id FROM ivoa.obscore WHERE target_name LIKE %s ORDER BY obs_id"
             .replace("%s", "'" + pattern + "'"))
    expected = _rows(query_conn, plain)
    assert _rows(query_conn, translated) == expected
    assert expected or pattern == "NGC 1"


def test_prefix_search_through_the_views_uses_the_prefix_index(many_targets, query_conn):
    adql = "SELECT obs_id FROM ivoa.obscore WHERE target_name LIKE 'NGC 12%'"
    translated = translate(adql, catalog(), maxrec=ROWS).sql
    plan = "\n".join(row[0] for row in _rows(query_conn, "EXPLAIN " + translated))
    assert "observation_target_name_prefix" in plan, plan
    assert "Index Scan" in plan or "Index Only Scan" in plan or "Bitmap Index Scan" in plan, plan
