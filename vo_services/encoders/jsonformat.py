"""A JSON result: ``{"metadata": [...], "data": [[...], ...], "status": ...}``.

Not an IVOA format, so the shape is ours, chosen to mirror the VOTable: ``metadata`` lists each
column's name, VOTable datatype, arraysize, xtype, unit, ucd, utype and description; ``data``
holds one array per row with JSON numbers, strings, booleans and null, a point/circle/polygon
as an array of degrees, a timestamp as its DALI string. ``status`` comes last because it is
known last: ``"OK"``, ``"OVERFLOW"`` (more rows than MAXREC existed) or ``"ERROR"`` with
``"message"``, as QUERY_STATUS in a VOTable (DALI 1.1 §4.4).
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence

from archive.columns import Column
from vo_services.encoders import values
from vo_services.encoders.rows import Batch, RowLimit, columns_of


def _metadata(field: Column) -> dict:
    datatype, arraysize, xtype = field.votable
    return {"name": field.name, "datatype": datatype, "arraysize": arraysize, "xtype": xtype,
            "unit": field.unit, "ucd": field.ucd, "utype": field.utype,
            "description": field.description}


def _finite_or_none(value):
    return None if value is None or (isinstance(value, float) and not math.isfinite(value)) else value


def _json_column(field: Column) -> Callable[[Sequence], list]:
    if field.datatype in ("REAL", "DOUBLE"):
        return lambda column: [_finite_or_none(v if v is None else float(v)) for v in column]
    convert = values.converter(field)
    if field.datatype in ("POINT", "CIRCLE", "POLYGON"):
        return lambda column: [v if v is None else list(v) for v in convert(column)]
    return convert


def write_json(fields: Sequence[Column], batches: Iterable[Batch], *, maxrec: int | None = None,
               describe_error: Callable[[BaseException], str] = str, **_ignored) -> Iterator[bytes]:
    columns = [_json_column(f) for f in fields]
    limited = RowLimit(batches, maxrec)
    yield (b'{"metadata": ' + json.dumps([_metadata(f) for f in fields]).encode() + b',\n"data": [')
    separator = b"\n"
    status: dict = {"status": "OK"}
    try:
        for batch in limited:
            rows = zip(*(c(column) for c, column in zip(columns, columns_of(batch, len(columns)))))
            yield separator + ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows).encode()
            separator = b",\n"
    except Exception as exc:
        status = {"status": "ERROR", "message": describe_error(exc)}
    if status["status"] == "OK" and limited.overflow:
        status = {"status": "OVERFLOW"}
    yield b"\n],\n" + json.dumps(status, ensure_ascii=False)[1:].encode() + b"\n"
