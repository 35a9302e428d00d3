"""The table-driven tests of ADQL 2.1, one file per section of the Recommendation.

Each ``test_adql21_*.py`` file lists queries the Recommendation allows (``VALID``) and queries
it forbids (``INVALID``, with the line and column the error must point at and a fragment of its
message), and gets its two tests from :func:`section_tests`:

- a valid query passes :func:`check` (grammar and the catalogue-free type pass, knowing no
  table); if it names only real tables, it is also translated against the published catalogue
  and run on the scratch pgsphere database (conftest.py), so the SQL we emit for it works;
- an invalid query is refused by :func:`check`, at that line and column.
"""
from __future__ import annotations

import re

import pytest

from vo_services.tap.adql import AdqlError, check, translate

# The published tables of the scratch database; a query naming only these is run there.
REAL_TABLES = ("ivoa.obscore", "lick.observations", "tap_schema.tables", "tap_schema.columns")
_FROM_NAMES = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_][\w.]*)", re.IGNORECASE)


_WITH_NAMES = re.compile(r"(?:WITH|,)\s*([A-Za-z_]\w*)\s+AS\s*\(", re.IGNORECASE)


def names_only_real_tables(query: str) -> bool:
    """Whether every table the query names is a real one (or one of its WITH's)."""
    common = {n.lower() for n in _WITH_NAMES.findall(query)}
    names = [n.lower() for n in _FROM_NAMES.findall(query) if n.lower() not in common]
    return bool(names) and all(n in REAL_TABLES for n in names)


def _ids(cases):
    return [case if isinstance(case, str) else case[0] for case in cases]


def section_tests(valid: list[str], invalid: list[tuple[str, int, int, str]]):
    """The two tests of one section's tables."""

    @pytest.mark.parametrize("query", valid, ids=_ids(valid))
    def test_valid(query, request):
        check(query)
        if names_only_real_tables(query):
            catalog = request.getfixturevalue("catalog")
            connection = request.getfixturevalue("pgsphere")
            sql = translate(query, catalog, maxrec=100).sql
            with connection.cursor() as cursor:
                try:
                    cursor.execute(sql)
                    cursor.fetchall()
                finally:
                    connection.rollback()

    @pytest.mark.parametrize("query, line, column, message", invalid, ids=_ids(invalid))
    def test_invalid(query, line, column, message):
        with pytest.raises(AdqlError) as info:
            check(query)
        assert (info.value.line, info.value.column) == (line, column), str(info.value)
        assert message in info.value.message

    return test_valid, test_invalid
