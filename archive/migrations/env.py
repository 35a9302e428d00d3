"""Alembic environment: migrations run as the owner role, versions kept in public.alembic_version_lick."""
from alembic import context
from sqlalchemy import create_engine

from archive.db import VERSION_TABLE
from archive.schema import metadata

config = context.config


def include_name(name, type_, parent_names):
    # Only our schemas matter when comparing the database with archive.schema.
    if type_ == "schema":
        return name in ("lick",)
    return True


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection") or create_engine(
        config.get_main_option("sqlalchemy.url"))
    if hasattr(connectable, "connect"):
        with connectable.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        include_schemas=True,
        include_name=include_name,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run lick-admin migrate")
run_migrations_online()
