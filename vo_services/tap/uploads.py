"""TAP_UPLOAD (TAP 1.1 §2.7.6, DALI 1.1 §3.4.5): a user's VOTable as a table for one query.

``UPLOAD=name,URI`` (several separated by ``;``, or repeated) names a VOTable, either inline in
the same multipart POST (``param:<part>``) or at an http(s) URL. Each becomes a temporary table
of the query's own database session, queried as ``TAP_UPLOAD.<name>``, gone with the session;
the published views' access rule still applies to everything it is joined with.
"""
from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass

import numpy as np
from psycopg2 import sql

from archive.columns import Column
from vo_services.tap import limits
from vo_services.tap.adql import TableInfo
from vo_services.tap.adql.reserved import RESERVED_WORDS
from vo_services.tap.remote_upload import FetchRefused, fetch_url

METHODS = ("upload-inline", "upload-http", "upload-https")
SCHEMA = "tap_upload"
TABLE_PREFIX = "tap_upload_"
# ADQL 2.1 §2.1.3: a regular identifier is a letter followed by letters, digits or underscores.
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# TAP 1.1 §2.7.6: a column name that is no regular identifier (VizieR's _RAJ2000, B-V, 2MASS, a
# reserved word such as SIZE) is used as an ADQL delimited identifier, "_RAJ2000", exactly as
# written. What such a name may hold: printable ASCII but the double quote and the backslash
# (the characters that quote or escape in SQL, ADQL, COPY or CSV), no blank at either end (the
# same name to a reader, not to PostgreSQL). Nothing outside ASCII: letters that look alike
# (Latin a, Cyrillic а) would make names that read the same and differ.
_DELIMITED = re.compile(r'[!#-\[\]-~]([ !#-\[\]-~]*[!#-\[\]-~])?')

# VOTable datatype (and xtype) -> (ADQL type, PostgreSQL type)
_SCALARS = {
    "boolean": ("BOOLEAN", "boolean"), "unsignedByte": ("SMALLINT", "smallint"),
    "short": ("SMALLINT", "smallint"), "int": ("INTEGER", "integer"), "long": ("BIGINT", "bigint"),
    "float": ("REAL", "real"), "double": ("DOUBLE", "double precision"),
}
_XTYPES = {"timestamp": ("TIMESTAMP", "timestamp"), "point": ("POINT", "spoint"),
           "circle": ("CIRCLE", "scircle"), "polygon": ("POLYGON", "spoly")}


class UploadError(ValueError):
    """An upload the service refuses; the message says which and why."""


def shown(text: str, longest: int = 40) -> str:
    """``text`` as an error message may quote it: control characters escaped, and cut short, so
    that a 10,000-character name does not come back whole."""
    if len(text) <= longest:
        return repr(text)
    return f"{text[:longest]!r}... ({len(text)} characters)"


@dataclass(frozen=True, kw_only=True)
class UploadColumn(Column):
    """A column of an uploaded table: a :class:`~archive.columns.Column` (its ADQL type in
    ``datatype``) with the PostgreSQL type of its temporary table's column."""

    pg_type: str

    __hash__ = Column.__hash__


@dataclass(frozen=True)
class Upload:
    name: str
    columns: tuple[UploadColumn, ...]
    rows: list[tuple]

    @property
    def sql_name(self) -> str:
        return TABLE_PREFIX + self.name.lower()

    def table_info(self) -> TableInfo:
        return TableInfo(SCHEMA, self.name.lower(), self.columns, sql_schema="pg_temp",
                         sql_name=self.sql_name)


def check_name(name: str, what: str, longest: int) -> str:
    """``name`` if it may name an upload's table: an ADQL regular identifier that is not a
    reserved word (ADQL 2.1 §2.1.3; TAP 1.1 §2.7.6), at most ``longest`` characters. Names reach
    SQL only through ``sql.Identifier`` anyway; the rule keeps them writable, unquoted, in ADQL.
    Columns may have other names too (:func:`column_name`)."""
    if not name:
        raise UploadError(f"{what} has an empty name")
    if len(name) > longest:
        raise UploadError(f"{what} name {shown(name)} is longer than {longest} characters")
    if not _NAME.fullmatch(name):
        raise UploadError(f"{what} name {shown(name)} is not a name like t1 or my_table "
                          "(an ADQL 2.1 §2.1.3 regular identifier: a letter, then letters, digits or underscores)")
    if name.upper() in RESERVED_WORDS:
        raise UploadError(f"{what} name {shown(name)} is an ADQL reserved word (ADQL 2.1 §2.1.3)")
    return name


