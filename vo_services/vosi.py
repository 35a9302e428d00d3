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


# -- VOSI 1.1 §3.1 capabilities documents of the simple DAL services (cone search, SIA), written
#    with ElementTree: one element helper and one document shape, whatever the service.

CAPABILITY_NS = {
    "vosi": "http://www.ivoa.net/xml/VOSICapabilities/v1.0",
    "vr": "http://www.ivoa.net/xml/VOResource/v1.0",
    "vs": "http://www.ivoa.net/xml/VODataService/v1.1",
    "cs": "http://www.ivoa.net/xml/ConeSearch/v1.0",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
XSI_TYPE = f"{{{CAPABILITY_NS['xsi']}}}type"


def sub_element(parent, tag: str, text: str | None = None, **attrs):
    """A child element with attributes; an underscore in a keyword stands for a colon."""
    import xml.etree.ElementTree as ET

    element = ET.SubElement(parent, tag, {k.replace("_", ":"): v for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def capability_element(root, standard_id: str, url: str, xsi_type: str | None = None,
                       role: str | None = None, version: str | None = None):
    """A capability with one vs:ParamHTTP interface. The service's own (``role="std"``) takes
    parameters (accessURL use="base") and declares the archive's security methods, anonymous use
    first (SSO 2.0 §2.1: pyvo skips an interface whose only method is BasicAA); VOSI resources
    are anonymous, complete URLs."""
    from vo_services.accounts.challenges import INTERFACE_SECURITY_METHODS

    capability = sub_element(root, "capability", standardID=standard_id)
    if xsi_type:
        capability.set(XSI_TYPE, xsi_type)
    interface = sub_element(capability, "interface")
    interface.set(XSI_TYPE, "vs:ParamHTTP")
    if role:
        interface.set("role", role)
    if version:
        interface.set("version", version)
    sub_element(interface, "accessURL", url, use="base" if role else "full")
    if role == "std":  # the search itself may be used logged in; VOSI resources are anonymous
        for method in INTERFACE_SECURITY_METHODS:
            sub_element(interface, "securityMethod", **({"standardID": method} if method else {}))
    return capability


def capabilities_document(base: str, add_service, prefixes: tuple[str, ...] = ("vr", "vs")) -> bytes:
    """The capabilities of the service at ``base``: what ``add_service(root, base)`` adds, then VOSI
    capabilities and availability (VOSI 1.1 §2: every service has both)."""
    import xml.etree.ElementTree as ET

    from archive.standards import VOSI_AVAILABILITY, VOSI_CAPABILITIES

    for prefix, uri in CAPABILITY_NS.items():
        ET.register_namespace(prefix, uri)
    root = ET.Element(f"{{{CAPABILITY_NS['vosi']}}}capabilities")
    # Prefixes used only inside xsi:type values must still be declared.
    for prefix in prefixes:
        root.set(f"xmlns:{prefix}", CAPABILITY_NS[prefix])
    add_service(root, base)
    capability_element(root, VOSI_CAPABILITIES, f"{base}/capabilities")
    capability_element(root, VOSI_AVAILABILITY, f"{base}/availability")
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)
