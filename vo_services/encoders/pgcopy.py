"""PostgreSQL's binary COPY tuples transcoded straight into VOTable BINARY2 rows, with numpy.

A large result read as ``COPY (<query>) TO STDOUT (FORMAT binary)`` never becomes Python
objects: both formats are big-endian, so a number's bytes are the same in each and only the
framing differs. A COPY tuple (PostgreSQL 15 documentation, COPY, "Binary Format") is an int16
field count, then per field an int32 byte length (-1 for NULL) and the value's bytes. A BINARY2
row (VOTable 1.4 §5.4) is ceil(ncols/8) null-flag bytes, then every cell: a fixed-width cell's
bytes whether null or not, a variable-length cell's int32 element count and elements.

So a row is the tuple with its field count replaced by the null flags, the length words of
fixed-width fields dropped (a NULL's widened to the cell's width and overwritten), and text
kept as it is, length word included; :meth:`CopyTranscoder.encode` does that for a whole chunk
with one boolean selection over its bytes and a few gathers and scatters per column, with no
Python per row. A timestamp is the one value whose cell is not its bytes: PostgreSQL sends an
int64 of microseconds since 2000-01-01 (UTC for timestamptz), the cell is its DALI 1.1 §3.3.3
text, made for a whole column at once by numpy (:func:`_iso_texts`) and put where the eight
bytes were.

It writes exactly the bytes of the general encoder (:mod:`vo_services.encoders.binary2`) for
the types it covers (:func:`transcodable`), as tests/test_copy_results.py checks byte for byte
against the cursor path on the database: NULL floats as NaN and NaN flagged null, NULL integers as 0,
booleans as ``T``/``F``/``?``, ``char`` text as ASCII with one ``?`` for each other
character (:mod:`vo_services.encoders.fields`), and timestamps as
:func:`vo_services.encoders.values.timestamp` writes a datetime: seconds, then milliseconds or
microseconds only when there are any. Every other column (pgsphere values, which have no binary
output at all: their types have no send function; fixed-size or ``unicodeChar`` text) leaves
the whole result to the general path.

The general path reads timestamps through psycopg, which refuses those a Python datetime
cannot hold (±infinity, years before 1 or after 9999) and fails the result there;
:func:`unloadable` tells the COPY reader so, that it may fail at the same row batch, before any
of it is written (vo_services/results/copyout.py).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field as dataclass_field

import numpy as np

from archive.columns import Column

# The PostgreSQL types (pg_type OIDs) whose binary value is the BINARY2 cell, per ADQL type:
# (OID, width in bytes, what a NULL cell holds).
_FIXED: dict[str, tuple[int, int, bytes]] = {
    "SMALLINT": (21, 2, bytes(2)),  # int2
    "INTEGER": (23, 4, bytes(4)),  # int4
    "BIGINT": (20, 8, bytes(8)),  # int8
    "REAL": (700, 4, np.array(np.nan, ">f4").tobytes()),  # float4; NULL is NaN, as numpy writes it
    "DOUBLE": (701, 8, np.array(np.nan, ">f8").tobytes()),  # float8
    "BOOLEAN": (16, 1, b"?"),  # bool: 1 or 0, written T or F
}
_FLOATS = {"REAL": ">f4", "DOUBLE": ">f8"}
# text, varchar, bpchar, name: their binary value is the text's bytes in the client encoding.
_TEXT_OIDS = frozenset({25, 1043, 1042, 19})
_TEXT_TYPES = frozenset({"CHAR", "VARCHAR", "CLOB"})
# timestamp, timestamptz: int64 microseconds since 2000-01-01, in UTC for timestamptz (which the
# driver turns into the session's zone, UTC, and values.timestamp back into UTC).
_TIMESTAMP_OIDS = frozenset({1114, 1184})
_STAMP_WIDTH = 8
_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in microseconds since 1970-01-01
# What a Python datetime holds, as psycopg's binary loaders check it: years 1 to 9999.
_FIRST_STAMP = -63_082_281_600_000_000  # 0001-01-01T00:00:00, since 2000-01-01
_LAST_STAMP = 252_455_615_999_999_999  # 9999-12-31T23:59:59.999999
_ISO_WIDTH = 26  # YYYY-MM-DDThh:mm:ss.ssssss
_HEADER = b"PGCOPY\n\xff\r\n\x00"
MAX_COLUMNS = 65535  # the field count is an int16


def _is_char_text(field: Column) -> bool:
    """Variable-length ``char`` text: what the driver's str becomes, ASCII with ``?``."""
    return field.datatype in _TEXT_TYPES and field.votable[0] == "char" and field.fixed_length is None