def column_name(name: str, table: str) -> str:
    """The name a query gives the upload's FIELD ``name``: a regular identifier folded to lower
    case, as PostgreSQL folds it (ADQL 2.1 §2.1.3), so that RA, ra and Ra all find it; any other
    name as written, for use as a delimited identifier ("_RAJ2000", "B-V", "size"). Both reach
    SQL only through ``sql.Identifier`` and the translator's quoting; the rules here keep them
    one name to every reader, within PostgreSQL's identifier length (longer ones it would cut,
    silently making two names one)."""
    what = f"a column of the upload {table}"
    longest = limits.UPLOAD_COLUMN_NAME_CHARS
    if not name:
        raise UploadError(f"{what} has an empty name")
    if len(name.encode("utf-8")) > longest:
        raise UploadError(f"{what} name {shown(name)} is longer than {longest} characters")
    if _NAME.fullmatch(name) and name.upper() not in RESERVED_WORDS:
        return name.lower()
    if not _DELIMITED.fullmatch(name):
        raise UploadError(f"{what} name {shown(name)} can be neither an ADQL regular identifier nor a "
                          "delimited one here: it must be printable ASCII without double quotes or "
                          "backslashes, and not start or end with a blank (TAP 1.1 §2.7.6)")
    return name


def parse_upload_params(values: list[str]) -> list[tuple[str, str]]:
    """(name, URI) pairs of the UPLOAD parameter values (TAP 1.1 §2.5.6: ``name,URI``)."""
    pairs = []
    for value in values:
        for item in filter(None, (part.strip() for part in value.split(";"))):
            name, sep, uri = item.partition(",")
            if not sep:
                raise UploadError(f"UPLOAD must be 'name,URI', not {shown(item)}")
            pairs.append((check_name(name.strip(), "an UPLOAD table", limits.UPLOAD_TABLE_NAME_CHARS),
                          uri.strip()))
            if len(pairs) > limits.MAX_UPLOADS:
                raise UploadError(f"a request may hold at most {limits.MAX_UPLOADS} uploads")
    names = [n.lower() for n, _ in pairs]
    if len(set(names)) != len(names):
        raise UploadError("two uploads have the same table name (names are case-insensitive)")
    return pairs


def fetch(uri: str, files: dict) -> bytes:
    """The VOTable bytes behind an UPLOAD URI, within the upload size limit."""
    hard = limits.UPLOAD_BYTES.hard
    if uri.startswith("param:"):
        part = files.get(uri[len("param:"):])
        if part is None:
            raise UploadError(f"UPLOAD refers to {shown(uri)}, but the request has no such multipart part")
        if part.size > hard:
            raise UploadError(f"the upload {shown(uri)} is larger than {hard} bytes")
        return part.read()
    if uri.startswith(("http://", "https://")):
        try:
            return fetch_url(uri, hard)
        except FetchRefused as exc:
            raise UploadError(f"could not fetch the upload {shown(uri, 80)}: {exc}") from None
    raise UploadError(f"UPLOAD URI must be param:<part> or an http(s) URL, not {shown(uri)}")


def read_votable(name: str, data: bytes) -> Upload:
    from astropy.io.votable import parse_single_table

    # Counted before parsing: astropy takes ~13 s for a million TABLEDATA rows, which one
    # anonymous request could otherwise make the service spend again and again.
    if data.count(b"<TR") > limits.UPLOAD_ROWS_HARD:
        raise UploadError(f"the upload {name} has more than {limits.UPLOAD_ROWS_HARD} rows")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = parse_single_table(io.BytesIO(data), verify="ignore")
    except Exception as exc:  # noqa: BLE001  (astropy raises many kinds for broken documents)
        raise UploadError(f"the upload {name} is not a readable VOTable: {shown(str(exc), 200)}") from None
    if len(table.array) > limits.UPLOAD_ROWS_HARD:
        raise UploadError(f"the upload {name} has more than {limits.UPLOAD_ROWS_HARD} rows")
    if not table.fields or len(table.fields) > limits.UPLOAD_COLUMNS:
        raise UploadError(f"the upload {name} must have between 1 and {limits.UPLOAD_COLUMNS} columns")
    columns, seen = [], set()
    for field in table.fields:
        column = _column(name, field)
        # RA and ra are one regular name; "_RA" and "_ra" two delimited ones, which TAP leaves
        # undefined (TAP 1.1 §2.7.6) and which would read alike: refused too.
        if column.name.lower() in seen:
            raise UploadError(f"the upload {name} has two columns named {shown(column.name)} "
                              "(names may not differ only in case)")
        seen.add(column.name.lower())
        columns.append(column)
    # by column: a masked record cannot index an array cell (numpy's mvoid), a masked column can
    cells = [[_value(v, c) for v in table.array[n]] for n, c in zip(table.array.dtype.names, columns)]
    rows = list(zip(*cells)) if cells else []
    return Upload(name, tuple(columns), rows)


