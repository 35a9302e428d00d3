"""ADQL 2.1 §2.2 <joined_table>: <qualified_join> ::= <table_reference> [NATURAL] [<join_type>]
JOIN <table_reference> [<join_specification>] — the join specification is optional.

A join without one has no condition: every row of the left side meets every row of the right,
and an outer join keeps a side's rows when the other side is empty (we write ON TRUE).
"""
from __future__ import annotations

from .sections import section_tests

VALID = [
    "SELECT x FROM t1 JOIN t2",
    "SELECT x FROM t1 INNER JOIN t2",
    "SELECT x FROM t1 LEFT JOIN t2",
    "SELECT x FROM t1 LEFT OUTER JOIN t2",
    "SELECT x FROM t1 RIGHT OUTER JOIN t2",
    "SELECT x FROM t1 FULL JOIN t2",
    "SELECT x FROM t1 FULL OUTER JOIN t2",
    "SELECT x FROM t1 NATURAL JOIN t2",
    "SELECT x FROM t1 JOIN t2 USING (x)",
    "SELECT x FROM t1 AS a JOIN t2 AS b ON a.x = b.x JOIN t3 ON b.y = t3.y",
    "SELECT x FROM (t1 JOIN t2 ON t1.a = t2.a), t3",
    "SELECT x FROM t1 JOIN (SELECT * FROM t2) AS q USING (x)",
    # the same on the real tables: they run
    "SELECT o.obs_id, l.instrument FROM ivoa.obscore AS o JOIN lick.observations AS l",
    "SELECT o.obs_id FROM ivoa.obscore AS o LEFT OUTER JOIN lick.observations AS l",
    "SELECT o.obs_id FROM ivoa.obscore AS o FULL OUTER JOIN lick.observations AS l",
    "SELECT o.obs_id FROM ivoa.obscore AS o RIGHT JOIN lick.observations AS l",
    "SELECT o.obs_id FROM ivoa.obscore AS o JOIN lick.observations AS l ON o.obs_id = l.obs_id",
    "SELECT obs_id FROM ivoa.obscore AS o JOIN lick.observations AS l USING (obs_id)",
    "SELECT o.obs_id FROM ivoa.obscore AS o JOIN lick.observations AS l "
    "ON 1 = CONTAINS(POINT(o.s_ra, o.s_dec), CIRCLE(l.s_ra, l.s_dec, 0.1))",
]

INVALID = [
    # <join_condition> ::= ON <search_condition>: a predicate, not a value
    ("SELECT x FROM a JOIN b ON a.x", 1, 27, "ON needs a condition"),
    ("SELECT x FROM a JOIN b ON POINT(1, 2)", 1, 27, "ON needs a condition"),
    ("SELECT x FROM a JOIN b ON MAX(a.x) = 1", 1, 27, "cannot be used in ON"),
    ("SELECT x FROM a JOIN b ON", 1, 26, "found the end of the query"),
    ("SELECT x FROM a JOIN b USING ()", 1, 31, "expected a name"),
    ("SELECT x FROM a NATURAL JOIN b ON a.x = b.x", 1, 25, "cannot also have ON or USING"),
    ("SELECT x FROM a JOIN", 1, 21, "found the end of the query"),
    ("SELECT x FROM a CROSS JOIN b", 1, 17, "CROSS"),
    ("SELECT x FROM a OUTER JOIN b", 1, 17, "OUTER"),
    ("SELECT x FROM a AS q JOIN b AS q", 1, 1, "have the same name in FROM"),
]

test_valid, test_invalid = section_tests(VALID, INVALID)


def test_a_join_without_specification_pairs_every_row(pgsphere, catalog):
    """No condition: the inner join is the cross product, an outer join keeps the rows of its
    side when the other is empty (5 rows in each scratch table, conftest.ROWS)."""
    from vo_services.tap.adql import translate

    def count(query: str) -> int:
        with pgsphere.cursor() as cursor:
            try:
                cursor.execute(translate(query, catalog).sql)
                return len(cursor.fetchall())
            finally:
                pgsphere.rollback()

    empty = "(SELECT obs_id FROM lick.observations WHERE s_ra > 1000) AS l"
    assert count("SELECT o.obs_id FROM ivoa.obscore AS o JOIN lick.observations AS l") == 25
    assert count(f"SELECT o.obs_id FROM ivoa.obscore AS o JOIN {empty}") == 0
    assert count(f"SELECT o.obs_id FROM ivoa.obscore AS o LEFT OUTER JOIN {empty}") == 5
    assert count(f"SELECT o.obs_id FROM {empty} FULL JOIN ivoa.obscore AS o") == 5
