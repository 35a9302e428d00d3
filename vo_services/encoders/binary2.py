"""VOTable 1.4 BINARY2 rows, built with numpy a batch at a time.

VOTable 1.4 §5.4: each row starts with ceil(ncols/8) null-flag bytes (most significant bit
first, one bit per column), followed by every cell in big-endian order, whether null or not;
variable-length cells carry a 4-byte element count first. Fixed-width cells are written as
whole numpy blocks; variable-length ones are interleaved with them by boolean-mask assignment
(:meth:`RowEncoder._scatter`), or, when the one variable-length cell of a row is text, the
fixed bytes are dropped into the texts joined with placeholders (:meth:`RowEncoder._around_text`),
so no Python code runs per cell except to encode strings.
"""
from __future__ import annotations

import binascii
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

import numpy as np

try:  # SIMD base64, about 100 times binascii's speed: a fifth of a large result's encoding time
    from pybase64 import b64encode as _b64encode
except ImportError:  # the same bytes, slower
    def _b64encode(data) -> bytes:
        return binascii.b2a_base64(data, newline=False)

from archive.columns import Column
from vo_services.encoders import values
from vo_services.encoders.binary2_small import SMALL_ROWS, SmallRows, Unpackable
from vo_services.encoders.rows import columns_of, null_mask

_NUMERIC_DTYPES = {"SMALLINT": ">i2", "INTEGER": ">i4", "BIGINT": ">i8", "REAL": ">f4", "DOUBLE": ">f8"}
_STRUCT_CODES = {">i2": "h", ">i4": "i", ">i8": "q", ">f4": "f", ">f8": "d"}  # standard sizes after ">"
_TUPLE_WIDTHS = {"POINT": 2, "CIRCLE": 3}


@dataclass
class Cells:
    """One column of one batch, ready to place: a null mask plus fixed or variable bytes.

    Fixed cells: ``block`` is an (n, width) uint8 array. Variable cells: ``block`` holds the
    4-byte element counts and ``sizes`` the per-row byte lengths of the payload, which is
    either ``payload`` (the concatenated bytes) or, for ``char`` text, ``pieces`` (each row's
    bytes, so that the row encoder may place them itself).
    """

    null: np.ndarray
    block: np.ndarray
    payload: np.ndarray | None = None
    sizes: np.ndarray | None = None
    pieces: list[bytes] | None = None

    @property
    def variable(self) -> bool:
        return self.sizes is not None

    def payload_bytes(self) -> np.ndarray:
        if self.payload is None:
            self.payload = np.frombuffer(b"".join(self.pieces), np.uint8)
        return self.payload


def _as_bytes(array: np.ndarray) -> np.ndarray:
    """An (n, itemsize * count) uint8 view of a big-endian array of n rows."""
    array = np.ascontiguousarray(array)
    return array.view(np.uint8).reshape(len(array), -1)


def _counts(counts: np.ndarray) -> np.ndarray:
    return _as_bytes(counts.astype(">i4"))


def _numeric(dtype: str) -> Callable[[Sequence], Cells]:
    kind = np.dtype(dtype).kind
    code = _STRUCT_CODES[dtype]
    native = np.dtype(dtype).newbyteorder("=")

    def encode(column: Sequence) -> Cells:
        try:  # big-endian in one C call; NULL (None), or a value it will not pack, goes the numpy way
            array = np.frombuffer(struct.pack(f">{len(column)}{code}", *column), dtype)
            return Cells(np.isnan(array) if kind == "f" else np.zeros(len(array), bool), _as_bytes(array))
        except (struct.error, TypeError, ValueError, OverflowError):
            pass
        try:
            # None becomes NaN for floats (fromiter converts as np.array does, a third faster);
            # ints with None raise and take the slow path.
            if kind == "f":
                array = np.fromiter(column, native, len(column)).astype(dtype)
                null = np.isnan(array)
            else:
                array = np.array(column, dtype=dtype)
                null = np.zeros(len(array), bool)
        except (TypeError, ValueError):
            null = null_mask(column)
            filler = float("nan") if kind == "f" else 0
            array = np.array([filler if v is None else v for v in column], dtype=dtype)
            if kind == "f":
                null |= np.isnan(array)
        return Cells(null, _as_bytes(array))

    return encode


def _boolean(column: Sequence) -> Cells:
    cells = np.frombuffer(b"".join(b"?" if v is None else (b"T" if v else b"F") for v in column), np.uint8)
    return Cells(cells == ord("?"), cells.reshape(-1, 1))


def _tuples(width: int, convert: Callable) -> Callable[[Sequence], Cells]:
    empty = (float("nan"),) * width

    def encode(column: Sequence) -> Cells:
        converted = convert(column)
        null = null_mask(converted)
        array = np.array([empty if v is None else v for v in converted], dtype=">f8").reshape(-1, width)
        return Cells(null, _as_bytes(array))

    return encode


