"""Role and database names from the env file go into DDL (GRANT, CREATE POLICY) inside double
quotes, where a bound parameter cannot stand: the settings refuse any name that is not a plain
SQL identifier, so no configured value can close the quotes and add SQL of its own."""
import pytest

from archive.config import get_settings


@pytest.mark.parametrize("knob", ["LICK_DB_NAME", "LICK_OWNER_ROLE", "LICK_INGEST_ROLE", "LICK_QUERY_ROLE"])
@pytest.mark.parametrize("name", ['lick_query" TO PUBLIC; --', "Lick", "1role", "lick-query", "a" * 64])
def test_a_name_that_is_no_plain_identifier_is_refused(monkeypatch, knob, name):
    monkeypatch.setenv(knob, name)
    get_settings.cache_clear()
    try:
        with pytest.raises(ValueError, match=knob):
            get_settings()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_plain_names_are_taken():
    get_settings.cache_clear()
    settings = get_settings()
    assert settings.query_role.startswith("lick_") and settings.db_name.startswith("lick_test_")
