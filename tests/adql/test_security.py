"""Queries that try to reach beyond the published tables or to run something else are refused."""
from __future__ import annotations

import pytest

from vo_services.tap.adql import AdqlError, AdqlSyntaxError, AdqlValidationError, translate


@pytest.mark.parametrize("query, error, message", [
    ("SELECT obs_id FROM ivoa.obscore; DROP TABLE lick.observation", AdqlSyntaxError,
     "only one statement is allowed"),
    ("SELECT obs_id FROM ivoa.obscore;; SELECT 1", AdqlSyntaxError, "only one statement"),
    ("SELECT pg_sleep(1) FROM ivoa.obscore", AdqlValidationError, "unknown function pg_sleep"),
    ("SELECT obs_id FROM ivoa.obscore WHERE pg_sleep(10) IS NULL", AdqlValidationError,
     "unknown function pg_sleep"),
    ("SELECT pg_read_file('/etc/passwd') FROM ivoa.obscore", AdqlValidationError, "unknown function"),
    ("SELECT set_config('lick.principals', '{user:x}', 'false') FROM ivoa.obscore",
     AdqlValidationError, "unknown function set_config"),
    ("SELECT version() FROM ivoa.obscore", AdqlValidationError, "unknown function version"),
    ("SELECT * FROM pg_catalog.pg_tables", AdqlValidationError, "unknown table pg_catalog.pg_tables"),
    ("SELECT * FROM pg_tables", AdqlValidationError, "unknown table pg_tables"),
    ("SELECT * FROM information_schema.tables", AdqlValidationError, "unknown table"),
    ("SELECT * FROM lick.observation", AdqlValidationError, "unknown table lick.observation"),
    ("SELECT * FROM lick.access_grant", AdqlValidationError, "unknown table"),
    ("SELECT file_path FROM lick.observations", AdqlValidationError, "unknown column file_path"),
    ("SELECT ctid, xmin FROM ivoa.obscore", AdqlValidationError, "unknown column ctid"),
    ("SELECT CAST(obs_id AS regclass) FROM ivoa.obscore", AdqlSyntaxError, "found 'regclass'"),
    ("SELECT obs_id::regclass FROM ivoa.obscore", AdqlSyntaxError, "unexpected character ':'"),
    ("SELECT $$x$$ FROM ivoa.obscore", AdqlSyntaxError, "unexpected character '$'"),
    ("SELECT E'\\x41' FROM ivoa.obscore", AdqlSyntaxError, "found ''\\x41''"),
    # U & '...' is a bitwise AND of a column U (unknown) and a string.
    ("SELECT U&'\\0041' FROM ivoa.obscore", AdqlValidationError, "unknown column U"),
    ("SELECT current_user FROM ivoa.obscore", AdqlSyntaxError, "'current_user', a reserved word"),
    ("SELECT obs_id FROM ivoa.obscore /* comment */", AdqlSyntaxError, "found '/'"),
    ("SELECT obs_id FROM ivoa.obscore WHERE obs_id = 'a' UNION SELECT usename FROM pg_user",
     AdqlValidationError, "unknown table pg_user"),
    ("SELECT obs_id FROM ivoa.obscore AS o WHERE EXISTS (SELECT 1 FROM pg_shadow)",
     AdqlValidationError, "unknown table pg_shadow"),
    ("WITH pg_tables AS (SELECT obs_id FROM ivoa.obscore) SELECT * FROM pg_catalog.pg_tables",
     AdqlValidationError, "unknown table pg_catalog.pg_tables"),
    ("SELECT lo_import('/etc/passwd') FROM ivoa.obscore", AdqlValidationError, "unknown function"),
    # LIMIT is no ADQL word: here it is the table's alias, and 10 is out of place.
    ("SELECT obs_id FROM ivoa.obscore LIMIT 10", AdqlSyntaxError, "found '10'"),
    ("INSERT INTO ivoa.obscore VALUES (1)", AdqlSyntaxError, "found 'INSERT'"),
])
def test_refused(catalog, query, error, message):
    with pytest.raises(error) as info:
        translate(query, catalog)
    assert message in str(info.value)


def test_string_literals_cannot_break_out(catalog):
    sql = translate("SELECT obs_id FROM ivoa.obscore WHERE obs_id = '''; DROP TABLE x; --' "
                    "OR target_name = 'back\\slash'' OR 1=1 --'", catalog).sql
    assert "= '''; DROP TABLE x; --')" in sql
    # A backslash is written E'...' with the backslash doubled: the same value whatever
    # standard_conforming_strings says.
    assert "= E'back\\\\slash'' OR 1=1 --')" in sql


def test_delimited_identifiers_cannot_break_out(catalog):
    with pytest.raises(AdqlValidationError) as info:
        translate('SELECT "obs_id""; DROP TABLE x; --" FROM ivoa.obscore', catalog)
    assert 'unknown column "obs_id""; DROP TABLE x; --"' in str(info.value)
    sql = translate('SELECT obs_id AS "a""b" FROM ivoa.obscore', catalog).sql
    assert 'AS "a""b"' in sql


def test_nul_characters_are_refused(catalog):
    for query in ("SELECT obs_id FROM ivoa.obscore WHERE obs_id = 'a\0b'",
                  'SELECT obs_id AS "a\0b" FROM ivoa.obscore'):
        with pytest.raises(AdqlError, match="NUL"):
            translate(query, catalog)


def test_every_emitted_name_is_quoted(catalog):
    sql = translate("SELECT o.obs_id AS id FROM ivoa.obscore AS o ORDER BY id", catalog).sql
    assert sql == ('SELECT "o"."obs_id" AS "id" FROM "ivoa"."obscore" AS "o" ORDER BY "id" ASC')
