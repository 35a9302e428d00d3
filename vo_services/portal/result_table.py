"""A query result as an HTML table, written by the result engine like any other format.

The ADQL page runs its queries through TAP's own path (:func:`vo_services.tap.execution.stream`,
the one result engine, as the caller); only the encoder differs: instead of a VOTable it writes
the rows as HTML table rows, every cell escaped, at most MAXREC of them, and remembers how many
it wrote and whether more existed (the overflow of DALI 1.1 §3.4.4).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from html import escape

from archive.columns import Column
from vo_services.encoders.cells import text_cells
from vo_services.encoders.formats import OutputFormat
from vo_services.encoders.rows import Batch, RowLimit, columns_of

NUMERIC = frozenset({"SMALLINT", "INTEGER", "BIGINT", "REAL", "DOUBLE"})


def _numeric_cells(column: list[str]) -> list[str]:
    return [f'<td class="num">{v}</td>' for v in column]


def _text_cells(column: list[str]) -> list[str]:
    """Escaped cells; a URL (DataLink's access_url, a preview) becomes a link."""
    return [f'<td><a href="{e}">{e}</a></td>' if v.startswith(("https://", "http://"))
            else f"<td>{e}</td>" for v, e in zip(column, map(escape, column))]


class HtmlTable:
    """One result's encoder (one instance per query): after the rows are written, ``rows`` and
    ``overflow`` say how many there were and whether MAXREC cut the result."""

    def __init__(self) -> None:
        self.rows = 0
        self.overflow = False
        self.columns: tuple[Column, ...] = ()

    def __call__(self, fields: Sequence[Column], batches: Iterable[Batch], *, maxrec: int | None = None,
                 **_ignored) -> Iterator[bytes]:
        self.columns = tuple(fields)
        cells = [text_cells(f) for f in fields]
        numeric = [f.datatype in NUMERIC for f in fields]
        head = "".join(
            f'<th scope="col"{" class=num" if n else ""}>{escape(f.name)}'
            + (f' <span class="unit">[{escape(f.unit)}]</span>' if f.unit else "") + "</th>"
            for f, n in zip(fields, numeric))
        yield f'<table class="result"><thead><tr>{head}</tr></thead><tbody>'.encode()
        limited = RowLimit(batches, maxrec)
        render = [_numeric_cells if n else _text_cells for n in numeric]
        row = "<tr>" + "{}" * len(fields) + "</tr>"
        for batch in limited:
            # Column by column, as the other text encoders go: one call per column, not per cell.
            columns = [r(c(column)) for r, c, column in zip(render, cells, columns_of(batch, len(fields)))]
            yield "".join(map(row.format, *columns)).encode()
        yield b"</tbody></table>"
        self.rows, self.overflow = limited.rows, limited.overflow

    def output_format(self) -> OutputFormat:
        """This encoder in the form a :class:`~vo_services.tap.execution.TapRequest` carries."""
        return OutputFormat("html", "text/html; charset=utf-8", self, "html")
