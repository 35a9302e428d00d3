"""Parquet results, one row group per batch, through pyarrow's streaming writer.

Parquet puts its metadata in a footer, so a file can be written front to back: each batch
becomes a row group that is flushed to the response at once. Column types: the integer and
floating-point widths of the ADQL types, boolean, UTF-8 strings (non-ASCII survives), a point
or circle as a fixed-size list of degrees, a polygon as a list, a timestamp as its DALI string.
Each column's VOTable metadata (datatype, arraysize, xtype, unit, ucd, utype, description)
travels as Arrow field metadata; ``QUERY_STATUS`` = ``OVERFLOW`` is added to the footer's
key-value metadata when MAXREC cut the result. An error after the first row re-raises.

pyarrow is imported when a Parquet result is asked for, so the rest of the package does not
need it.
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence

from archive.columns import Column
from vo_services.encoders import values
from vo_services.encoders.rows import Batch, RowLimit, columns_of


def _arrow_type(pa, field: Column):
    kind = field.datatype
    simple = {"SMALLINT": pa.int16(), "INTEGER": pa.int32(), "BIGINT": pa.int64(),
              "REAL": pa.float32(), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_()}
    if kind in simple:
        return simple[kind]
    if kind == "POINT":
        return pa.list_(pa.float64(), 2)
    if kind == "CIRCLE":
        return pa.list_(pa.float64(), 3)
    if kind == "POLYGON":
        return pa.list_(pa.float64())
    return pa.string()


def _schema(pa, fields: Sequence[Column]):
    arrow_fields = []
    for field in fields:
        datatype, arraysize, xtype = field.votable
        metadata = {"datatype": datatype, "arraysize": arraysize, "xtype": xtype, "unit": field.unit,
                    "ucd": field.ucd, "utype": field.utype, "description": field.description}
        arrow_fields.append(pa.field(field.name, _arrow_type(pa, field),
                                     metadata={k: v for k, v in metadata.items() if v}))
    return pa.schema(arrow_fields)


def _column(pa, field: Column, arrow_type, column: list):
    if field.datatype in ("REAL", "DOUBLE"):
        return pa.array(column, type=arrow_type, from_pandas=True)  # NaN becomes null
    return pa.array(values.converter(field)(column), type=arrow_type)


def write_parquet(fields: Sequence[Column], batches: Iterable[Batch], *, maxrec: int | None = None,
                  **_ignored) -> Iterator[bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _schema(pa, fields)
    sink = io.BytesIO()
    limited = RowLimit(batches, maxrec)
    with pq.ParquetWriter(sink, schema) as writer:
        for batch in limited:
            arrays = [_column(pa, f, schema.field(i).type, column)
                      for i, (f, column) in enumerate(zip(fields, columns_of(batch, len(fields))))]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            yield _drain(sink)
        if limited.overflow:
            writer.add_key_value_metadata({"QUERY_STATUS": "OVERFLOW"})
    yield _drain(sink)


def _drain(sink: io.BytesIO) -> bytes:
    data = sink.getvalue()
    sink.seek(0)
    sink.truncate()
    return data
