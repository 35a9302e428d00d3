"""VOSI 1.1 resources shared by the services: availability (§3.2) and tables (§3.3)."""
from __future__ import annotations

from datetime import datetime, timezone

from typing import Any

from pydantic import field_validator
from pydantic_xml import attr, element
from vo_models.vodataservice.models import (
    DataType, FKColumn, ForeignKey, Table, TableParam, TableSchema,
)
from vo_models.vosi.availability.models import Availability
from vo_models.vosi.tables.models import VOSITable, VOSITableSet

from archive.config import get_settings
from archive.published import PUBLISHED_KEYS, PUBLISHED_TABLES, SCHEMA_DESCRIPTIONS, PublishedTable

STARTED = datetime.now(timezone.utc).replace(microsecond=0)


def _check_database() -> str | None:
    from vo_services.results.query import run_query

    try:
        run_query("SELECT 1 FROM ivoa.obscore LIMIT 1")
    except Exception as exc:  # noqa: BLE001  (any failure means: not available)
        return f"the database does not answer queries: {str(exc).strip().splitlines()[0]}"
    return None


def replica_note() -> str | None:
    """With read replicas, what the server that answered says of its replay: rows ingested on the
    primary reach it after a delay (docs/deployment.md), which a user may want to know."""
    if not get_settings().has_replicas:
        return None
    from vo_services.results.query import run_query

    try:
        ((standby, age),) = run_query("SELECT pg_is_in_recovery(), "
                                      "extract(epoch FROM now() - pg_last_xact_replay_timestamp())")
    except Exception:  # noqa: BLE001  (_check_database reports a database that does not answer)
        return None
    if not standby:
        return "queries are answered by the primary database (no read replica answers)"
    if age is None:
        return "queries are answered by a read replica that has not replayed a transaction yet"
    return (f"queries are answered by a read replica; the last change it replayed from the primary "
            f"was committed {float(age):.0f} s ago, and newer rows may take a moment to appear")


def _check_broker() -> str | None:
    import redis

    try:
        redis.Redis.from_url(get_settings().redis_url, socket_timeout=2).ping()
    except redis.RedisError as exc:
        return f"the job queue (Redis) does not answer: {exc}"
    return None


def availability_xml() -> bytes:
    """Really probes what queries and jobs need: the database as the query role, and Redis."""
    problems = [p for p in (_check_database(), _check_broker()) if p]
    document = Availability(
        available=not problems,
        up_since=STARTED if not problems else None,
        note=(problems or ["all services are operating normally"])
        + [note for note in (replica_note(),) if note],
    )
    return document.to_xml(encoding="UTF-8", xml_declaration=True)


# vo-models 0.5.4 traps: Table and TableSchema XML-escape their strings before serialising,
# and TableParam its description, so '&' or '<' come out escaped twice; TableParam lacks the
# VODataService ``std`` attribute, and writes xtype as an element, which VODataService 1.1 does
# not have. These subclasses serialise once, add ``std`` and write ``extendedType``.
class _DataType(DataType, tag="dataType"):
    # VODataService 1.1 carries a column's xtype as this attribute, not as an element.
    extended_type: str | None = attr(name="extendedType", default=None)


class _Column(TableParam, tag="column"):
    std: bool | None = attr(name="std", default=None)
    datatype: _DataType | None = element(tag="dataType", default=None)

    @field_validator("description")
    def validate_description(cls, value):
        return value


def _init_unescaped(self, **data: Any) -> None:
    super(Table, self).__init__(**data)


class _Table(Table, tag="table"):
    column: list[_Column] = element(tag="column", default_factory=list, ns="")
    __init__ = _init_unescaped


class _VOSITable(VOSITable, tag="table", ns="vosi"):
    column: list[_Column] = element(tag="column", default_factory=list, ns="")
    __init__ = _init_unescaped


class _Schema(TableSchema, tag="schema"):
    table: list[_Table] = element(tag="table", default_factory=list)

    def __init__(self, **data: Any) -> None:
        super(TableSchema, self).__init__(**data)


class _TableSet(VOSITableSet, tag="tableset", ns="vosi"):
    tableset_schema: list[_Schema] = element(tag="schema")


def _column(column) -> _Column:
    datatype, arraysize, xtype = column.votable
    flags = [flag for flag, on in (("indexed", column.indexed), ("principal", column.principal)) if on]
    return _Column(
        column_name=column.name, description=column.description, unit=column.unit, ucd=column.ucd,
        utype=column.utype,
        datatype=_DataType(type="vs:VOTableType", arraysize=arraysize, extended_type=xtype, value=datatype),
        flag=flags, std=column.std or None,
    )


def _table(table: PublishedTable, detail: bool, cls=_VOSITable):
    keys = [k for k in PUBLISHED_KEYS if k.from_table == table.qualified_name]
    return cls(
        table_name=table.qualified_name,
        table_type="view" if table.is_view else "table",
        description=table.description,
        utype=table.utype,
        column=[_column(c) for c in table.public_columns] if detail else [],
        foreign_key=[ForeignKey(target_table=k.target_table, description=k.description,
                                fk_column=[FKColumn(from_column=f, target_column=t) for f, t in k.columns])
                     for k in keys] if detail else [],
    )


def tableset_xml(detail: bool = True) -> bytes:
    """The whole tableset: exactly what TAP_SCHEMA says, both made from archive.published."""
    schemas = []
    for name in sorted({t.schema for t in PUBLISHED_TABLES}):
        tables = [_table(t, detail, _Table) for t in PUBLISHED_TABLES if t.schema == name]
        schemas.append(_Schema(schema_name=name, description=SCHEMA_DESCRIPTIONS[name], table=tables))
    return _TableSet(tableset_schema=schemas).to_xml(encoding="UTF-8", xml_declaration=True)


def table_xml(qualified_name: str) -> bytes | None:
    """One table with full detail (VOSI §3.3, /tables/<name>); names match case-insensitively."""
    for table in PUBLISHED_TABLES:
        if table.qualified_name.lower() == qualified_name.lower():
            return _table(table, True).to_xml(encoding="UTF-8", xml_declaration=True)
    return None