def _is_timestamp(field: Column) -> bool:
    """A timestamp written as variable-length ``char`` text (its ADQL serialisation)."""
    return field.datatype == "TIMESTAMP" and field.votable[0] == "char" and field.fixed_length is None


def _width(field: Column) -> int | None:
    """The byte width of the column's binary value, None for text (length word first)."""
    if field.datatype in _FIXED:
        return _FIXED[field.datatype][1]
    return _STAMP_WIDTH if _is_timestamp(field) else None


def transcodable(fields: Sequence[Column]) -> bool:
    """Whether every declared column is one this module writes (before asking the database)."""
    return 0 < len(fields) <= MAX_COLUMNS and all(
        f.datatype in _FIXED or _is_char_text(f) or _is_timestamp(f) for f in fields)


def _takes(field: Column, oid: int) -> bool:
    """Whether the database's type ``oid`` is the one this module reads for ``field``."""
    if _is_char_text(field):
        return oid in _TEXT_OIDS
    if _is_timestamp(field):
        return oid in _TIMESTAMP_OIDS
    return oid == _FIXED[field.datatype][0]


def matches(fields: Sequence[Column], type_oids: Sequence[int]) -> bool:
    """Whether the database sends each column in the type this module reads for it: a column
    whose expression has another type (AVG's numeric for a DOUBLE, say) is converted by the
    driver and the general path, never reinterpreted here."""
    if not transcodable(fields) or len(fields) != len(type_oids):
        return False
    return all(_takes(f, oid) for f, oid in zip(fields, type_oids))


def header_length(data: bytes) -> int:
    """The length of the binary COPY header at the start of ``data`` (signature, flags, extension)."""
    if len(data) < 19 or not data.startswith(_HEADER):
        raise ValueError("not a binary COPY stream")
    return 19 + int.from_bytes(data[15:19], "big")


@dataclass(frozen=True)
class Layout:
    """Where each field of each tuple of a chunk is: per column, its length words' offsets
    (``at``) and the lengths they hold (-1: NULL)."""

    fields: tuple[Column, ...]
    at: list[np.ndarray]
    lengths: list[np.ndarray]

    def first(self, stop: int) -> "Layout":
        return Layout(self.fields, [a[:stop] for a in self.at], [n[:stop] for n in self.lengths])


@dataclass
class CopyRows:
    """Whole COPY tuples back to back: ``data[starts[i]:starts[i + 1]]`` is tuple i.

    ``data`` has one byte more than the tuples (``starts[-1]``), so that a range may end at the
    last tuple's end. A batch like any other: its length, and its first rows by slicing
    (:class:`~vo_services.encoders.rows.RowLimit` cuts at MAXREC). ``layout`` keeps the walk
    over its fields (:func:`layout`), which the COPY reader's check and the transcoder share.
    """

    data: np.ndarray  # uint8
    starts: np.ndarray  # int64, one more than the rows
    layout: Layout | None = dataclass_field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.starts) - 1

    def __getitem__(self, cut: slice) -> "CopyRows":
        if cut.start not in (None, 0) or cut.step not in (None, 1):
            raise IndexError("COPY rows are cut to their first rows only")
        stop = min(len(self), cut.stop)
        end = int(self.starts[stop])
        data = np.empty(end + 1, np.uint8)
        data[:end] = self.data[:end]
        data[end] = 0
        return CopyRows(data, self.starts[:stop + 1], None if self.layout is None else self.layout.first(stop))


