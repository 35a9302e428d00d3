"""The one description of a column: its name, ADQL type and IVOA metadata, and how it is
written in VOTable.

Every column the services handle is a :class:`Column`: a published column
(:class:`archive.published.PublishedColumn` adds its SQL and TAP_SCHEMA flags), an uploaded
table's column (:class:`vo_services.tap.uploads.UploadColumn` adds its PostgreSQL type), a
result's FIELD for the encoders (:mod:`vo_services.encoders`), DataLink's and the cone search's
columns. It lives here, at the bottom of the layers (archive < ingest < vo_services), because
the archive's own description of what it publishes is made of it and every layer above may
import it. The ADQL translator does not: it knows columns only through its catalogue protocol
(:class:`vo_services.tap.adql.catalog.CatalogColumn`), which a Column satisfies, so published
and uploaded columns reach it as they are; the columns it computes itself become Columns with
:meth:`Column.described`.
"""
from __future__ import annotations

from dataclasses import dataclass, fields as dataclass_fields

# ADQL 2.1 §3 and DALI 1.1 §3.3: how each ADQL type is serialised in VOTable, as
# (datatype, arraysize, xtype). REGION is an STC-S string, as ObsCore 1.1 services give s_region.
VOTABLE_TYPES: dict[str, tuple[str, str | None, str | None]] = {
    "SMALLINT": ("short", None, None),
    "INTEGER": ("int", None, None),
    "BIGINT": ("long", None, None),
    "REAL": ("float", None, None),
    "DOUBLE": ("double", None, None),
    "BOOLEAN": ("boolean", None, None),
    "CHAR": ("char", None, None),
    "VARCHAR": ("char", "*", None),
    "CLOB": ("char", "*", "adql:clob"),
    "TIMESTAMP": ("char", "*", "timestamp"),
    "POINT": ("double", "2", "point"),
    "CIRCLE": ("double", "3", "circle"),
    "POLYGON": ("double", "*", "polygon"),
    "REGION": ("char", "*", "adql:region"),
}

# What describes a column to a user, as the ADQL translator's catalogue protocol names it.
DESCRIPTION = ("name", "datatype", "arraysize", "xtype", "unit", "ucd", "utype", "description")


@dataclass(frozen=True)
class Column:
    """A column: its name, ADQL type and IVOA metadata (TAP 1.1 §3.2, VOTable FIELD).

    ``arraysize`` and ``xtype`` default to the ADQL type's (:data:`VOTABLE_TYPES`); set them for
    CHAR(n) (``"n"``) or VARCHAR(n) (``"n*"``). ``votable_datatype`` overrides the VOTable
    datatype, e.g. ``unicodeChar`` for text that must keep non-ASCII characters in BINARY2;
    ``id`` the XML ID of its FIELD.
    """

    name: str
    datatype: str  # ADQL / TAP_SCHEMA type: SMALLINT INTEGER BIGINT DOUBLE VARCHAR CLOB TIMESTAMP POINT ...
    arraysize: str | None = None
    xtype: str | None = None
    unit: str | None = None
    ucd: str | None = None
    utype: str | None = None
    description: str | None = None
    id: str | None = None
    votable_datatype: str | None = None

    def __post_init__(self) -> None:
        if self.datatype.upper() not in VOTABLE_TYPES:
            raise ValueError(f"column {self.name}: no VOTable serialisation for ADQL type {self.datatype}")
        object.__setattr__(self, "datatype", self.datatype.upper())

    def __hash__(self) -> int:
        # Column sets key the per-shape caches (FIELD elements, encoders, DataLink descriptors),
        # hashed on every request: compute each column's hash once.
        try:
            return self.__dict__["_hash"]
        except KeyError:
            value = hash(tuple(getattr(self, f.name) for f in dataclass_fields(self)))
            object.__setattr__(self, "_hash", value)
            return value

    def __getstate__(self) -> dict:
        # String hashes differ between processes: a pickled column must not carry its own.
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}

    @classmethod
    def described(cls, column) -> "Column":
        """``column`` itself if it is a Column, else a Column with its description (the
        :data:`DESCRIPTION` attributes): the ADQL translator's computed columns."""
        if isinstance(column, Column):
            return column
        return cls(**{name: getattr(column, name) for name in DESCRIPTION})

    @property
    def votable(self) -> tuple[str, str | None, str | None]:
        """(datatype, arraysize, xtype) as written in the FIELD element, TAP_SCHEMA and VOSI."""
        datatype, arraysize, xtype = VOTABLE_TYPES[self.datatype]
        if self.datatype == "CHAR" and self.arraysize is None:
            arraysize = "*"  # CHAR of unknown length; VOTable 1.4 §2.2: no arraysize means one char
        if self.arraysize == "1":  # one character: written without arraysize (VOTable 1.3 Erratum 3)
            return (self.votable_datatype or datatype, None, self.xtype or xtype)
        return (self.votable_datatype or datatype, self.arraysize or arraysize, self.xtype or xtype)

    @property
    def fixed_length(self) -> int | None:
        """The element count of a fixed arraysize ("2", "16"), None for scalars and "*" sizes.

        A character field without arraysize holds exactly one character (VOTable 1.4 §2.2).
        """
        datatype, arraysize, _ = self.votable
        if arraysize is None and datatype in ("char", "unicodeChar"):
            return 1
        return int(arraysize) if arraysize and arraysize.isdigit() else None

    @property
    def size(self) -> int | None:
        """TAP 1.1 §4.3 "size": the integer part of arraysize, NULL for scalars and '*'."""
        arraysize = self.votable[1]
        digits = arraysize.rstrip("*") if arraysize else ""
        return int(digits) if digits.isdigit() else None
