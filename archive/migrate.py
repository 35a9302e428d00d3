"""Apply the archive's Alembic migrations and Django's, reporting what was done."""
from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.exc import OperationalError

from archive.config import get_settings
from archive.db import alembic_config, engine
from archive.errors import AdminError


def _connection_problem(exc: Exception) -> AdminError:
    s = get_settings()
    return AdminError(
        f"cannot reach PostgreSQL at {s.db_host}:{s.db_port} database {s.db_name} as {s.owner_role} "
        f"({str(exc).strip().splitlines()[0]}); run scripts/setup.sh, or check LICK_DB_* settings")


def archive_revision(url: str | None = None) -> str | None:
    """The archive schema's current Alembic revision, or None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    from sqlalchemy import create_engine

    from archive.db import VERSION_TABLE

    eng = engine("owner") if url is None else create_engine(url)
    try:
        with eng.connect() as conn:
            return MigrationContext.configure(
                conn, opts={"version_table": VERSION_TABLE}).get_current_revision()
    finally:
        if url is not None:
            eng.dispose()


def migrate_archive(revision: str = "head", url: str | None = None) -> Iterator[str]:
    from alembic import command
    from alembic.script import ScriptDirectory

    config = alembic_config(url)
    try:
        before = archive_revision(url)
    except OperationalError as exc:
        raise _connection_problem(exc) from None
    target = ScriptDirectory.from_config(config).get_current_head() if revision == "head" else revision
    if before == target:
        yield f"  skipped: archive schema is at revision {before}"
        return
    if revision == "base" or (before and target and target < before):
        command.downgrade(config, revision)
    else:
        command.upgrade(config, revision)
    yield f"  did:     archive schema migrated from {before or 'empty'} to {target}"


def migrate_django() -> Iterator[str]:
    import os

    import django
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vo_services.settings")
    django.setup()
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        yield "  skipped: Django tables are up to date"
        return
    call_command("migrate", verbosity=0, interactive=False)
    yield f"  did:     applied {len(plan)} Django migration(s)"


def publish_tables() -> Iterator[str]:
    from archive.publish import publish

    with engine("owner").begin() as conn:
        if publish(conn):
            yield "  did:     made the published views and TAP_SCHEMA from archive/published.py"
        else:
            yield "  skipped: published views and TAP_SCHEMA are current"


def migrate_all(revision: str = "head") -> Iterator[str]:
    yield from migrate_archive(revision)
    if revision == "head":
        yield from publish_tables()
    try:
        yield from migrate_django()
    except OperationalError as exc:
        raise _connection_problem(exc) from None
