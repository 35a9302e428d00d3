"""Reading the primary header of a FITS file: robustly, and only the header.

Bulk ingest reads hundreds of thousands of files, so this module reads the 2880-byte header blocks
itself, stops at the END card, and indexes the cards with :class:`~ingest.cards.HeaderCards`, which
parses a value only when a mapping asks for it: the data section is never read.

Real Lick files are messy, and a messy header is still worth a row. What can be repaired is
repaired and recorded as an :class:`~ingest.flags.IngestFlag`:

* no END card: the header stops at the last record that looks like a card;
* no SIMPLE card: one is supplied, if the file otherwise starts with header cards;
* NUL and non-ASCII bytes: replaced by spaces;
* repeated keywords: kept (the mappings choose the value), flagged;
* a data section shorter than NAXISn demand: flagged (the header itself is complete).

Files that are empty, not FITS, or end inside their header raise :class:`UnreadableFile` with a
reason; they are reported as ingest failures and get no row.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from ingest.cards import HeaderCards
from ingest.flags import IngestFlag

BLOCK = 2880
CARD = 80
#: A header longer than this (1000 blocks, 36,000 cards) is taken to be something else.
MAX_HEADER_BLOCKS = 1000
_GZIP_MAGIC = b"\x1f\x8b"

#: A whole block of well-formed records: a keyword field, then printable ASCII.
_CARD_BLOCK = re.compile(rb"(?:[A-Za-z0-9_ -]{8}[ -~]{72})*")
_KEYWORD = re.compile(rb"[A-Za-z0-9_-]{0,8} *")
_VALUE_CARD = re.compile(rb"[A-Z0-9_-]{1,8} *= ")
#: Bytes that are not printable ASCII, mapped to a space.
_PRINTABLE = bytes(range(32, 127))
_TO_SPACE = bytes(b if 32 <= b < 127 else 32 for b in range(256))
_BLANK_CARD = b" " * CARD
_COMMENTARY = {b"COMMENT ", b"HISTORY ", b"        ", b"CONTINUE", b"HIERARCH"}
_SIMPLE_CARD = b"SIMPLE  =                    T / supplied by the ingest: the file had none".ljust(CARD)


class UnreadableFile(Exception):
    """The file cannot give a row: empty, not FITS, truncated inside its header, corrupt."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PrimaryHeader:
    """The primary header as read, what was repaired, and the data shape it declares."""

    header: HeaderCards
    flags: IngestFlag
    shape: tuple[int, ...]  # (NAXIS1, NAXIS2, ...); () for no data
    text: str = ""  # the cards as read and repaired, one a line, right-stripped, without END
    md5: str | None = None
    #: Where the data start: the header's size in whole blocks (in the decompressed stream for
    #: gzip files); what a reader of the pixels (SODA cutouts) seeks to.
    data_offset: int = 0


def read_primary_header(path: Path | str, *, checksum: bool = False) -> PrimaryHeader:
    """Read the primary header of ``path`` (plain or gzip-compressed FITS).

    With ``checksum``, also compute the MD5 of the whole file as stored (one more pass over the
    file: the caller decides whether that is worth it). ``OSError`` (missing file, permissions)
    propagates; everything about the content itself ends in :class:`UnreadableFile`.
    """
    path = Path(path)
    try:
        with open(path, "rb") as raw:
            compressed = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            stream = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
            data, flags = _read_header_bytes(stream)
            size = None if compressed else os.fstat(raw.fileno()).st_size
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise UnreadableFile(f"corrupt gzip compression: {exc}") from None
    header, more_flags, shape, declared, text = _parse(data)
    header_size = _padded(len(data) + (0 if IngestFlag.NO_END_CARD in flags else CARD))
    flags |= more_flags
    if size is not None and size < header_size + declared:
        flags |= IngestFlag.DATA_TRUNCATED
    return PrimaryHeader(header, flags, shape, text, file_md5(path) if checksum else None, header_size)


def parse_header_bytes(data: bytes) -> PrimaryHeader:
    """The same reading applied to bytes in memory (the start of a file), for tests and tools."""
    cards, flags = _read_header_bytes(io.BytesIO(data))
    header, more_flags, shape, _, text = _parse(cards)
    offset = _padded(len(cards) + (0 if IngestFlag.NO_END_CARD in flags else CARD))
    return PrimaryHeader(header, flags | more_flags, shape, text, None, offset)


