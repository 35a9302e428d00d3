"""A fast, read-only view of a primary header's cards, with FITS value parsing.

Bulk ingest spends most of its time parsing headers, and astropy's :class:`~astropy.io.fits.Header`
costs several milliseconds a file (it builds Card objects and consults its configuration for every
value). The mappings only ever ask for a keyword's value, so this view indexes the cards by keyword
and parses a value when it is asked for, following the FITS 4.0 standard §4.2: strings in single
quotes with ``''`` for a quote (trailing blanks not significant), T/F, integers, reals (with D
exponents) and complex pairs. It answers like ``astropy.io.fits.Header`` for ``get``, ``in``,
``count`` and ``[key, n]`` (the first card wins for repeated keywords); an unparsable value raises
``ValueError``, as astropy raises ``VerifyError``. A test compares the two on real headers.
"""
from __future__ import annotations

import re

CARD = 80
COMMENTARY = frozenset({"COMMENT", "HISTORY", ""})
_MISSING = object()
# Blanks after the sign and around the exponent letter are tolerated, as astropy tolerates them.
_INT = re.compile(r"[+-]? *\d+")
_REAL = re.compile(r"[+-]? *(?:\d+\.?\d*|\.\d+) *(?:[EeDd] *[+-]? *\d+)?")
_STRING = re.compile(r"'((?:[ -~]+?|'')? *?)'(?=$|/| )")
_COMPLEX = re.compile(r"\(\s*([^,]+?)\s*,\s*([^)]+?)\s*\)")


def parse_value(field: str):
    """The value in a card's columns 11-80 (after ``= ``); None for an empty (undefined) value."""
    text = field.lstrip()
    if text.startswith("'"):
        # FITS §4.2.1: '' stands for one quote; the closing quote is one followed by a blank, a
        # comment or the card's end (so a lone quote inside, which writers get wrong, is kept)
        match = _STRING.match(text)
        if match is None:
            raise ValueError("unterminated string")
        rest = text[match.end():].strip()
        if rest and not rest.startswith("/"):
            raise ValueError("text after the string")
        return match.group(1).replace("''", "'").rstrip()
    value = text.split("/", 1)[0].strip()
    if not value:
        return None
    if value in ("T", "F"):
        return value == "T"
    if _INT.fullmatch(value):
        return int(value.replace(" ", ""))
    if _REAL.fullmatch(value):
        return _real(value)
    match = _COMPLEX.fullmatch(value)
    if match and all(_REAL.fullmatch(part) for part in match.groups()):
        return complex(_real(match.group(1)), _real(match.group(2)))
    raise ValueError(f"unparsable value {value!r}")


def _real(text: str) -> float:
    return float(text.replace(" ", "").replace("D", "E").replace("d", "e"))


class HeaderCards:
    """The cards of one header, by keyword, their values parsed on demand."""

    def __init__(self, text: str):
        self._cards: dict[str, list[str]] = {}
        self._text = text
        self._length = len(text) // CARD
        for at in range(0, len(text) - len(text) % CARD, CARD):
            card = text[at:at + CARD]
            keyword = card[:8].strip().upper()
            if keyword == "HIERARCH" and "=" in card:
                keyword, _, value = card[9:].partition("=")
                self._cards.setdefault(keyword.strip().upper(), []).append("=" + value)
                continue
            if keyword == "CONTINUE":
                self._continue(card)
                continue
            self._cards.setdefault(keyword, []).append(card[8:])

    def _continue(self, card: str) -> None:
        """FITS §4.2.1.2: a long string goes on in CONTINUE cards after a closing '&'."""
        for keyword in reversed(list(self._cards)):
            last = self._cards[keyword][-1]
            if last.startswith("= ") and last.rstrip().split("/")[0].rstrip().endswith("&'"):
                stem = last[:last.rstrip().split("/")[0].rstrip().rfind("&'")]
                self._cards[keyword][-1] = stem + card[8:].lstrip()[1:]
            return

    def _value(self, rest: str, keyword: str):
        if keyword in COMMENTARY:
            return rest.rstrip()
        if not rest.startswith("= "):
            return None  # no value indicator: a card without a value
        return parse_value(rest[2:])

    def __len__(self) -> int:
        """The number of cards, as astropy counts them (CONTINUE cards included)."""
        return self._length

    def __contains__(self, key: str) -> bool:
        return key.upper() in self._cards

    def count(self, key: str) -> int:
        cards = self._cards.get(key.upper())
        if cards is None:
            raise KeyError(key)
        return len(cards)

    def get(self, key: str, default=None):
        cards = self._cards.get(key.upper())
        return default if cards is None else self._value(cards[0], key.upper())

    def __getitem__(self, item):
        key, index = item if isinstance(item, tuple) else (item, 0)
        cards = self._cards.get(key.upper())
        if cards is None or index >= len(cards):
            raise KeyError(item)
        return self._value(cards[index], key.upper())

    def keys(self) -> list[str]:
        return list(self._cards)

    def lines(self) -> str:
        """The cards one a line, right-stripped: the header as the archive stores it."""
        text = self._text
        return "\n".join(text[at:at + CARD].rstrip() for at in range(0, len(text) - len(text) % CARD, CARD))