def _polygons(convert: Callable) -> Callable[[Sequence], Cells]:
    def encode(column: Sequence) -> Cells:
        converted = convert(column)
        null = null_mask(converted)
        counts = np.fromiter((0 if v is None else len(v) for v in converted), np.int64, len(converted))
        flat = np.fromiter(chain.from_iterable(v for v in converted if v), float, int(counts.sum()))
        return Cells(null, _counts(counts), flat.astype(">f8").view(np.uint8), counts * 8)

    return encode


def _char_pieces(strings: list) -> list[bytes] | None:
    """Each string's ``char`` bytes: ASCII, with one ``?`` for each character it lacks (the
    ``replace`` handler); None when a value is not a string (NULL), for the general path."""
    try:
        joined = "".join(strings)
    except TypeError:
        return None
    if joined.isascii():
        return list(map(str.encode, strings))  # UTF-8 is ASCII here, and the fastest encode
    return [s.encode("ascii", "replace") for s in strings]


def _strings(convert: Callable, wide: bool, length: int | None) -> Callable[[Sequence], Cells]:
    """char (ASCII, non-ASCII written as '?') or unicodeChar (UTF-16BE) cells.

    ``length`` is a fixed arraysize: cells are padded with NULs or cut to it. Variable-length
    char cells leave their bytes to the row encoder (:attr:`Cells.pieces`).
    """
    codec, errors, unit = ("utf-16-be", "surrogatepass", 2) if wide else ("ascii", "replace", 1)
    plain = convert is values.texts and length is None and not wide  # text as the driver gives it

    def encode(column: Sequence) -> Cells:
        if plain:
            pieces = _char_pieces(column)  # the usual column: every value a str, no NULL
            if pieces is not None:
                sizes = np.array(list(map(len, pieces)), np.int64)
                return Cells(np.zeros(len(pieces), bool), _counts(sizes), sizes=sizes, pieces=pieces)
        strings = convert(column)
        null = null_mask(strings)
        if null.any():
            strings = ["" if s is None else s for s in strings]
        if length is not None:  # numpy pads with NULs and cuts longer values
            return Cells(null, _as_bytes(np.array([s.encode(codec, errors) for s in strings],
                                                  dtype=f"S{length * unit}")))
        if not wide:
            pieces = _char_pieces(strings)
            sizes = np.array(list(map(len, pieces)), np.int64)
            return Cells(null, _counts(sizes), sizes=sizes, pieces=pieces)
        joined = "".join(strings)
        if joined.isascii():  # one encode call for the whole column
            sizes = np.fromiter(map(len, strings), np.int64, len(strings)) * unit
            payload = joined.encode(codec)
        else:
            pieces = [s.encode(codec, errors) for s in strings]
            sizes = np.fromiter(map(len, pieces), np.int64, len(pieces))
            payload = b"".join(pieces)
        return Cells(null, _counts(sizes // unit), np.frombuffer(payload, np.uint8), sizes)

    return encode


def cell_encoder(field: Column) -> Callable[[Sequence], Cells]:
    """The function that turns a batch's column of driver values into BINARY2 cells."""
    datatype, arraysize, _ = field.votable
    if field.datatype in _NUMERIC_DTYPES:
        return _numeric(_NUMERIC_DTYPES[field.datatype])
    if field.datatype == "BOOLEAN":
        return _boolean
    convert = values.converter(field)
    if field.datatype in _TUPLE_WIDTHS:
        return _tuples(_TUPLE_WIDTHS[field.datatype], convert)
    if field.datatype == "POLYGON":
        return _polygons(convert)
    return _strings(convert, wide=datatype == "unicodeChar", length=field.fixed_length)


class RowEncoder:
    """Encodes batches of rows (sequences of tuples) into BINARY2 row bytes.

    Batches of up to :data:`~vo_services.encoders.binary2_small.SMALL_ROWS` rows go cell by cell
    (:mod:`vo_services.encoders.binary2_small`), which is faster there; larger ones column by
    column with numpy.
    """

    def __init__(self, fields: Sequence[Column]):
        self.encoders = [cell_encoder(f) for f in fields]
        self.small = SmallRows(fields)

    def encode(self, rows: Sequence[Sequence]) -> np.ndarray | bytes:
        """The rows' BINARY2 bytes, as a buffer (a uint8 array: no copy into ``bytes``)."""
        n = len(rows)
        if n == 0:
            return np.zeros(0, np.uint8)
        if n <= SMALL_ROWS:
            try:
                return self.small.encode(rows)
            except Unpackable:
                pass  # converted, or refused, as ever by the vectorised path
        return self.vectorised(rows)

    def vectorised(self, rows: Sequence[Sequence]) -> np.ndarray:
        """The rows' BINARY2 bytes, column by column with numpy (``rows`` not empty)."""
        n = len(rows)
        columns = columns_of(rows, len(self.encoders))
        cells = [encode(column) for encode, column in zip(self.encoders, columns)]
        flags = np.packbits(np.stack([c.null for c in cells], axis=1), axis=1)
        variable = [k for k, c in enumerate(cells) if c.variable]
        if not variable:
            return np.concatenate([flags] + [c.block for c in cells], axis=1).ravel()
        if len(variable) == 1 and cells[variable[0]].pieces is not None:
            return self._around_text(n, flags, cells, variable[0])
        return self._scatter(n, flags, cells)

    @staticmethod
    def _around_text(n: int, flags: np.ndarray, cells: list[Cells], k: int) -> np.ndarray:
        """The rows when their one variable-length cell is ``char`` text (the usual large result:
        an identifier or a name among numbers).

        Each row is A_i T_i B_i: the fixed bytes up to the text's count (flags included), the
        text, the fixed bytes after it. The fixed bytes between two texts, B_{i-1} A_i, are one
        block of constant width, so one ``struct`` call cuts them all into bytes objects, and
        one ``bytes.join`` interleaves them with the texts: C loops, about a sixth of the cost
        of labelling every byte (:meth:`_scatter`).
        """
        before = np.concatenate([flags] + [c.block for c in cells[:k + 1]], axis=1)
        after = [c.block for c in cells[k + 1:]]
        width_after = sum(b.shape[1] for b in after)
        width = before.shape[1] + width_after
        gaps = np.zeros((n + 1, width), np.uint8)  # gap j: B_{j-1} A_j (zeros at the two ends)
        gaps[:n, width_after:] = before
        if after:
            gaps[1:, :width_after] = np.concatenate(after, axis=1)
        pieces: list[bytes] = [b""] * (2 * n + 1)
        pieces[0::2] = _cutter(width, n + 1).unpack(gaps.tobytes())
        pieces[1::2] = cells[k].pieces
        rows = np.frombuffer(b"".join(pieces), np.uint8)
        return rows[width_after:len(rows) - (width - width_after)]

    @staticmethod
    def _scatter(n: int, flags: np.ndarray, cells: list[Cells]) -> np.ndarray:
        """Interleave the fixed-width bytes and each variable-length payload, row by row.

        A row is a sequence of segments: runs of fixed-width cells (label 0) between the
        payloads of variable-length cells (label k for the k-th). Labelling every output byte
        with its segment's label turns the interleaving into one boolean-mask assignment per
        source, each source already being in row order.
        """
        fixed = [flags]
        payloads: list[np.ndarray] = []
        segments: list[tuple[int, int | np.ndarray]] = []  # (label, byte length per row)
        width = flags.shape[1]
        for c in cells:
            fixed.append(c.block)
            width += c.block.shape[1]
            if c.variable:
                payloads.append(c.payload_bytes())
                segments += [(0, width), (len(payloads), c.sizes)]
                width = 0
        segments.append((0, width))
        lengths = np.empty((n, len(segments)), np.int64)
        for j, (_, size) in enumerate(segments):
            lengths[:, j] = size
        labels = np.tile(np.array([label for label, _ in segments], np.uint8), n)
        byte_labels = np.repeat(labels, lengths.ravel())
        out = np.empty(len(byte_labels), np.uint8)
        out[byte_labels == 0] = np.concatenate(fixed, axis=1).ravel()
        for label, payload in enumerate(payloads, start=1):
            out[byte_labels == label] = payload
        return out


@lru_cache(maxsize=64)
def _cutter(width: int, count: int) -> struct.Struct:
    """Cuts ``count`` blocks of ``width`` bytes into as many bytes objects (batches mostly have
    one size, so few are made)."""
    return struct.Struct(f"{width}s" * count)


@lru_cache(maxsize=256)
def row_encoder(fields: tuple[Column, ...]) -> RowEncoder:
    """The encoder of a column set, made once: it holds no state between batches, and making
    one costs more than encoding a small result."""
    return RowEncoder(fields)


class Base64Stream:
    """base64 of a byte stream that arrives in pieces: only whole 3-byte groups are encoded
    until the end, so the pieces' encodings concatenate into the encoding of the whole.

    Pieces are encoded in place (no copy of a batch to prepend the previous one's remainder):
    the remainder is completed from the new piece's first bytes and encoded on its own.
    """

    def __init__(self) -> None:
        self._carry = b""

    def feed(self, data) -> list[bytes]:
        view = memoryview(data).cast("B")
        chunks = []
        if self._carry:
            take = min(3 - len(self._carry), len(view))
            self._carry += bytes(view[:take])
            view = view[take:]
            if len(self._carry) < 3:
                return []
            chunks.append(binascii.b2a_base64(self._carry, newline=False))
        cut = len(view) - len(view) % 3
        self._carry = bytes(view[cut:])
        if cut:
            chunks.append(_b64encode(view[:cut]) + b"\n")
        return chunks

    def close(self) -> bytes:
        tail, self._carry = self._carry, b""
        return binascii.b2a_base64(tail) if tail else b""