def file_md5(path: Path | str) -> str:
    """MD5 of the file's bytes as stored, hex."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "md5").hexdigest()


def _padded(length: int) -> int:
    return -(-length // BLOCK) * BLOCK


def _read_header_bytes(stream) -> tuple[bytes, IngestFlag]:
    """The header's cards (END excluded), read block by block up to END or the last card."""
    flags = IngestFlag(0)
    blocks: list[bytes] = []
    while True:
        block = stream.read(BLOCK)
        if not block:
            if not blocks:
                raise UnreadableFile("empty file")
            return b"".join(blocks), flags | IngestFlag.NO_END_CARD
        if not blocks and not _is_card(block[:CARD]):
            if len(block) < CARD and block.startswith(b"SIMPLE"):
                raise UnreadableFile("truncated: the file ends inside its first card")
            raise UnreadableFile("not a FITS file: it does not start with a header card")
        stop, ended = _scan(block)
        blocks.append(block[:stop])
        if ended:
            return b"".join(blocks), flags
        whole_cards = len(block) - len(block) % CARD
        if stop < whole_cards:  # a record that is no card: the data start, END is missing
            return b"".join(blocks), flags | IngestFlag.NO_END_CARD
        if len(block) < BLOCK:
            raise UnreadableFile("truncated: the file ends inside its header")
        if len(blocks) >= MAX_HEADER_BLOCKS:
            raise UnreadableFile(f"no END card in the first {MAX_HEADER_BLOCKS} header blocks")


def _scan(block: bytes) -> tuple[int, bool]:
    """Where the header stops in ``block`` and whether it stops at an END card."""
    if len(block) % CARD == 0 and _CARD_BLOCK.fullmatch(block):
        at = block.find(b"END")
        while at != -1:
            if at % CARD == 0 and not block[at + 3:at + CARD].strip():
                return at, True
            at = block.find(b"END", at + 1)
        return len(block), False
    for at in range(0, len(block), CARD):  # the slow path: odd bytes in this block
        card = block[at:at + CARD]
        if card[:3] == b"END" and not card[3:].strip(b" \x00"):
            return at, True
        if not _is_card(card):
            return at, False
    return len(block), False


def _is_card(card: bytes) -> bool:
    """Whether an 80-byte record looks like a header card: a keyword, mostly printable text.

    Binary data fails this (its keyword field is not a keyword, or it is mostly unprintable), so a
    header without END stops where the data begin; a card with a stray NUL still passes.
    """
    if len(card) != CARD or not _KEYWORD.fullmatch(card[:8].replace(b"\x00", b" ")):
        return False
    return len(card.translate(None, _PRINTABLE)) <= CARD // 4


def _parse(data: bytes) -> tuple[HeaderCards, IngestFlag, tuple[int, ...], int, str]:
    """Repair the card bytes and parse them; returns header, flags, shape, data size and text."""
    flags = IngestFlag(0)
    clean = data.translate(_TO_SPACE)
    if clean != data:
        flags |= IngestFlag.INVALID_CHARACTERS
    clean = clean[:len(clean) - len(clean) % CARD]
    while clean.endswith(_BLANK_CARD):  # the padding of a header without END
        clean = clean[:-CARD]
    if not clean.startswith(b"SIMPLE  ="):
        if not _VALUE_CARD.match(clean):
            raise UnreadableFile("not a FITS file: no SIMPLE card and no keyword = value card first")
        if clean.startswith(b"SIMPLE"):
            clean = clean[CARD:]
        clean = _SIMPLE_CARD + clean
        flags |= IngestFlag.NO_SIMPLE_CARD
    keywords = [clean[at:at + 8] for at in range(0, len(clean), CARD)]
    named = [k for k in keywords if k not in _COMMENTARY]
    if len(set(named)) != len(named):
        flags |= IngestFlag.REPEATED_CARD
    header = HeaderCards(clean.decode("ascii"))
    lines = header.lines()
    shape, declared, ok = _shape(header)
    if not ok:
        flags |= IngestFlag.BAD_CARD_VALUE
    return header, flags, shape, declared, lines


def _shape(header: HeaderCards) -> tuple[tuple[int, ...], int, bool]:
    """(NAXIS1, ..., NAXISn), the data size in bytes they declare, and whether they made sense."""
    try:
        naxis = int(header.get("NAXIS", 0))
        bitpix = abs(int(header.get("BITPIX", 8)))
        if not 0 <= naxis <= 999:  # FITS 4.0 §4.4.1.1; checked first: NAXIS bounds the loop below
            return (), 0, False
        shape = tuple(int(header.get(f"NAXIS{i}", 0)) for i in range(1, naxis + 1))
    except Exception:  # noqa: BLE001  (astropy's VerifyError on an unparsable card, and the rest)
        return (), 0, False
    if any(n < 0 for n in shape) or bitpix not in (8, 16, 32, 64):
        return (), 0, False
    size = bitpix // 8
    for n in shape:
        size *= n
    return shape, size if shape else 0, True
