"""Create and drop throw-away archive databases (tests, benchmarks) as the owner role."""
from __future__ import annotations

import psycopg2
from psycopg2 import sql

from archive.config import get_settings
from archive.db import dispose_engines
from archive.migrate import migrate_all

TEMPLATE = "lick_template"


def _as_admin(statement: sql.Composable) -> None:
    """Run one statement that may not run in a transaction (CREATE/DROP DATABASE)."""
    conn = psycopg2.connect(get_settings().dsn("owner", dbname="postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


def create_database(name: str) -> None:
    """An empty database with pg_sphere, cloned from the template the set-up script made."""
    _as_admin(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
        sql.Identifier(name), sql.Identifier(TEMPLATE)))


def drop_database(name: str) -> None:
    _as_admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def create_test_database(name: str) -> None:
    """A database with every migration applied; ``name`` must be the configured LICK_DB_NAME."""
    create_database(name)
    for _ in migrate_all():
        pass


def drop_test_database(name: str) -> None:
    dispose_engines()
    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # Django not configured: nothing to close
        pass
    drop_database(name)
