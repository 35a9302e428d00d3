"""Properties over generated inputs (hypothesis): literals survive exactly, junk fails cleanly."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vo_services.tap.adql import AdqlError, parse, translate
from vo_services.tap.adql.generator import quote_literal

# Any text PostgreSQL can store: no NUL, no lone surrogates.
texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"))


def adql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@settings(deadline=None)  # the first call builds the parser
@given(texts)
def test_string_literal_round_trips_through_the_parser(value):
    tree = parse(f"SELECT obs_id FROM ivoa.obscore WHERE obs_id = {adql_string(value)}")
    assert tree.body.where.right.value == value


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts)
def test_string_literal_reaches_the_sql_escaped(catalog, value):
    sql = translate(f"SELECT obs_id FROM ivoa.obscore WHERE obs_id = {adql_string(value)}",
                    catalog).sql
    assert sql.endswith(f"= {quote_literal(value)})")


_WORDS = ["SELECT", "FROM", "WHERE", "TOP", "1", "0x1F", "'a''b'", '"size"', "obs_id", "s_ra",
          "ivoa.obscore", "lick.observations", "AS", "JOIN", "ON", "USING", "(", ")", ",", ".",
          "*", "+", "-", "/", "||", "&", "=", "<>", "<=", "AND", "OR", "NOT", "IN", "LIKE",
          "BETWEEN", "IS", "NULL", "CONTAINS", "POINT", "CIRCLE", "DISTANCE", "POLYGON", "BOX",
          "REGION", "COUNT", "MAX", "CAST", "INTEGER", "GROUP", "BY", "ORDER", "DESC", "UNION",
          "WITH", "CASE", "WHEN", "THEN", "END", "ivo_hasword", "pg_sleep", "IN_UNIT", "';'",
          ";", "--", "\n", "1.5e3", "date", "x"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(_WORDS), max_size=30))
def test_token_soup_raises_only_adql_errors(catalog, words):
    query = " ".join(words)
    try:
        translate(query, catalog, maxrec=10)
    except AdqlError:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=80))
def test_any_text_raises_only_adql_errors(catalog, text):
    try:
        translate("SELECT obs_id FROM ivoa.obscore WHERE " + text, catalog)
    except AdqlError:
        pass
