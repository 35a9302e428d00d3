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
import urllib.request
import warnings
from dataclasses import dataclass

import numpy as np

from vo_services.tap import limits
from vo_services.tap.adql import ColumnInfo, TableInfo

METHODS = ("upload-inline", "upload-http", "upload-https")
SCHEMA = "tap_upload"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

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


@dataclass(frozen=True)
class UploadColumn:
    name: str
    adql_type: str
    pg_type: str
    unit: str | None
    ucd: str | None
    arraysize: str | None


@dataclass(frozen=True)
class Upload:
    name: str
    columns: tuple[UploadColumn, ...]
    rows: list[tuple]

    @property
    def sql_name(self) -> str:
        return f"tap_upload_{self.name.lower()}"

    def table_info(self) -> TableInfo:
        return TableInfo(SCHEMA, self.name.lower(), tuple(
            ColumnInfo(c.name, c.adql_type, arraysize=c.arraysize, unit=c.unit, ucd=c.ucd)
            for c in self.columns), sql_schema="pg_temp", sql_name=self.sql_name)


def parse_upload_params(values: list[str]) -> list[tuple[str, str]]:
    """(name, URI) pairs of the UPLOAD parameter values."""
    pairs = []
    for value in values:
        for item in filter(None, (part.strip() for part in value.split(";"))):
            name, sep, uri = item.partition(",")
            if not sep or not _NAME.fullmatch(name.strip()):
                raise UploadError(f"UPLOAD must be 'name,URI' with a name like t1 or my_table, not '{item}'")
            pairs.append((name.strip(), uri.strip()))
    names = [n.lower() for n, _ in pairs]
    if len(set(names)) != len(names):
        raise UploadError("two uploads have the same table name")
    return pairs


def fetch(uri: str, files: dict) -> bytes:
    """The VOTable bytes behind an UPLOAD URI, within the upload size limit."""
    hard = limits.UPLOAD_BYTES.hard
    if uri.startswith("param:"):
        part = files.get(uri[len("param:"):])
        if part is None:
            raise UploadError(f"UPLOAD refers to {uri}, but the request has no such multipart part")
        if part.size > hard:
            raise UploadError(f"the upload {uri} is larger than {hard} bytes")
        return part.read()
    if uri.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(uri, timeout=30) as response:
                data = response.read(hard + 1)
        except OSError as exc:
            raise UploadError(f"cannot fetch the upload {uri}: {exc}") from None
        if len(data) > hard:
            raise UploadError(f"the upload {uri} is larger than {hard} bytes")
        return data
    raise UploadError(f"UPLOAD URI must be param:<part> or an http(s) URL, not '{uri}'")


def read_votable(name: str, data: bytes) -> Upload:
    from astropy.io.votable import parse_single_table

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = parse_single_table(io.BytesIO(data), verify="ignore")
    except Exception as exc:  # noqa: BLE001  (astropy raises many kinds for broken documents)
        raise UploadError(f"the upload {name} is not a readable VOTable: {exc}") from None
    if len(table.array) > limits.UPLOAD_ROWS_HARD:
        raise UploadError(f"the upload {name} has more than {limits.UPLOAD_ROWS_HARD} rows")
    columns, seen = [], set()
    for field in table.fields:
        column = _column(name, field)
        if column.name.lower() in seen:
            raise UploadError(f"the upload {name} has two columns named {column.name}")
        seen.add(column.name.lower())
        columns.append(column)
    rows = [tuple(_value(row[i], c) for i, c in enumerate(columns)) for row in table.array]
    return Upload(name, tuple(columns), rows)


def _column(table: str, field) -> UploadColumn:
    name = field.name
    if not _NAME.fullmatch(name) and not name.strip():
        raise UploadError(f"the upload {table} has a column without a name")
    xtype = (field.xtype or "").lower()
    if xtype in _XTYPES:
        adql, pg = _XTYPES[xtype]
        return UploadColumn(name, adql, pg, field.unit and str(field.unit), field.ucd, None)
    if field.datatype in ("char", "unicodeChar"):
        single = field.arraysize in (None, "1")  # VOTable 1.4 §2.2: no arraysize is one character
        return UploadColumn(name, "CHAR" if single else "VARCHAR", "text", None, field.ucd,
                            "1" if single else None)
    if field.datatype in _SCALARS and not field.arraysize:
        adql, pg = _SCALARS[field.datatype]
        return UploadColumn(name, adql, pg, field.unit and str(field.unit), field.ucd, None)
    raise UploadError(f"the upload {table}: column {name} ({field.datatype}"
                      f"{'[' + field.arraysize + ']' if field.arraysize else ''}) has no ADQL type here")


def _value(value, column: UploadColumn):
    if value is np.ma.masked or value is None:
        return None
    if column.pg_type == "spoint":
        ra, dec = (float(v) for v in np.ravel(value)[:2])
        return f"({math.radians(ra)!r},{math.radians(dec)!r})"
    if column.pg_type == "scircle":
        ra, dec, r = (float(v) for v in np.ravel(value)[:3])
        return f"<({math.radians(ra)!r},{math.radians(dec)!r}),{math.radians(r)!r}>"
    if column.pg_type == "spoly":
        flat = [float(v) for v in np.ravel(value)]
        return "{" + ",".join(f"({math.radians(a)!r},{math.radians(b)!r})"
                              for a, b in zip(flat[::2], flat[1::2])) + "}"
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, (np.floating, float)) and not math.isfinite(float(value)):
        return None if math.isnan(float(value)) else str(float(value))
    if isinstance(value, (np.bool_, bool)):
        return "t" if value else "f"
    if isinstance(value, np.generic):
        return value.item()
    return value


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def create_tables(conn, uploads: list[Upload]) -> None:
    """Make each upload a temporary table of this session (committed before the query runs)."""
    with conn.cursor() as cur:
        for upload in uploads:
            columns = ", ".join(f'"{c.name}" {c.pg_type}' for c in upload.columns)
            cur.execute(f'CREATE TEMPORARY TABLE "{upload.sql_name}" ({columns})')
            data = "".join("\t".join(_copy_text(v) for v in row) + "\n" for row in upload.rows)
            cur.copy_expert(f'COPY "{upload.sql_name}" FROM STDIN', io.StringIO(data))
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
