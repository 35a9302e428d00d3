"""Column values as text, for the text serialisations (TABLEDATA, CSV, TSV).

DALI 1.1 §3.3 fixes how the extended types read as text: a point is ``"ra dec"``, a circle
``"ra dec radius"``, a polygon its vertices' coordinates separated by blanks, a timestamp ISO
8601. VOTable 1.4 §6 spells non-finite floats ``NaN``, ``+Inf``, ``-Inf``; here NaN is null, so
it becomes the empty string like every null.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

import numpy as np

from archive.columns import Column
from vo_services.encoders import values

# XML 1.0 §2.2: these code points may not appear in a document at all, not even escaped.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_REPLACEMENTS = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}


def xml_text(value: str) -> str:
    """Escape character data; characters XML cannot carry become U+FFFD."""
    if _XML_SPECIAL.search(value) is None:
        return value
    return _XML_SPECIAL.sub(lambda m: _XML_REPLACEMENTS.get(m.group(), "\ufffd"), value)


def xml_texts(column: list[str]) -> list[str]:
    """:func:`xml_text` of each cell; one scan of the whole column when, as usual, no cell needs
    escaping (the special characters are single characters: joining cannot make one)."""
    if _XML_SPECIAL.search("".join(column)) is None:
        return column
    return list(map(xml_text, column))


def xml_attribute(value: str) -> str:
    return xml_text(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def _floats_text(column: Sequence) -> list[str]:
    """Shortest round-tripping decimal (``repr``) of each value; NaN and None empty."""
    array = np.array(column, dtype=float)  # None becomes NaN
    cells = list(map(float.__repr__, array.tolist()))
    for i in np.flatnonzero(~np.isfinite(array)):
        cells[i] = _float_text(array[i])
    return cells


def _ints_text(column: Sequence) -> list[str]:
    if None in column:
        return list(map(_int_text, column))
    return list(map(str, column))


def _float_text(value) -> str:
    if value is None:
        return ""
    value = float(value)
    if math.isfinite(value):
        return repr(value)
    if value != value:
        return ""
    return "+Inf" if value > 0 else "-Inf"


def _int_text(value) -> str:
    return "" if value is None else str(int(value))


def _bool_text(value) -> str:
    return "" if value is None else ("T" if value else "F")


def _numbers_text(numbers) -> str:
    return "" if numbers is None else " ".join(map(_float_text, numbers))


def _fixed_numbers_text(width: int) -> Callable:
    """A fixed-size array TD: null is ``NaN`` per element, as an empty TD is not an array of
    ``width`` numbers (VOTable 1.4 §6; votlint rejects it)."""
    null = " ".join(["NaN"] * width)
    return lambda numbers: null if numbers is None else _numbers_text(numbers)


def text_cells(field: Column, tabledata: bool = False) -> Callable[[Sequence], list[str]]:
    """The function turning a batch's column of driver values into text cells, nulls empty
    (in TABLEDATA, a null point or circle is NaNs, see :func:`_fixed_numbers_text`)."""
    kind = field.datatype
    if kind in ("REAL", "DOUBLE"):
        return _floats_text
    if kind in ("SMALLINT", "INTEGER", "BIGINT"):
        return _ints_text
    convert = values.converter(field)
    if kind == "BOOLEAN":
        one = _bool_text
    elif kind in ("POINT", "CIRCLE") and tabledata:
        one = _fixed_numbers_text(field.fixed_length)
    elif kind in ("POINT", "CIRCLE", "POLYGON"):
        one = _numbers_text
    else:
        return lambda column: [("" if v is None else v) for v in convert(column)]
    return lambda column: list(map(one, convert(column)))


def row_template(count: int, opening: str, separator: str, closing: str) -> str:
    """A ``str.format`` template for one row of ``count`` cells.

    ``"".join(map(template.format, *columns))`` builds a batch's text without a tuple per row.
    """
    return opening + separator.join(["{}"] * count) + closing
