"""The generated SQL runs on PostgreSQL with pgsphere 1.2, gives ADQL's answers and uses the index.

Skipped (with the reason printed) only when no PostgreSQL with pg_sphere can be reached; see
conftest.py for the scratch tables these queries run on.
"""
from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vo_services.tap.adql import translate

from .conftest import ROWS


@pytest.fixture
def run(pgsphere, catalog):
    def rows(query: str, **kw) -> list[tuple]:
        result = translate(query, catalog, **kw)
        with pgsphere.cursor() as cur:
            try:
                cur.execute(result.sql)
                return cur.fetchall()
            finally:
                pgsphere.rollback()
    return rows


def test_pgsphere_version(pgsphere):
    with pgsphere.cursor() as cur:
        cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'pg_sphere'")
        assert cur.fetchone()[0].startswith("1.")


POSITION_CONDITIONS = [
    ("1 = CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 150, 20, 0.5))", {150.0, 150.2}),
    ("CONTAINS(POINT(s_ra, s_dec), CIRCLE(150, 20, 0.1)) = 1", {150.0}),
    ("CONTAINS(POINT(s_ra, s_dec), CIRCLE(150, 20, 0.5)) = 0", {10.0, 359.9, 0.05}),
    ("DISTANCE(POINT(s_ra, s_dec), POINT(150, 20)) < 0.5", {150.0, 150.2}),
    ("DISTANCE(s_ra, s_dec, 150, 20) > 0.5", {10.0, 359.9, 0.05}),
    ("0.5 >= DISTANCE(150, 20, s_ra, s_dec)", {150.0, 150.2}),
    ("DISTANCE(POINT(s_ra, s_dec), POINT(150, 20)) < 170", {150.0, 150.2, 10.0, 359.9, 0.05}),
    # Across RA 0/360:
    ("CONTAINS(POINT(s_ra, s_dec), CIRCLE(0, 0, 0.2)) = 1", {359.9, 0.05}),
    ("CONTAINS(POINT(s_ra, s_dec), BOX(0, 0, 0.4, 0.4)) = 1", {359.9, 0.05}),
    ("CONTAINS(POINT(s_ra, s_dec), POLYGON(149, 19, 151, 19, 151, 21, 149, 21)) = 1", {150.0, 150.2}),
    ("CONTAINS(POINT(s_ra, s_dec), POLYGON(151, 19, 149, 19, 149, 21)) = 1", {150.0}),
    ("CONTAINS(POINT(s_ra, s_dec), REGION('Circle ICRS 10 -30 1')) = 1", {10.0}),
    ("CONTAINS(POINT(s_ra, s_dec), REGION('Polygon ICRS 9 -31 11 -31 11 -29 9 -29')) = 1", {10.0}),
    ("CONTAINS(POINT(s_ra, s_dec), CAST('150 20 0.1' AS CIRCLE)) = 1", {150.0}),
    ("ivo_nocasematch(obs_id, 'OBS-150.0%') = 1", {150.0}),
]

REGION_CONDITIONS = [
    ("INTERSECTS(s_region, CIRCLE(150.25, 20.15, 0.1)) = 1", {150.2}),
    ("INTERSECTS(CIRCLE(150.25, 20.15, 0.1), s_region) = 1", {150.2}),
    ("INTERSECTS(POINT(150.01, 20.01), s_region) = 1", {150.0}),
    ("CONTAINS(POINT(150.01, 20.01), s_region) = 1", {150.0}),
    ("INTERSECTS(s_region, POLYGON(POINT(9, -31), POINT(11, -31), POINT(11, -29))) = 1", {10.0}),
    ("CONTAINS(s_region, CIRCLE(10, -30, 1)) = 1", {10.0}),
    ("1 = INTERSECTS(s_region, POLYGON(s_ra - 1, s_dec, s_ra + 1, s_dec, s_ra, s_dec + 1))",
     {150.0, 150.2, 10.0, 359.9, 0.05}),
]


@pytest.mark.parametrize("condition, expected", POSITION_CONDITIONS)
@pytest.mark.parametrize("table", ["ivoa.obscore", "lick.observations"])  # computed and stored points
def test_position_conditions(run, table, condition, expected):
    assert {ra for (ra,) in run(f"SELECT s_ra FROM {table} WHERE {condition}")} == expected


@pytest.mark.parametrize("condition, expected", REGION_CONDITIONS)
def test_region_conditions(run, condition, expected):
    assert {ra for (ra,) in run(f"SELECT s_ra FROM ivoa.obscore WHERE {condition}")} == expected


def test_geometry_values(run):
    (row,) = run("SELECT DISTANCE(POINT(s_ra, s_dec), POINT(150, 20)) AS d, "
                 "DISTANCE(s_ra, s_dec, 150, 20) AS d4, COORD1(POINT(s_ra - 360, s_dec)) AS c1, "
                 "COORD2(POINT(s_ra, s_dec)) AS c2, AREA(CIRCLE(s_ra, s_dec, 1)) AS a, "
                 "AREA(POINT(s_ra, s_dec)) AS a0, COORD1(CENTROID(CIRCLE(s_ra, s_dec, 1))) AS cc, "
                 "CONTAINS(POINT(s_ra, s_dec), CIRCLE(150, 20, 1)) AS inside, "
                 "COORDSYS(POINT(s_ra, s_dec)) AS cs, COORD1(CENTROID(BOX(s_ra, s_dec, 1, 1))) AS bc "
                 "FROM ivoa.obscore WHERE s_ra = 150.2")
    expected_distance = math.degrees(math.acos(
        math.sin(math.radians(20)) * math.sin(math.radians(20.1))
        + math.cos(math.radians(20)) * math.cos(math.radians(20.1)) * math.cos(math.radians(0.2))))
    d, d4, c1, c2, area, area0, cc, inside, cs, bc = row
    assert d == pytest.approx(expected_distance, rel=1e-9) and d4 == pytest.approx(d)
    assert c1 == pytest.approx(150.2) and c2 == pytest.approx(20.1)  # COORD1 back in [0, 360)
    assert area == pytest.approx(2 * math.pi * (1 - math.cos(math.radians(1))) * (180 / math.pi) ** 2)
    assert area0 == 0 and cc == pytest.approx(150.2) and bc == pytest.approx(150.2)
    assert (inside, cs) == (1, "ICRS")


