"""Result columns and how each ADQL type is declared in VOTable.

The ADQL → VOTable mapping (ADQL 2.1 §3, DALI 1.1 §3.3) lives once, in
:data:`archive.published.VOTABLE_TYPES`; TAP_SCHEMA, VOSI and these FIELDs all read it, so a
result's FIELD always agrees with the column's TAP_SCHEMA row (TAP 1.1 §3.2).

One rule for text: a FIELD's datatype is what the mapping declares (``char`` today), because
a result must agree with TAP_SCHEMA. ``char`` is ASCII (VOTable 1.4 §2.1), and astropy fails
on any other byte in a binary ``char`` cell (pyvo#346, astroquery#2916), so in BINARY2 a
character outside ASCII is written as ``?``; the Unicode containers (TABLEDATA, CSV, TSV,
JSON) and FITS (UTF-8, which astropy and STIL read) keep it. A column declared
``unicodeChar`` (in the mapping, or ``Field.votable_datatype``) keeps it in BINARY2 as well,
as UTF-16.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields as dataclass_fields

from archive.published import VOTABLE_TYPES, PublishedColumn
from vo_services.names import unique_names

TEXT_TYPES = frozenset({"CHAR", "VARCHAR", "CLOB"})
_NOT_NAME_CHAR = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class Field:
    """One result column: its name, ADQL type and IVOA metadata.

    ``arraysize`` and ``xtype`` default to the ADQL type's; set them for CHAR(n) (``"n"``) or
    VARCHAR(n) (``"n*"``). ``votable_datatype`` overrides the VOTable datatype, e.g.
    ``unicodeChar`` for text that must keep non-ASCII characters in BINARY2.
    """

    name: str
    datatype: str
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
        # Column sets key the per-shape caches (FIELD elements, encoders), hashed on every
        # request: compute each field's hash once.
        try:
            return self.__dict__["_hash"]
        except KeyError:
            value = hash(tuple(getattr(self, f.name) for f in dataclass_fields(self)))
            object.__setattr__(self, "_hash", value)
            return value

    def __getstate__(self) -> dict:
        # String hashes differ between processes: a pickled field must not carry its own.
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}

    @classmethod
    def from_column(cls, column: PublishedColumn, name: str | None = None) -> "Field":
        """The FIELD of a published column, optionally under the alias the query gave it."""
        return cls(name=name or column.name.strip('"'), datatype=column.datatype,
                   unit=column.unit, ucd=column.ucd, utype=column.utype,
                   description=column.description)

    @property
    def votable(self) -> tuple[str, str | None, str | None]:
        """(datatype, arraysize, xtype) as written in the FIELD element."""
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


def xml_ids(fields: Iterable[Field]) -> list[str]:
    """A valid, unique XML ID per field (XML 1.0 NCName; VOTable 1.4 §3.1), from its name.

    Names are kept verbatim in ``name``; only the ID is mangled, and only when it must be.
    """
    candidates = []
    for field in fields:
        candidate = field.id or _NOT_NAME_CHAR.sub("_", field.name)
        candidates.append(candidate if re.match(r"[A-Za-z_]", candidate) else "_" + candidate)
    return unique_names(candidates)
