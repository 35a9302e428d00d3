"""ADQL literals written from what people type into the portal's forms.

The portal never writes SQL: it writes ADQL, which the TAP service's translator parses and turns
into SQL with its own quoting (:mod:`vo_services.tap.adql`). Still, a user's text must end up as
one ADQL string literal and nothing else, and a number as a number: ADQL 2.1 §2.1.3 (a character
string literal is quoted by single quotes, a quote inside it doubled) and §2.1.2 (unsigned
numeric literals).
"""
from __future__ import annotations

import math
import unicodedata
from datetime import date, datetime, timezone


class UnsafeText(ValueError):
    """Text that cannot be a literal: control characters (NUL, line breaks) have no business in a
    search field, and PostgreSQL refuses NUL in text."""


def check_text(value: str) -> str:
    """``value`` unchanged, or :class:`UnsafeText` if it holds control or unassigned characters."""
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cs", "Cn"):
            raise UnsafeText("control or unassigned characters are not allowed here")
    return value


def string(value: str) -> str:
    """An ADQL character string literal (ADQL 2.1 §2.1.3: quotes doubled)."""
    return "'" + check_text(value).replace("'", "''") + "'"


def number(value: float | int) -> str:
    """An ADQL numeric literal; a finite number only (the form checked it already)."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    text = repr(value)  # the shortest text that reads back as the same double
    if "e" in text or "E" in text:  # ADQL has exponents, but a plain decimal reads better
        text = format(value, ".17f").rstrip("0").rstrip(".") or "0"
    return text


def timestamp(value: date | datetime) -> str:
    """A timestamp as an ISO 8601 string literal, which the translator compares with TIMESTAMP
    columns (DALI 1.1 §3.3.3 form, without a zone: the archive's times are UTC)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return string(value.isoformat())
    return string(value.isoformat())