def test_geometry_objects_run(run):
    (row,) = run("SELECT POINT(s_ra, s_dec) AS p, CIRCLE(s_ra, s_dec, 1) AS c, "
                 "POLYGON(s_ra, s_dec, s_ra + 1, s_dec, s_ra, s_dec + 1) AS poly, "
                 "BOX(POINT(s_ra, s_dec), 1, 2) AS b, REGION('Position ICRS 1 2') AS r, "
                 "CAST('1 2 3 4 5 6' AS POLYGON) AS cp FROM ivoa.obscore WHERE s_ra = 10")
    assert row[0].startswith("(0.1745329") and row[1].startswith("<(0.1745329")
    assert row[2].count("(") == 3 and row[3].count("(") == 4


def test_numbers_have_the_announced_types(run, catalog):
    query = ("SELECT ROUND(s_ra, 1) AS r, TRUNCATE(s_dec, 0) AS t, MOD(s_ra, 7) AS m, "
             "MOD(CAST(s_ra AS INTEGER), 7) AS mi, AVG(s_ra) AS a, COUNT(*) AS n, 1.5 AS x, "
             "IN_UNIT(s_ra, 'arcmin') AS arcmin, LOG10(100) AS l, POWER(2, 10) AS p "
             "FROM ivoa.obscore WHERE s_ra = 150.2 GROUP BY s_ra, s_dec")
    (row,) = run(query)
    columns = translate(query, catalog).columns
    kinds = {"DOUBLE": float, "BIGINT": int, "INTEGER": int}
    for value, column in zip(row, columns):
        assert isinstance(value, kinds[column.datatype]), column.name
    assert row[:4] == (150.2, 20.0, pytest.approx(3.2), 3)
    assert row[7] == pytest.approx(150.2 * 60) and row[8] == 2.0 and row[9] == 1024.0


def test_set_operations_with_top_order_and_offset(run):
    rows = run("(SELECT TOP 2 s_ra FROM ivoa.obscore ORDER BY s_ra ASC) UNION "
               "(SELECT TOP 1 s_ra FROM lick.observations ORDER BY s_ra DESC) ORDER BY 1")
    assert [r[0] for r in rows] == [0.05, 10.0, 359.9]
    rows = run("SELECT s_ra FROM ivoa.obscore ORDER BY s_ra OFFSET 1", maxrec=2)
    assert [r[0] for r in rows] == [10.0, 150.0, 150.2]  # maxrec + 1 rows, after the offset


def test_joins_with_using_and_star(run, catalog):
    rows = run("SELECT * FROM ivoa.obscore AS o FULL JOIN lick.observations AS l USING (obs_id) "
               "WHERE o.s_ra = 10")
    assert len(rows) == 1
    assert len(rows[0]) == len(translate("SELECT * FROM ivoa.obscore AS o FULL JOIN "
                                         "lick.observations AS l USING (obs_id)", catalog).columns)


def test_with_and_correlated_subquery(run):
    rows = run("WITH near AS (SELECT obs_id, s_ra FROM ivoa.obscore WHERE "
               "DISTANCE(s_ra, s_dec, 150, 20) < 1) SELECT n.s_ra FROM near AS n WHERE EXISTS "
               "(SELECT 1 FROM lick.observations AS l WHERE l.obs_id = n.obs_id) ORDER BY n.s_ra")
    assert [r[0] for r in rows] == [150.0, 150.2]


def test_cone_uses_the_gist_index(pgsphere, catalog):
    sql = translate("SELECT obs_id FROM lick.observations WHERE 1 = CONTAINS(POINT('ICRS', s_ra, "
                    "s_dec), CIRCLE('ICRS', 150, 20, 0.5))", catalog).sql
    crossmatch = translate("SELECT o.obs_id FROM ivoa.obscore AS o JOIN lick.observations AS l ON "
                           "DISTANCE(POINT(l.s_ra, l.s_dec), POINT(o.s_ra, o.s_dec)) < 0.01",
                           catalog).sql
    with pgsphere.cursor() as cur:
        try:
            cur.execute("SET LOCAL enable_seqscan = off")  # the table is tiny
            for statement in (sql, crossmatch):
                cur.execute("EXPLAIN " + statement)
                plan = "\n".join(line for (line,) in cur.fetchall())
                assert "Index" in plan and "observations_pos_idx" in plan, plan
        finally:
            pgsphere.rollback()


texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
                max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts, st.booleans())
def test_string_literals_reach_postgresql_exactly(pgsphere, catalog, value, conforming):
    """Whatever the text and whatever standard_conforming_strings, the database sees the value."""
    adql = "'" + value.replace("'", "''") + "'"
    sql = translate(f"SELECT {adql} AS v FROM ivoa.obscore WHERE s_ra = 10", catalog).sql
    with pgsphere.cursor() as cur:
        try:
            cur.execute(f"SET LOCAL standard_conforming_strings = {'on' if conforming else 'off'}")
            cur.execute(sql)
            assert cur.fetchall() == [(value,)]
        finally:
            pgsphere.rollback()


def test_rows_fixture_is_what_the_tests_assume():
    assert len(ROWS) == 5
