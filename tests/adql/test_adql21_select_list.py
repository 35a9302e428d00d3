"""ADQL 2.1 §2.2 <select_list>, <derived_column>, <set_quantifier>: what a query may select."""
from __future__ import annotations

from .sections import section_tests

VALID = [
    "SELECT * FROM ivoa.obscore",
    "SELECT obs_id, s_ra AS ra, s_dec dec_ FROM ivoa.obscore",
    "SELECT o.* FROM ivoa.obscore AS o",
    "SELECT ivoa.obscore.* FROM ivoa.obscore",
    # "*" among other items: the BNF has it alone only; SQL and lyonetia accept it anywhere.
    "SELECT obs_id, s_ra, * FROM ivoa.obscore",
    "SELECT a, b, * FROM t",
    "SELECT *, o.obs_id FROM ivoa.obscore AS o",
    "SELECT DISTINCT target_name FROM ivoa.obscore",
    "SELECT ALL target_name FROM ivoa.obscore",
    'SELECT "s_ra", "obs_id" AS "Id" FROM ivoa.obscore',
    "SELECT s_ra + 1, -s_dec, 'text', NULL FROM ivoa.obscore",
    "SELECT COUNT(*), MIN(s_ra), MAX(s_dec), AVG(s_ra), SUM(t_exptime) FROM ivoa.obscore",
    "SELECT target_name, COUNT(*) FROM ivoa.obscore GROUP BY target_name HAVING COUNT(*) > 1",
    "SELECT x FROM t WHERE x > (SELECT AVG(y) FROM u)",
]

INVALID = [
    ("SELECT FROM t", 1, 8, "expected"),
    ("SELECT a, FROM t", 1, 11, "expected a column name or expression"),
    ("SELECT a b c FROM t", 1, 12, "found 'c'"),
    ("SELECT * AS x FROM t", 1, 10, "found AS"),
    ("SELECT x = 1 FROM t", 1, 10, "found '='"),  # a select item is a value
    # §2.2.4: aggregates do not nest, and act after WHERE and GROUP BY.
    ("SELECT AVG(MAX(x)) FROM t", 1, 12, "inside another aggregate function (AVG)"),
    ("SELECT COUNT(SUM(x)) FROM t", 1, 14, "inside another aggregate function (COUNT)"),
    ("SELECT x FROM t WHERE AVG(x) > 1", 1, 23, "cannot be used in WHERE"),
    ("SELECT x FROM t\nGROUP BY COUNT(*)", 2, 10, "cannot be used in GROUP BY"),
    ("SELECT ivo_string_agg(ivo_string_agg(x, ','), ';') FROM t", 1, 23,
     "inside another aggregate function (ivo_string_agg)"),
    # <having_clause> ::= HAVING <search_condition>
    ("SELECT x FROM t GROUP BY x HAVING COUNT(*)", 1, 35, "HAVING needs a condition"),
    ("SELECT x FROM t WHERE NULL", 1, 23, "WHERE needs a condition"),
    ("SELECT x FROM t WHERE NOT NULL", 1, 27, "NOT needs conditions"),
]

test_valid, test_invalid = section_tests(VALID, INVALID)
