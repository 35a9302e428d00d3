"""FITS binary-table results (FITS 4.0 §7.3), streamed through a spool file.

A FITS header states the row count (NAXIS2) and every column's width (TFORMn) before the
first row, and neither is known until the last row has been read. So the rows are first
converted and spooled, batch by batch, to an anonymous temporary file while the widest string
and the longest polygon are tracked; then the header is written and the spool is replayed as
big-endian numpy records. Memory stays bounded by one batch; disk holds the result once. A
side effect is welcome: a failure while reading rows raises before the first byte is produced.

Nulls: NaN for floating-point cells, TNULLn (the type's most negative value) for integers,
0 for logicals, empty strings. Text is UTF-8, which astropy and STIL read back. Overflow is
recorded as the header card QSTATUS = 'OVERFLOW'.
"""
from __future__ import annotations

import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np
from astropy.io import fits

from archive.columns import Column
from vo_services.encoders import values
from vo_services.encoders.rows import Batch, RowLimit, columns_of

BLOCK = 2880
_NUMERIC = {  # ADQL type: (TFORM letter, numpy dtype, TNULL)
    "SMALLINT": ("I", ">i2", -(2**15)),
    "INTEGER": ("J", ">i4", -(2**31)),
    "BIGINT": ("K", ">i8", -(2**63)),
    "REAL": ("E", ">f4", None),
    "DOUBLE": ("D", ">f8", None),
}
_TUPLE_WIDTHS = {"POINT": 2, "CIRCLE": 3}


class _Column:
    """One field's conversion (pass 1), width tracking and record encoding (pass 2)."""

    def __init__(self, field: Column):
        self.field = field
        self.width = 1  # string bytes or polygon coordinates, grown in pass 1
        kind = field.datatype
        self.convert: Callable[[Sequence], list] = (
            (lambda column: [v if v is None else v.encode("utf-8") for v in values.converter(field)(column)])
            if kind not in _NUMERIC and kind not in _TUPLE_WIDTHS and kind not in ("POLYGON", "BOOLEAN")
            else values.converter(field))

    def spool(self, column: Sequence) -> list:
        converted = self.convert(column)
        if self.field.datatype not in _NUMERIC and self.field.datatype != "BOOLEAN":
            self.width = max(self.width, max((len(v) for v in converted if v is not None), default=0))
        return converted

    @property
    def tform(self) -> tuple[str, str]:
        """(TFORMn, numpy dtype of the cell)."""
        kind = self.field.datatype
        if kind in _NUMERIC:
            letter, dtype, _ = _NUMERIC[kind]
            return letter, dtype
        if kind == "BOOLEAN":
            return "L", "S1"
        if kind in _TUPLE_WIDTHS:
            return f"{_TUPLE_WIDTHS[kind]}D", f"({_TUPLE_WIDTHS[kind]},)>f8"
        if kind == "POLYGON":
            return f"{self.width}D", f"({self.width},)>f8"
        return f"{self.width}A", f"S{self.width}"

    def cells(self, converted: list) -> np.ndarray | list:
        kind = self.field.datatype
        if kind in _NUMERIC:
            _, dtype, tnull = _NUMERIC[kind]
            filler = float("nan") if tnull is None else tnull
            return [filler if v is None else v for v in converted]
        if kind == "BOOLEAN":
            return [b"\0" if v is None else (b"T" if v else b"F") for v in converted]
        if kind in _TUPLE_WIDTHS or kind == "POLYGON":
            width = _TUPLE_WIDTHS.get(kind, self.width)
            padded = np.full((len(converted), width), np.nan)
            for i, v in enumerate(converted):
                if v is not None:
                    padded[i, :len(v)] = v
            return padded
        return [b"" if v is None else v for v in converted]


def write_fits(fields: Sequence[Column], batches: Iterable[Batch], *, maxrec: int | None = None,
               **_ignored) -> Iterator[bytes]:
    columns = [_Column(f) for f in fields]
    limited = RowLimit(batches, maxrec)
    with tempfile.TemporaryFile() as spool:
        for batch in limited:
            pickle.dump([c.spool(col) for c, col in zip(columns, columns_of(batch, len(columns)))], spool,
                        protocol=pickle.HIGHEST_PROTOCOL)
        dtype = np.dtype([(f"c{i}", c.tform[1]) for i, c in enumerate(columns)])
        yield fits.PrimaryHDU().header.tostring().encode("ascii")
        yield _table_header(columns, dtype.itemsize, limited.rows, limited.overflow)
        spool.seek(0)
        written = 0
        while True:
            try:
                converted = pickle.load(spool)
            except EOFError:
                break
            records = np.empty(len(converted[0]) if converted else 0, dtype=dtype)
            for i, (c, col) in enumerate(zip(columns, converted)):
                records[f"c{i}"] = c.cells(col)
            data = records.tobytes()
            written += len(data)
            yield data
        if written % BLOCK:
            yield b"\0" * (BLOCK - written % BLOCK)


def _table_header(columns: list[_Column], row_bytes: int, rows: int, overflow: bool) -> bytes:
    header = fits.Header([
        ("XTENSION", "BINTABLE", "binary table extension"),
        ("BITPIX", 8), ("NAXIS", 2), ("NAXIS1", row_bytes, "bytes per row"),
        ("NAXIS2", rows, "number of rows"), ("PCOUNT", 0), ("GCOUNT", 1),
        ("TFIELDS", len(columns)),
    ])
    for n, column in enumerate(columns, start=1):
        field = column.field
        header[f"TTYPE{n}"] = field.name
        header[f"TFORM{n}"] = column.tform[0]
        if field.unit:
            header[f"TUNIT{n}"] = field.unit
        tnull = _NUMERIC.get(field.datatype, (None, None, None))[2]
        if tnull is not None:
            header[f"TNULL{n}"] = tnull
        if field.ucd:
            header[f"TUCD{n}"] = field.ucd
        if field.xtype or field.votable[2]:
            header[f"TXTYP{n}"] = field.votable[2]
    if overflow:
        header["QSTATUS"] = ("OVERFLOW", "more rows matched than MAXREC allowed")
    return header.tostring().encode("ascii")
