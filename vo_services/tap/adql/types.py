"""ADQL types (§3), as the validator infers them and as they appear in PostgreSQL.

How a type is written in VOTable is the result columns' business (:mod:`archive.columns`); the
translator says only what ADQL knows beyond the type's name: the length of CHAR(n) and
VARCHAR(n).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

_NUMERIC_ORDER = ("SMALLINT", "INTEGER", "BIGINT", "REAL", "DOUBLE")
_PG_NAMES = {
    "SMALLINT": "smallint", "INTEGER": "integer", "BIGINT": "bigint", "REAL": "real",
    "DOUBLE": "double precision", "BOOLEAN": "boolean", "CHAR": "char", "VARCHAR": "varchar",
    "CLOB": "text", "TIMESTAMP": "timestamp", "POINT": "spoint", "CIRCLE": "scircle",
    "POLYGON": "spoly", "REGION": "spoly",
}


@dataclass(frozen=True)
class SqlType:
    """An ADQL type; NULL is the type of the NULL literal (compatible with every other).

    ANY is the type of a column whose table is not known: the catalogue-free check
    (:func:`.translation.check`) gives it to every column of a named table, and it passes every
    test a value can pass (it is never a condition: ADQL has no boolean columns, §2.2.4).
    """

    name: str
    length: int | None = None

    @property
    def is_numeric(self) -> bool:
        return self.name in _NUMERIC_ORDER

    @property
    def is_integer(self) -> bool:
        return self.name in ("SMALLINT", "INTEGER", "BIGINT")

    @property
    def is_string(self) -> bool:
        return self.name in ("CHAR", "VARCHAR", "CLOB")

    @property
    def is_geometry(self) -> bool:
        return self.name in ("POINT", "CIRCLE", "POLYGON", "REGION")

    @property
    def is_null(self) -> bool:
        return self.name == "NULL"

    @property
    def is_any(self) -> bool:
        return self.name == "ANY"

    @property
    def is_open(self) -> bool:
        """NULL or ANY: a value that may turn out to be of any type."""
        return self.name in ("NULL", "ANY")

    @property
    def arraysize(self) -> str | None:
        """The VOTable arraysize of CHAR(n) ("n") and VARCHAR(n) ("n*"); None for the rest,
        whose arraysize is their type's (DALI 1.1 §3.3)."""
        if self.name in ("CHAR", "VARCHAR") and self.length is not None:
            return f"{self.length}{'*' if self.name == 'VARCHAR' else ''}"
        return None

    @property
    def pg(self) -> str:
        """The PostgreSQL type a value of this type is cast to."""
        name = _PG_NAMES.get(self.name, "text")
        if self.name in ("CHAR", "VARCHAR") and self.length is not None:
            return f"{name}({self.length})"
        return "text" if self.name == "VARCHAR" else name

    def __str__(self) -> str:
        return self.name if self.length is None else f"{self.name}({self.length})"


SMALLINT = SqlType("SMALLINT")
INTEGER = SqlType("INTEGER")
BIGINT = SqlType("BIGINT")
REAL = SqlType("REAL")
DOUBLE = SqlType("DOUBLE")
VARCHAR = SqlType("VARCHAR")
TIMESTAMP = SqlType("TIMESTAMP")
BOOLEAN = SqlType("BOOLEAN")
NULL = SqlType("NULL")
ANY = SqlType("ANY")
POINT = SqlType("POINT")
CIRCLE = SqlType("CIRCLE")
POLYGON = SqlType("POLYGON")
REGION = SqlType("REGION")


def wider(a: SqlType, b: SqlType) -> SqlType:
    """The type of an arithmetic result of two numeric types (ANY if one is ANY)."""
    if a.is_any or b.is_any:
        return ANY
    return max(a, b, key=lambda t: _NUMERIC_ORDER.index(t.name))


def common(types: Iterable[SqlType]) -> SqlType | None:
    """The one type values of ``types`` share (COALESCE, CASE), or None if they share none."""
    known = [t for t in types if not t.is_null]
    if not known:
        return NULL
    if any(t.is_any for t in known):
        return ANY
    if all(t.is_numeric for t in known):
        result = known[0]
        for t in known[1:]:
            result = wider(result, t)
        return result
    if all(t.is_string for t in known):
        return known[0] if len(set(known)) == 1 else VARCHAR
    if all(t == known[0] for t in known):
        return known[0]
    if all(t.is_geometry for t in known):
        return REGION
    return None


def comparable(a: SqlType, b: SqlType) -> bool:
    """Whether ``a`` and ``b`` can be compared (=, <, BETWEEN, IN): the same family, or NULL.

    A string may be compared with a TIMESTAMP: that is how timestamps are written (§3.2.1).
    """
    if a.is_open or b.is_open:
        return True
    families = [("numeric" if t.is_numeric else "string" if t.is_string else
                 "geometry" if t.is_geometry else t.name) for t in (a, b)]
    return families[0] == families[1] or set(families) == {"string", "TIMESTAMP"}
