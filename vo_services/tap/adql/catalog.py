"""What a query may name: the tables of a catalogue and their columns, with their IVOA metadata.

The translator knows only this small catalogue protocol, as sqlglot's and DaCHS's translators
know only a catalogue: a :class:`TableSource` finds :class:`TableInfo` tables, whose columns are
anything with a :class:`CatalogColumn`'s attributes. The service builds its catalogue from what
it publishes (:mod:`vo_services.tap.catalog`); the translator imports nothing of the archive.

The translator asks a catalogue for tables by (schema, name) with the names already normalised
as PostgreSQL does (regular identifiers folded to lower case, delimited ones as written), so a
catalogue whose names are lower case — ours, by convention — matches ADQL's case-insensitive
regular identifiers and keeps delimited identifiers case-sensitive.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from .types import SqlType


class CatalogColumn(Protocol):
    """A column as the translator sees it: its name, ADQL type and the metadata a result column
    takes from it (TAP 1.1 §3.2). A frozen dataclass: a column selected under an alias is
    ``dataclasses.replace(column, name=alias)``, so the result's column stays the catalogue's
    (the service's :class:`archive.columns.Column`, which satisfies this protocol)."""

    name: str
    datatype: str  # ADQL type: SMALLINT INTEGER BIGINT REAL DOUBLE CHAR VARCHAR CLOB TIMESTAMP ...
    arraysize: str | None  # "n" for CHAR(n), "n*" for VARCHAR(n); None: the type's own
    xtype: str | None  # None: the type's own
    unit: str | None
    ucd: str | None
    utype: str | None
    description: str | None


@dataclass(frozen=True)
class ColumnInfo:
    """A column the translator makes itself: a computed expression's, or one of a table it does
    not know (the catalogue-free check). A :class:`CatalogColumn`."""

    name: str
    datatype: str
    arraysize: str | None = None
    xtype: str | None = None
    unit: str | None = None
    ucd: str | None = None
    utype: str | None = None
    description: str | None = None


def column_type(column: CatalogColumn) -> SqlType:
    return _sql_type(column.datatype)


@lru_cache(maxsize=256)
def _sql_type(datatype: str) -> SqlType:
    """Types are immutable: one per name, not one per column reference of every query."""
    return SqlType(datatype)


@dataclass(frozen=True)
class CountSource:
    """Where ``COUNT(*)`` of a table, filtered on or grouped by ``column``, is answered without
    reading its rows: ``function(value)``, a set-returning SQL function of the catalogue's that
    returns ``(value, n)`` — for each value of ``column`` (only ``value``'s when not NULL; a NULL
    value a group of its own), how many rows of the table the caller may see have it, values
    with none left out. ``value`` and the argument are of ``argument_type``, the SQL type the
    table gives the column. The catalogue
    vouches that this is exactly what ``count(*)`` over the table would give the same caller.
    """

    column: str
    function: str  # schema-qualified, as the catalogue spells it
    argument_type: str = "text"  # a PostgreSQL type name: "text", "timestamp", "integer"

    @property
    def sql_parts(self) -> tuple[str, ...]:
        return tuple(self.function.split("."))


@dataclass(frozen=True)
class TableInfo:
    """A table users may query.

    ``sql_schema``/``sql_name`` say which PostgreSQL relation serves it (by default the same
    names). ``point_columns`` maps a pair of (longitude, latitude) columns to a column holding
    the same position as a GiST-indexed ``spoint``: ``POINT(ra, dec)`` over these columns is
    translated to that column, so the spatial index answers CONTAINS and DISTANCE. The point
    column need not be published.
    """

    schema: str
    name: str
    columns: tuple[CatalogColumn, ...]
    sql_schema: str | None = None
    sql_name: str | None = None
    point_columns: Mapping[tuple[str, str], str] = field(default_factory=dict, hash=False)
    counts: tuple[CountSource, ...] = ()  # COUNT(*) per column, answered apart (:mod:`.counts`)

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def sql_parts(self) -> tuple[str, str]:
        return self.sql_schema or self.schema, self.sql_name or self.name

    def column(self, name: str) -> CatalogColumn | None:
        return next((c for c in self.columns if c.name == name), None)


class TableSource(Protocol):
    """Anything that finds tables: :class:`Catalog`, or a wrapper adding TAP_UPLOAD tables."""

    def table(self, schema: str | None, name: str) -> TableInfo | None:
        """The table ``schema.name``; with ``schema`` None, the only table of that name."""


class Catalog:
    """The tables of this service, looked up by normalised (lower-case) names."""

    def __init__(self, tables: Iterable[TableInfo]):
        self._tables = {(t.schema, t.name): t for t in tables}

    def table(self, schema: str | None, name: str) -> TableInfo | None:
        if schema is not None:
            return self._tables.get((schema, name))
        matches = [t for (_, table_name), t in self._tables.items() if table_name == name]
        return matches[0] if len(matches) == 1 else None

    def __iter__(self):
        return iter(self._tables.values())
