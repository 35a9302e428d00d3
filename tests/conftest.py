"""Test fixtures: one throw-away archive database per test session, on the real PostgreSQL.

The database is cloned from ``lick_template`` (which holds pg_sphere, see scripts/setup.sh),
migrated with the real migrations, and dropped at the end. Settings point every component
(SQLAlchemy engines, Django) at it before anything reads them.
"""
from __future__ import annotations

import os
import uuid

import pytest

os.environ["LICK_DB_NAME"] = f"lick_test_{uuid.uuid4().hex[:8]}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vo_services.settings")

from archive.config import get_settings  # noqa: E402  (after the environment is set)
from archive.testdb import create_test_database, drop_test_database  # noqa: E402


@pytest.fixture(scope="session")
def archive_db():
    """The migrated test database's name; created once per session, dropped afterwards."""
    name = get_settings().db_name
    create_test_database(name)
    try:
        yield name
    finally:
        drop_test_database(name)


@pytest.fixture(scope="session")
def django_db_setup(archive_db, django_db_blocker):
    """pytest-django uses our migrated database as it is, instead of creating its own."""
    yield


@pytest.fixture
def owner_conn(archive_db):
    """A psycopg2 connection as the owner role, rolled back after the test."""
    import psycopg2

    conn = psycopg2.connect(get_settings().dsn("owner"))
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


@pytest.fixture
def query_conn(archive_db):
    """A psycopg2 connection as the query role (what users' ADQL runs as)."""
    import psycopg2

    conn = psycopg2.connect(get_settings().dsn("query"))
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()
