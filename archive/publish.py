"""Make the published views and TAP_SCHEMA match :mod:`archive.published`.

Both are derived objects: they are dropped and made again from the one description whenever it
changes (a fingerprint of the generated SQL, kept as the comment of schema ``tap_schema``, tells),
in one transaction, so a query sees either the old or the new state. TAP_SCHEMA's content is
generated, never edited by hand.
"""
from __future__ import annotations

import hashlib
import json

from sqlalchemy import Connection, text

from archive.config import get_settings
from archive.visibility import URL_QUOTE_SQL
from archive.published import (
    PUBLISHED_KEYS, PUBLISHED_TABLES, PUBLISHED_VIEWS, SCHEMA_DESCRIPTIONS, TAP_SCHEMA_TABLES,
    PublishedTable,
)

PG_TYPES = {"VARCHAR": "text", "INTEGER": "integer"}


def _tap_schema_ddl() -> list[str]:
    statements = ["DROP SCHEMA IF EXISTS tap_schema CASCADE", "CREATE SCHEMA tap_schema"]
    for table in TAP_SCHEMA_TABLES:
        columns = ", ".join(f"{c.name} {PG_TYPES[c.datatype]}" for c in table.columns)
        statements.append(f"CREATE TABLE {table.qualified_name} ({columns})")
    return statements


def _view_ddl() -> list[str]:
    statements = [f"DROP VIEW IF EXISTS {t.qualified_name}" for t in PUBLISHED_VIEWS]
    return statements + [URL_QUOTE_SQL] + [t.view_sql() for t in PUBLISHED_VIEWS]


def _flag(value: bool) -> int:
    return 1 if value else 0


def tap_schema_rows() -> dict[str, list[dict]]:
    """The content of the five TAP_SCHEMA tables (TAP 1.1 §4), from the published description."""
    schemas = sorted({t.schema for t in PUBLISHED_TABLES})
    rows: dict[str, list[dict]] = {
        "schemas": [{"schema_name": s, "utype": None, "description": SCHEMA_DESCRIPTIONS[s],
                     "schema_index": i} for i, s in enumerate(schemas)],
        "tables": [], "columns": [], "keys": [], "key_columns": [],
    }
    for index, table in enumerate(PUBLISHED_TABLES):
        rows["tables"].append({
            "schema_name": table.schema, "table_name": table.qualified_name,
            "table_type": "view" if table.is_view else "table", "utype": table.utype,
            "description": table.description, "table_index": index})
        for position, c in enumerate(table.public_columns):
            datatype, arraysize, xtype = c.votable
            rows["columns"].append({
                "table_name": table.qualified_name, "column_name": c.name, "datatype": datatype,
                "arraysize": arraysize, "xtype": xtype, "size": c.size,
                "description": c.description, "utype": c.utype, "unit": c.unit, "ucd": c.ucd,
                "indexed": _flag(c.indexed), "principal": _flag(c.principal), "std": _flag(c.std),
                "column_index": position})
    for key in PUBLISHED_KEYS:
        rows["keys"].append({"key_id": key.key_id, "from_table": key.from_table,
                             "target_table": key.target_table, "description": key.description,
                             "utype": None})
        for from_column, target_column in key.columns:
            rows["key_columns"].append({"key_id": key.key_id, "from_column": from_column,
                                        "target_column": target_column})
    return rows


def _insert(conn: Connection, table: PublishedTable, rows: list[dict]) -> None:
    if not rows:
        return
    names = [c.name for c in table.columns]
    params = [c.name.strip('"') for c in table.columns]
    conn.execute(text(f"INSERT INTO {table.qualified_name} ({', '.join(names)}) VALUES "
                      f"({', '.join(':' + p for p in params)})"), rows)


def _grants() -> list[str]:
    """The query role reads the views, and through them (``security_invoker``) the columns of
    lick.observation they show, never the others (file_path, checksum, ...); row-level security
    on the table (migration 0014) decides which rows."""
    query = f'"{get_settings().query_role}"'
    base = sorted({name for t in PUBLISHED_VIEWS for name in t.base_columns})
    return [f"GRANT USAGE ON SCHEMA tap_schema TO {query}",
            f"REVOKE SELECT ON lick.observation FROM {query}",
            f"GRANT SELECT ({', '.join(base)}) ON lick.observation TO {query}"] + [
        f"GRANT SELECT ON {t.qualified_name} TO {query}" for t in PUBLISHED_TABLES]


def _require_row_security(conn: Connection) -> None:
    """Refuse to publish views that read lick.observation as the caller while the table does not
    filter its rows: without row-level security they would show every row."""
    enabled = conn.execute(text("SELECT relrowsecurity FROM pg_class "
                                "WHERE oid = 'lick.observation'::regclass")).scalar()
    if not enabled:
        raise RuntimeError("lick.observation has no row-level security (migration 0014): "
                           "the published views would show every row")


def fingerprint() -> str:
    material = json.dumps([_tap_schema_ddl(), _view_ddl(), _grants(), tap_schema_rows()],
                          sort_keys=True, default=str)
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def current_fingerprint(conn: Connection) -> str | None:
    return conn.execute(text(
        "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = 'tap_schema'"
    )).scalar()


def publish(conn: Connection, force: bool = False) -> bool:
    """Remake views and TAP_SCHEMA if the description changed; True if anything was done."""
    wanted = fingerprint()
    if not force and current_fingerprint(conn) == wanted:
        return False
    _require_row_security(conn)
    for statement in _tap_schema_ddl() + _view_ddl() + _grants():
        conn.execute(text(statement))
    rows = tap_schema_rows()
    for table in TAP_SCHEMA_TABLES:
        _insert(conn, table, rows[table.name])
    conn.execute(text(f"COMMENT ON SCHEMA tap_schema IS '{wanted}'"))
    return True
