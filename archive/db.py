"""Database engines for the three roles, and the Alembic configuration of the archive schema."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine

from archive.config import get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version_lick"


_ENGINES: dict[tuple[str, str | None], Engine] = {}


def engine(role: str = "owner", dbname: str | None = None) -> Engine:
    """One pooled engine per (role, database) and process."""
    key = (role, dbname)
    if key not in _ENGINES:
        _ENGINES[key] = create_engine(get_settings().database_url(role, dbname), pool_pre_ping=True)
    return _ENGINES[key]


def query_engine() -> Engine:
    """The query role's pooled engine on the query servers: the read replicas when
    ``LICK_QUERY_DB_HOSTS`` names some (libpq tries them in turn), else the primary."""
    key = ("query", "servers")
    if key not in _ENGINES:
        import psycopg2

        dsn = get_settings().query_dsn("query")
        _ENGINES[key] = create_engine("postgresql+psycopg2://", creator=lambda: psycopg2.connect(dsn),
                                      pool_pre_ping=True)
    return _ENGINES[key]


def dispose_engines() -> None:
    """Close every pooled connection (before a database is dropped, or after a fork)."""
    for role_engine in _ENGINES.values():
        role_engine.dispose()
    _ENGINES.clear()


def alembic_config(url: str | None = None):
    """Alembic's configuration, built in code so no ini file has to be found on disk."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", (url or get_settings().database_url("owner"))
                           .replace("%", "%%"))
    return config