def layout(rows: CopyRows, fields: tuple[Column, ...]) -> Layout:
    """The chunk's :class:`Layout` as ``fields``, found by one walk over its columns (a few
    gathers each), kept on ``rows`` for whoever reads them next.

    A fixed-width value's length word is its width or -1 (NULL): its first byte tells them
    apart, and a wrong length anywhere shows in the rows' ends.
    """
    if rows.layout is not None and rows.layout.fields == fields:
        return rows.layout
    data, starts = rows.data, rows.starts
    first = starts[:-1]
    if ((data[first] != len(fields) >> 8) | (data[first + 1] != len(fields) & 0xFF)).any():
        raise ValueError(f"a COPY tuple without {len(fields)} fields")
    at = first + 2
    offsets, lengths = [], []
    for field in fields:
        width = _width(field)
        if width is not None:
            null = data[at] == 0xFF
            length = np.where(null, -1, width)
            step = 4 + (np.where(null, 0, width) if null.any() else width)
        else:
            length = _words(data, at)
            step = 4 + np.maximum(length, 0)
        offsets.append(at)
        lengths.append(length)
        at = at + step
    if (at != starts[1:]).any():
        raise ValueError("a COPY tuple longer than its fields")
    rows.layout = Layout(fields, offsets, lengths)
    return rows.layout


def _stamps(data: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The timestamps (int64 microseconds since 2000-01-01) whose length words are at ``at``."""
    return data[(at + 4)[:, None] + np.arange(_STAMP_WIDTH)].view(">i8").ravel().astype(np.int64)


def _out_of_range(stamps: np.ndarray) -> str | None:
    """psycopg's refusal of a timestamp a datetime cannot hold (its binary loaders' words)."""
    if (stamps < _FIRST_STAMP).any():
        return "timestamp too small (before year 1)"
    if (stamps > _LAST_STAMP).any():
        return "timestamp too large (after year 10K)"
    return None


def unloadable(fields: tuple[Column, ...], rows: CopyRows) -> str | None:
    """Why the general path's driver would refuse these rows (a timestamp outside years 1 to
    9999, ±infinity among them), None if it would load them: so that the COPY reader fails
    where the binary cursor fails, on the same batch (module documentation)."""
    stamped = [k for k, f in enumerate(fields) if _is_timestamp(f)]
    if not stamped or not len(rows):
        return None
    cells = layout(rows, fields)
    for k in stamped:
        refusal = _out_of_range(_stamps(rows.data, cells.at[k][cells.lengths[k] >= 0]))
        if refusal:
            return refusal
    return None


def _iso_texts(stamps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DALI 1.1 §3.3.3 texts of ``stamps`` as :func:`vo_services.encoders.values.timestamp`
    writes them (``datetime.isoformat``, its microseconds cut to milliseconds when they end in
    000): an (n, 26) array of ASCII bytes, and how many of each row's are the text (19, 23, 26).

    numpy's ISO text has the same form for years 1 to 9999 (four digits, ``T``, the fraction
    after a dot), and floors the fraction before 1970 as a datetime counts it.
    """
    if (refusal := _out_of_range(stamps)) is not None:
        raise ValueError(refusal)
    moments = (stamps + _PG_EPOCH_US).astype("datetime64[us]")
    texts = np.datetime_as_string(moments, unit="us").astype(f"S{_ISO_WIDTH}")
    micros = stamps % 1_000_000
    sizes = np.where(micros == 0, 19, np.where(micros % 1000 == 0, 23, _ISO_WIDTH))
    return texts.view(np.uint8).reshape(-1, _ISO_WIDTH), sizes


