"""Headers built from real Lick header samples, card by card, without astropy.

Each instrument's template is a header saved from a real file (``templates/*.hdr.txt``, first line
a ``# source:`` comment). Rendering replaces the values of a few keywords and keeps every other
card byte for byte, so the generated headers keep the real keyword order, comments and value
formats: left-padded ``'Rich              '`` strings in modern NEWCAM headers, right-justified
``'    Stanley Browne'`` in 2006-2012 ones, 8-character padding in ShARCS headers. A new value is
written in the style of the card it replaces. Working on strings is what keeps 20,000 files fast:
building an ``astropy.io.fits.Header`` per file would dominate the run time.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

CARD = 80
BLOCK = 2880
TEMPLATE_DIR = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class FloatStyle:
    """How one data-taking system printed floating-point values.

    NEWCAM (Kast, Nickel, APF since ~2012) stores single-precision values and prints 13
    significant digits (``1.139999985695``); the 2006-2007 NEWCAM printed ``%f``
    (``30.000000``); the ShARCS C# software prints up to 9 significant digits.
    """

    digits: int = 13
    single_precision: bool = True
    fixed: bool = False

    def format(self, value: float) -> str:
        if self.single_precision:
            value = float(np.float32(value))
        if self.fixed:
            return f"{value:f}"
        return f"{value:.{self.digits}G}"


NEWCAM = FloatStyle()
NEWCAM_2007 = FloatStyle(single_precision=True, fixed=True)
SHARCS = FloatStyle(digits=9, single_precision=False)


@dataclass(frozen=True)
class _Card:
    """A parsed template card: enough to write a new value in the same style."""

    keyword: str
    text: str
    is_string: bool
    right_justified: bool
    width: int
    comment_column: int
    comment: str | None


def _parse(text: str) -> _Card:
    keyword = text[:8].rstrip()
    if text[8:10] != "= " or keyword in ("COMMENT", "HISTORY", ""):
        return _Card(keyword, text, False, False, 0, 0, None)
    rest = text[10:]
    stripped = rest.lstrip()
    if stripped.startswith("'"):
        start = 10 + len(rest) - len(stripped)
        end = start + 1
        while True:  # find the closing quote, skipping doubled '' escapes
            end = text.index("'", end)
            if text[end + 1:end + 2] == "'":
                end += 2
                continue
            break
        inner = text[start + 1:end]
        right = inner.startswith(" ") and not inner.endswith(" ")
        # A fixed-width field is padded ('Rich              ', '    Stanley Browne'); a value
        # written as it came ('Pinhole-100um', 'OBJECT') only gets the FITS minimum of 8.
        width = len(inner) if inner != inner.strip() else min(len(inner), 8)
        value_end, is_string = end + 1, True
    else:
        slash = text.find("/", 10)
        value_end = slash if slash >= 0 else len(text.rstrip())
        is_string, right, width = False, False, 20
    slash = text.find("/", value_end)
    comment = text[slash + 1:].strip() if slash >= 0 else None
    return _Card(keyword, text, is_string, right, width, slash if slash >= 0 else 31, comment)


def _format_value(card: _Card, value: object, floats: FloatStyle) -> str:
    if isinstance(value, str):
        inner = value.replace("'", "''")
        if not card.is_string:
            inner = inner.ljust(8)
        elif card.width >= 8:  # shorter template strings ('OBJECT', 'kastb') were written unpadded
            inner = inner.rjust(card.width) if card.right_justified else inner.ljust(card.width)
        return f"'{inner}'"
    if isinstance(value, bool):
        text = "T" if value else "F"
    elif isinstance(value, int | np.integer):
        text = str(int(value))
    else:
        text = floats.format(float(value))
    return text.rjust(20)


def format_card(card: _Card, value: object, floats: FloatStyle) -> str:
    """The card with a new value, keeping the keyword, the comment and its column."""
    head = f"{card.keyword:<8}= {_format_value(card, value, floats)}"
    if card.comment is not None:
        head = f"{head.ljust(card.comment_column)}/ {card.comment}" if len(head) < card.comment_column \
            else f"{head} / {card.comment}"
    return head[:CARD].ljust(CARD)


@dataclass(frozen=True)
class HeaderTemplate:
    """The cards of one real header, ready to be re-rendered with new values."""

    name: str
    floats: FloatStyle
    cards: tuple[_Card, ...]
    _positions: dict[str, tuple[int, ...]] = field(repr=False, compare=False, default_factory=dict)

    @classmethod
    def load(cls, filename: str, floats: FloatStyle = NEWCAM) -> HeaderTemplate:
        lines = [line.rstrip("\n") for line in (TEMPLATE_DIR / filename).read_text().splitlines()]
        cards = tuple(_parse(line.ljust(CARD)[:CARD]) for line in lines
                      if not line.startswith("#") and line.strip())
        positions: dict[str, list[int]] = {}
        for i, card in enumerate(cards):
            positions.setdefault(card.keyword, []).append(i)
        return cls(filename, floats, cards, {k: tuple(v) for k, v in positions.items()})

    def keywords(self) -> set[str]:
        return set(self._positions) - {"COMMENT", "HISTORY", ""}

    def has(self, keyword: str) -> bool:
        return keyword in self._positions

    def number(self, keyword: str) -> float:
        """The numeric value of a template card, e.g. BITPIX."""
        card = self.cards[self._positions[keyword][0]]
        return float(card.text[10:].split("/")[0])

    def render(self, values: Mapping[str, object]) -> list[str]:
        """The header's cards (without END) with ``values`` applied.

        Only keywords the template has are written: the sample decides which keywords an
        instrument's headers carry. ``None`` removes the keyword. A keyword that appears twice
        (the 2018+ Kast ``OBSTYPE``, once a string and once the integer 1) changes only on the
        cards whose value has the same kind as the new value.
        """
        out = [card.text for card in self.cards]
        for keyword, value in values.items():
            positions = self._positions.get(keyword)
            if not positions:
                continue
            for i in positions:
                card = self.cards[i]
                if value is None:
                    out[i] = None  # type: ignore[call-overload]
                elif len(positions) == 1 or card.is_string == isinstance(value, str):
                    out[i] = format_card(card, value, self.floats)
        return [text for text in out if text is not None]


@cache
def template(filename: str, floats: FloatStyle = NEWCAM) -> HeaderTemplate:
    """Each template is parsed once per process."""
    return HeaderTemplate.load(filename, floats)


def header_bytes(cards: list[str], *, end: bool = True) -> bytes:
    """Cards plus END, padded with blanks to whole 2880-byte blocks; latin-1 keeps a NUL a NUL."""
    text = "".join(cards) + ("END".ljust(CARD) if end else "")
    blocks = math.ceil(len(text) / BLOCK) or 1
    return text.ljust(blocks * BLOCK).encode("latin-1")


def pad_data(data: bytes) -> bytes:
    """Data padded with zeros to whole blocks, as the FITS standard requires."""
    return data + b"\0" * (-len(data) % BLOCK)
