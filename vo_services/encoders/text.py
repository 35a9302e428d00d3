"""CSV and TSV results (TAP 1.1 §3.2 / DALI 1.1 §3.4.3).

CSV follows RFC 4180: a header line of column names, CRLF line ends, a field quoted (with
inner quotes doubled) when it holds a comma, a quote or a line break; only text can. TSV (IANA
text/tab-separated-values) has no quoting at all, so tabs and line breaks inside values become
blanks. Nulls are empty fields. Neither format can say "truncated" or "failed": overflow is
silent (the row count equals MAXREC) and an error after the first row re-raises, which cuts
the HTTP response short.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence

from archive.columns import Column
from vo_services.encoders.cells import row_template, text_cells
from vo_services.encoders.fields import TEXT_TYPES
from vo_services.encoders.rows import Batch, RowLimit, columns_of

_FREE_TEXT = TEXT_TYPES | {"REGION"}
_CSV_SPECIAL = re.compile('[",\r\n]')
_TSV_BREAKS = re.compile(r"[\t\r\n]")


def _csv_field(value: str) -> str:
    if _CSV_SPECIAL.search(value) is None:
        return value
    return '"' + value.replace('"', '""') + '"'


def _tsv_field(value: str) -> str:
    return _TSV_BREAKS.sub(" ", value)


def _write(fields: Sequence[Column], batches: Iterable[Batch], maxrec: int | None,
           separator: str, line_end: str, clean: Callable[[str], str]) -> Iterator[bytes]:
    cells = [text_cells(f) for f in fields]
    free_text = [f.datatype in _FREE_TEXT for f in fields]
    template = row_template(len(fields), "", separator, line_end)
    yield template.format(*(clean(f.name) for f in fields)).encode("utf-8")
    for batch in RowLimit(batches, maxrec):
        columns = [c(column) for c, column in zip(cells, columns_of(batch, len(fields)))]
        columns = [list(map(clean, column)) if text else column for column, text in zip(columns, free_text)]
        yield "".join(map(template.format, *columns)).encode("utf-8")


def write_csv(fields: Sequence[Column], batches: Iterable[Batch], *, maxrec: int | None = None,
              **_ignored) -> Iterator[bytes]:
    return _write(fields, batches, maxrec, ",", "\r\n", _csv_field)


def write_tsv(fields: Sequence[Column], batches: Iterable[Batch], *, maxrec: int | None = None,
              **_ignored) -> Iterator[bytes]:
    return _write(fields, batches, maxrec, "\t", "\n", _tsv_field)
