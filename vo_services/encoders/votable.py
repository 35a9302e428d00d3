"""The VOTable 1.4 result document around the rows, streamed as bytes.

DALI 1.1 §4.4: one ``RESOURCE type="results"`` whose ``INFO name="QUERY_STATUS"`` comes before
the TABLE. §4.4.1: overflow is reported by a second QUERY_STATUS INFO after the TABLE, since it
is known only once the rows are written (pyvo looks for it there). §4.4.2: an error after the
rows began closes the TABLE and appends an ERROR INFO in the same place, so the document stays
well-formed and complete; an error before the first row gives a plain error document.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache

from archive.columns import Column
from vo_services.encoders import binary2, pgcopy
from vo_services.encoders.cells import row_template, text_cells, xml_attribute, xml_text, xml_texts
from vo_services.encoders.errors import error_document
from vo_services.encoders.fields import TEXT_TYPES, xml_ids
from vo_services.encoders.rows import Batch, RowLimit, columns_of

VOTABLE_NS = "http://www.ivoa.net/xml/VOTable/v1.3"  # VOTable 1.4 keeps the 1.3 namespace (§1)
HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<VOTABLE version="1.4" xmlns="{VOTABLE_NS}" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    f'xsi:schemaLocation="{VOTABLE_NS} http://www.ivoa.net/xml/VOTable/v1.4">\n'
)

Info = tuple[str, str] | tuple[str, str, str]  # (name, value) or (name, value, content)


def info_element(name: str, value: str, content: str | None = None) -> str:
    attrs = f'name="{xml_attribute(name)}" value="{xml_attribute(value)}"'
    if content:
        return f"<INFO {attrs}>{xml_text(content)}</INFO>\n"
    return f"<INFO {attrs}/>\n"


def field_element(field: Column, xml_id: str) -> str:
    datatype, arraysize, xtype = field.votable
    attrs = [("name", field.name), ("ID", xml_id), ("datatype", datatype), ("arraysize", arraysize),
             ("xtype", xtype), ("unit", field.unit), ("ucd", field.ucd), ("utype", field.utype)]
    text = " ".join(f'{k}="{xml_attribute(v)}"' for k, v in attrs if v)
    if field.description:
        return f"<FIELD {text}>\n<DESCRIPTION>{xml_text(field.description)}</DESCRIPTION>\n</FIELD>\n"
    return f"<FIELD {text}/>\n"


@lru_cache(maxsize=256)
def field_elements(fields: tuple[Column, ...]) -> str:
    """Every FIELD of a table, made once per column set: a service answers the same few shapes
    (a cone search's VERB levels, repeated TAP queries) over and over."""
    return "".join(field_element(f, i) for f, i in zip(fields, xml_ids(fields)))


class _Serialization:
    """How the rows of a TABLE are written: the DATA opening, each batch, the closing."""

    opening: str
    closing: str

    def rows(self, batch: Batch) -> list[bytes]:
        raise NotImplementedError

    def flush(self) -> bytes:
        return b""


class TableData(_Serialization):
    """VOTable 1.4 §5.1 TABLEDATA: escaped text, an empty TD for null."""

    opening = "<DATA><TABLEDATA>\n"
    closing = "</TABLEDATA></DATA>\n"

    def __init__(self, fields: Sequence[Column]):
        self.cells = [text_cells(f, tabledata=True) for f in fields]
        self.escape = [f.datatype in TEXT_TYPES or f.datatype == "REGION" for f in fields]
        self.template = row_template(len(fields), "<TR><TD>", "</TD><TD>", "</TD></TR>\n")

    def rows(self, batch: Batch) -> bytes:
        columns = [cells(column) for cells, column in zip(self.cells, columns_of(batch, len(self.cells)))]
        columns = [xml_texts(column) if escape else column for column, escape in zip(columns, self.escape)]
        return ["".join(map(self.template.format, *columns)).encode("utf-8")]


class Binary2(_Serialization):
    """VOTable 1.4 §5.4 BINARY2 in a base64 STREAM. A batch is rows (tuples), or binary COPY
    tuples (:class:`~vo_services.encoders.pgcopy.CopyRows`), transcoded without Python rows."""

    opening = '<DATA><BINARY2><STREAM encoding="base64">\n'
    closing = "</STREAM></BINARY2></DATA>\n"

    def __init__(self, fields: Sequence[Column]):
        self.fields = tuple(fields)
        self.encoder = binary2.row_encoder(self.fields)
        self.base64 = binary2.Base64Stream()

    def rows(self, batch: Batch | pgcopy.CopyRows) -> list[bytes]:
        if isinstance(batch, pgcopy.CopyRows):
            return self.base64.feed(_transcoder(self.fields).encode(batch))
        return self.base64.feed(self.encoder.encode(batch))

    def flush(self) -> bytes:
        return self.base64.close()


@lru_cache(maxsize=256)
def _transcoder(fields: tuple[Column, ...]) -> pgcopy.CopyTranscoder:
    return pgcopy.CopyTranscoder(fields)  # no state between batches: one per column set


@lru_cache(maxsize=256)
def _table_data(fields: tuple[Column, ...]) -> TableData:
    return TableData(fields)  # it keeps no state between batches, so one per column set


SERIALIZATIONS: dict[str, Callable[[Sequence[Column]], _Serialization]] = {
    "TABLEDATA": lambda fields: _table_data(tuple(fields)),
    "BINARY2": Binary2,
}


def write_votable(
    fields: Sequence[Column],
    batches: Iterable[Batch],
    *,
    serialization: str = "BINARY2",
    maxrec: int | None = None,
    infos: Iterable[Info] = (),
    extra_resources: Iterable[str] = (),
    describe_error: Callable[[BaseException], str] = str,
    truncated: bool = False,
) -> Iterator[bytes]:
    """The result document as a stream of bytes chunks, one or more per batch.

    ``batches`` yields lists of row tuples (``cursor.fetchmany``); at most ``maxrec`` rows are
    written. ``infos`` are extra INFO elements placed after QUERY_STATUS (QUERY, request
    details; DALI 1.1 §4.4.3). ``extra_resources`` are pre-rendered RESOURCE elements written
    after the results resource (DataLink service descriptors). An exception from ``batches``
    ends the document with QUERY_STATUS=ERROR carrying ``describe_error(exc)``. ``truncated``
    says that the caller cut the result short itself (DataLink's cap on IDs): OVERFLOW too.
    """
    writer = SERIALIZATIONS[serialization.upper()](fields)
    limited = RowLimit(batches, maxrec)
    rows = iter(limited)
    try:
        first = next(rows, None)
    except Exception as exc:  # nothing written yet: a plain DALI error document
        yield error_document(describe_error(exc))
        return
    extras = list(extra_resources)
    head = [HEADER, '<RESOURCE type="results">\n', info_element("QUERY_STATUS", "OK")]
    head += [info_element(*info) for info in infos]
    head.append("<TABLE>\n")
    head.append(field_elements(tuple(fields)))
    head.append(writer.opening)
    yield "".join(head).encode("utf-8")

    failure: str | None = None
    try:
        if first is not None:
            yield from writer.rows(first)
            for batch in rows:
                yield from writer.rows(batch)
    except Exception as exc:
        failure = describe_error(exc)
    tail = [writer.flush().decode("ascii"), writer.closing, "</TABLE>\n"]
    if failure is not None:
        tail.append(info_element("QUERY_STATUS", "ERROR", failure or "error while writing rows"))
    elif limited.overflow or truncated:
        tail.append(info_element("QUERY_STATUS", "OVERFLOW"))
    tail.append("</RESOURCE>\n")
    tail += extras
    tail.append("</VOTABLE>\n")
    yield "".join(tail).encode("utf-8")
