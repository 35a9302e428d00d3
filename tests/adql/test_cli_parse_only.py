"""``lick-admin translate-adql --parse-only``: ADQL 2.1's grammar and type rules, knowing no table."""
from __future__ import annotations

from lick.cli import main


def test_parse_only_refuses_a_type_error_with_its_position(capsys):
    assert main(["translate-adql", "--parse-only",
                 "select x from t\nwhere point('icrs', 3, 4) || 'aaaa' = 'b'"]) == 1
    error = capsys.readouterr().err
    assert "line 2, column 7: || joins strings, not geometries" in error


def test_parse_only_accepts_what_adql_allows_of_unknown_tables(capsys):
    assert main(["translate-adql", "--parse-only", "SELECT a, b, * FROM t1 JOIN t2"]) == 0
    assert "Join(" in capsys.readouterr().out