def _ranges(begins: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """``begins[i] + 0 .. sizes[i] - 1`` for each i in turn, without Python per range."""
    ends = np.cumsum(sizes)
    return np.repeat(begins - (ends - sizes), sizes) + np.arange(int(ends[-1]) if len(ends) else 0)


def _words(data: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The big-endian int32 at each offset ``at`` (four 1-D gathers: a third of a 2-D one's cost)."""
    word = data[at].astype(np.int32) << 24
    word |= data[at + 1].astype(np.int32) << 16
    word |= data[at + 2].astype(np.int32) << 8
    word |= data[at + 3]
    return word


def _nan(data: np.ndarray, at: np.ndarray, dtype: str) -> np.ndarray:
    """Whether the big-endian float at each offset ``at`` is a NaN: its exponent all ones (two
    1-D gathers), then its fraction not zero (an infinity's is), read only where the first holds."""
    high = 0x80 if dtype == ">f4" else 0xF0
    nan = ((data[at] & 0x7F) == 0x7F) & ((data[at + 1] & high) == high)
    if nan.any():
        rows = np.flatnonzero(nan)
        width = np.dtype(dtype).itemsize
        values = data[at[rows][:, None] + np.arange(width)].view(dtype).ravel()
        nan[rows] = np.isnan(values)
    return nan


class CopyTranscoder:
    """BINARY2 row bytes from :class:`CopyRows` of ``fields`` (:func:`matches` holds)."""

    def __init__(self, fields: Sequence[Column]):
        if not transcodable(fields):
            raise ValueError("a column this transcoder does not write")
        self.fields = tuple(fields)
        self.flag_bytes = (len(fields) + 7) // 8

    def encode(self, rows: CopyRows) -> np.ndarray:
        """The rows' BINARY2 bytes (a uint8 array).

        The input bytes that stay (each fixed-width value, each text with its length word, a
        timestamp's or a NULL's length word, cut to the cell's width for a fixed-width NULL, the
        field count's first one or two bytes) are selected in one step; the bytes a row has
        beyond those (more null-flag bytes, the second half of an 8-byte NULL, a timestamp's
        text) are placed around them in a second; the null flags, what NULL cells hold and the
        timestamps' texts are written over the result.
        """
        n = len(rows)
        if n == 0:
            return np.zeros(0, np.uint8)
        data, starts = rows.data, rows.starts
        first = starts[:-1]
        cells = layout(rows, self.fields)
        keep = np.ones(len(data), bool)
        keep[-1] = False  # the padding byte
        if self.flag_bytes == 1:
            keep[first + 1] = False  # the field count's first byte becomes the null flags
        out_width = np.full(n, self.flag_bytes, np.int64)  # each output row's length
        nulls = np.zeros((n, len(self.fields)), bool)
        offsets = np.empty((n, len(self.fields)), np.int64)  # each cell's offset in its output row
        isos: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # per timestamp column: its ISO texts and their sizes
        for k, (field, at, lengths) in enumerate(zip(self.fields, cells.at, cells.lengths)):
            offsets[:, k] = out_width
            null = lengths < 0
            some_null = null.any()
            if some_null:
                nulls[:, k] = null
            valued = at[~null] if some_null else at
            if field.datatype in _FIXED:
                width = _FIXED[field.datatype][1]
                for j in range(4):
                    keep[valued + j] = False  # a value's length word
                if some_null:
                    for j in range(min(width, 4), 4):
                        keep[at[null] + j] = False  # a NULL's length word, cut to the width
                if field.datatype in _FLOATS:
                    nulls[:, k] |= _nan(data, np.where(null, first, at + 4), _FLOATS[field.datatype]) & ~null
                out_width += width
            elif _is_timestamp(field):
                for j in range(4, 4 + _STAMP_WIDTH):
                    keep[valued + j] = False  # the value: its text takes its place
                iso, sizes = _iso_texts(_stamps(data, valued))
                isos[k] = (iso, sizes)
                out_width += 4
                out_width[~null] += sizes
            else:
                out_width += 4 + np.maximum(lengths, 0)
        replaced = self._non_ascii(data, cells, keep, out_width, offsets)
        row_out = np.zeros(n, np.int64)
        np.cumsum(out_width[:-1], out=row_out[1:])
        out = self._place(data[keep], int(row_out[-1] + out_width[-1]), row_out, offsets, cells, isos)
        if nulls.any():
            out[row_out[:, None] + np.arange(self.flag_bytes)] = np.packbits(nulls, axis=1)
        else:
            for j in range(self.flag_bytes):
                out[row_out + j] = 0
        for k, (field, word_at, lengths) in enumerate(zip(self.fields, cells.at, cells.lengths)):
            cell = row_out + offsets[:, k]
            null = lengths < 0
            if field.datatype == "BOOLEAN":
                out[cell] = np.where(null, ord("?"), np.where(data[word_at + 4] == 1, ord("T"), ord("F")))
            elif null.any():
                fill = np.frombuffer(_FIXED[field.datatype][2] if field.datatype in _FIXED else bytes(4), np.uint8)
                out[cell[null][:, None] + np.arange(len(fill))] = fill  # a text's: no elements
            if k in isos:  # the length word kept was 8 (0, 0, 0, 8): its last byte is the count
                iso, sizes = isos[k]
                valued = cell[~null]
                out[valued + 3] = sizes
                out[_ranges(valued + 4, sizes)] = iso[np.arange(_ISO_WIDTH) < sizes[:, None]]
        for k, i, text in replaced:  # non-ASCII text, written as the general path writes it
            cell = int(row_out[i] + offsets[i, k])
            out[cell:cell + 4] = np.frombuffer(len(text).to_bytes(4, "big"), np.uint8)
            out[cell + 4:cell + 4 + len(text)] = np.frombuffer(text, np.uint8)
        return out

    def _place(self, kept: np.ndarray, total: int, row_out: np.ndarray, offsets: np.ndarray,
               cells: Layout, isos: dict[int, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """The output: the kept bytes, with room made for the null-flag bytes past two, the
        second half of each 8-byte NULL and each timestamp's text (written over afterwards)."""
        room = []
        if self.flag_bytes > 2:
            room.append((row_out[:, None] + np.arange(2, self.flag_bytes)).ravel())
        for k, (field, lengths) in enumerate(zip(self.fields, cells.lengths)):
            if field.datatype in _FIXED and _FIXED[field.datatype][1] == 8 and (lengths < 0).any():
                null = lengths < 0
                room.append(((row_out + offsets[:, k])[null][:, None] + np.arange(4, 8)).ravel())
            elif k in isos:
                room.append(_ranges((row_out + offsets[:, k])[lengths >= 0] + 4, isos[k][1]))
        if not room:
            return kept
        placed = np.ones(total, bool)
        placed[np.concatenate(room)] = False
        out = np.zeros(total, np.uint8)
        out[placed] = kept
        return out

    def _non_ascii(self, data: np.ndarray, cells: Layout, keep: np.ndarray, out_width: np.ndarray,
                   offsets: np.ndarray) -> list[tuple[int, int, bytes]]:
        """Text cells with bytes outside ASCII: each becomes its characters as ASCII with ``?``
        (never longer than its UTF-8), the rest of its bytes dropped. Found with one
        ``maximum.reduceat`` over the texts' byte ranges."""
        texts = [k for k, field in enumerate(self.fields) if _is_char_text(field)]
        if not texts:
            return []
        begin = np.stack([cells.at[k] + 4 for k in texts], axis=1)
        size = np.stack([np.maximum(cells.lengths[k], 0) for k in texts], axis=1)
        bounds = np.stack([begin, begin + size], axis=2).ravel()
        highest = np.maximum.reduceat(data, bounds)[0::2].reshape(begin.shape)
        rows, columns = np.nonzero((highest >= 0x80) & (size > 0))
        replaced = []
        for i, j in zip(rows.tolist(), columns.tolist()):
            start, length = int(begin[i, j]), int(size[i, j])
            text = data[start:start + length].tobytes().decode("utf-8").encode("ascii", "replace")
            keep[start + len(text):start + length] = False
            out_width[i] -= length - len(text)
            offsets[i, texts[j] + 1:] -= length - len(text)  # the cells after it move back
            replaced.append((texts[j], i, text))
        return replaced