def _column(table: str, field) -> UploadColumn:
    name = column_name(field.name or "", table)
    xtype = (field.xtype or "").lower()
    if xtype in _XTYPES:
        adql, pg = _XTYPES[xtype]
        return UploadColumn(name=name, datatype=adql, pg_type=pg, unit=field.unit and str(field.unit),
                            ucd=field.ucd)
    if field.datatype in ("char", "unicodeChar") and "x" not in (field.arraysize or ""):
        single = field.arraysize in (None, "1")  # VOTable 1.4 §2.2: no arraysize is one character
        return UploadColumn(name=name, datatype="CHAR" if single else "VARCHAR", pg_type="text",
                            ucd=field.ucd, arraysize="1" if single else None)
    if field.datatype in _SCALARS and not field.arraysize:
        adql, pg = _SCALARS[field.datatype]
        return UploadColumn(name=name, datatype=adql, pg_type=pg, unit=field.unit and str(field.unit),
                            ucd=field.ucd)
    raise UploadError(f"the upload {table}: column {shown(name)} ({field.datatype}"
                      f"{'[' + field.arraysize + ']' if field.arraysize else ''}) has no ADQL type here")


def _value(value, column: UploadColumn):
    if value is np.ma.masked or value is None:
        return None
    if column.pg_type in _GEOMETRY_SIZES:
        return _geometry(value, column)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str) and "\x00" in value:
        raise UploadError(f"the column {column.name} holds a NUL character, which no text value may hold")
    if isinstance(value, (np.floating, float)) and not math.isfinite(float(value)):
        return None if math.isnan(float(value)) else str(float(value))
    if isinstance(value, (np.bool_, bool)):
        return "t" if value else "f"
    if isinstance(value, np.generic):
        return value.item()
    return value


# Coordinates per geometry (DALI 1.1 §3.3.5-7, in degrees): point 2; circle 3; polygon 2 per
# vertex, at least 3 vertices.
_GEOMETRY_SIZES = {"spoint": 2, "scircle": 3, "spoly": 6}


def _geometry(value, column: UploadColumn) -> str | None:
    """pgsphere's input text of a DALI point, circle or polygon; a malformed one is refused here,
    with the column's name, rather than by PostgreSQL in the middle of loading."""
    try:
        flat = [float(v) for v in np.ravel(np.ma.filled(np.ma.asarray(value, dtype=float), np.nan))]
    except (TypeError, ValueError):
        raise UploadError(f"the column {column.name} holds a {column.datatype.lower()} that is not "
                          "a list of numbers (DALI 1.1 §3.3)") from None
    if not flat or all(math.isnan(v) for v in flat):
        return None
    if column.pg_type == "spoly":
        fits, latitudes = len(flat) >= _GEOMETRY_SIZES["spoly"] and len(flat) % 2 == 0, flat[1::2]
    else:
        fits, latitudes = len(flat) == _GEOMETRY_SIZES[column.pg_type], flat[1:2]
    fits = fits and all(math.isfinite(v) for v in flat) and all(abs(b) <= 90 for b in latitudes) \
        and (column.pg_type != "scircle" or 0 <= flat[2] <= 180)
    if not fits:
        raise UploadError(f"the column {column.name} holds a {column.datatype.lower()} whose coordinates "
                          "are too few, too many, not finite or out of range (DALI 1.1 §3.3)")
    rad = [repr(math.radians(v)) for v in flat]
    if column.pg_type == "spoint":
        return f"({rad[0]},{rad[1]})"
    if column.pg_type == "scircle":
        return f"<({rad[0]},{rad[1]}),{rad[2]}>"
    return "{" + ",".join(f"({a},{b})" for a, b in zip(rad[::2], rad[1::2])) + "}"


def _copy_text(value) -> str:
    """A value in COPY's text format: backslash, tab, newline and carriage return escaped (the
    only characters the format gives a meaning), NULL as \\N; a NUL, which PostgreSQL text
    cannot hold at all, refused."""
    if value is None:
        return "\\N"
    text = str(value)
    if "\x00" in text:
        raise UploadError("an uploaded value holds a NUL character, which no text value may hold")
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def create_tables(conn, uploads: list[Upload]) -> None:
    """Make each upload a temporary table of this session (committed before the query runs).

    Names go only through ``sql.Identifier`` (types are the module's own constants), values only
    through COPY's data stream; one statement per execute.
    """
    with conn.cursor() as cur:
        for upload in uploads:
            table = sql.Identifier(upload.sql_name)
            columns = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.pg_type))
                                         for c in upload.columns)
            cur.execute(sql.SQL("CREATE TEMPORARY TABLE {} ({})").format(table, columns))
            data = "".join("\t".join(_copy_text(v) for v in row) + "\n" for row in upload.rows)
            cur.copy_expert(sql.SQL("COPY {} FROM STDIN").format(table), io.StringIO(data))
    conn.commit()


class WithUploads:
    """The service's catalogue plus this query's TAP_UPLOAD tables."""

    def __init__(self, catalog, uploads: list[Upload]):
        self.catalog = catalog
        self.uploads = {u.name.lower(): u.table_info() for u in uploads}

    def table(self, schema: str | None, name: str) -> TableInfo | None:
        if schema == SCHEMA:
            return self.uploads.get(name)
        return self.catalog.table(schema, name)
