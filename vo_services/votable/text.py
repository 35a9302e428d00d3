"""CSV and TSV results (TAP 1.1 §3.2 / DALI 1.1 §3.4.3).

CSV follows RFC 4180: a header line of column names, CRLF line ends, fields quoted when they
hold a comma, a quote or a line break. TSV (IANA text/tab-separated-values) has no quoting at
all, so tabs and line breaks inside values become blanks. Nulls are empty fields. Neither
format can say "truncated" or "failed": overflow is silent (the row count equals MAXREC) and an
error after the first row re-raises, which cuts the HTTP response short.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence

from vo_services.votable.cells import text_cells
from vo_services.votable.fields import TEXT_TYPES, Field
from vo_services.votable.rows import Batch, RowLimit

_TSV_BREAKS = re.compile(r"[\t\r\n]")
_FREE_TEXT = TEXT_TYPES | {"REGION"}


def _cells(fields: Sequence[Field]) -> list:
    return [text_cells(f) for f in fields]


def write_csv(fields: Sequence[Field], batches: Iterable[Batch], *, maxrec: int | None = None,
              **_ignored) -> Iterator[bytes]:
    cells = _cells(fields)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([f.name for f in fields])
    for batch in RowLimit(batches, maxrec):
        writer.writerows(zip(*(c(column) for c, column in zip(cells, zip(*batch)))))
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def write_tsv(fields: Sequence[Field], batches: Iterable[Batch], *, maxrec: int | None = None,
              **_ignored) -> Iterator[bytes]:
    cells = _cells(fields)
    yield ("\t".join(_TSV_BREAKS.sub(" ", f.name) for f in fields) + "\n").encode("utf-8")
    for batch in RowLimit(batches, maxrec):
        columns = [c(column) for c, column in zip(cells, zip(*batch))]
        columns = [[_TSV_BREAKS.sub(" ", v) for v in column] if f.datatype in _FREE_TEXT else column
                   for f, column in zip(fields, columns)]
        yield "".join(["\t".join(row) + "\n" for row in zip(*columns)]).encode("utf-8")
