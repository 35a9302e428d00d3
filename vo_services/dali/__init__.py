"""DALI 1.1 request parameters: case-insensitive names, GET, POST and multipart alike.

DALI §3.1: parameter names are case-insensitive, values case-sensitive. §3.2: a single-valued
parameter given twice is an error; multi-valued ones (UPLOAD, ID) accumulate. The values of the
shape and interval parameters (DALI 1.1 §3.3) are read by :mod:`vo_services.dali.values`.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the values parser (values.py) needs no Django
    from django.http import HttpRequest


class DaliParameterError(ValueError):
    """A request parameter that is missing, repeated or malformed; the message says which."""


class DaliParams:
    """The request's parameters, keyed by upper-cased name, with the uploaded files."""

    def __init__(self, pairs: Iterable[tuple[str, str]], files: dict | None = None):
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self._values.setdefault(name.upper(), []).append(value)
        self.files = files or {}

    @classmethod
    def from_request(cls, request: HttpRequest) -> "DaliParams":
        pairs = list(request.GET.lists())
        if request.method == "POST":
            pairs += list(request.POST.lists())
        files = request.FILES.items() if request.method == "POST" else ()  # parsing them is not free
        return cls(((name, value) for name, values in pairs for value in values), dict(files))

    def get(self, name: str, default: str | None = None) -> str | None:
        """A single-valued parameter; given twice with different values, an error (DALI §3.2)."""
        values = self._values.get(name.upper())
        if not values:
            return default
        if len(set(values)) > 1:
            raise DaliParameterError(f"parameter {name.upper()} may be given only once")
        return values[0]

    def getlist(self, name: str) -> list[str]:
        return list(self._values.get(name.upper(), []))

    def __contains__(self, name: str) -> bool:
        return name.upper() in self._values

    def items(self) -> list[tuple[str, str]]:
        return [(k, v) for k, values in self._values.items() for v in values]

    def integer(self, name: str, default: int | None = None, minimum: int = 0) -> int | None:
        value = self.get(name)
        if value is None or value.strip() == "":
            return default
        try:
            number = int(value.strip())
        except ValueError:
            raise DaliParameterError(f"{name.upper()} must be an integer, not '{value}'") from None
        if number < minimum:
            raise DaliParameterError(f"{name.upper()} must be at least {minimum}, not {number}")
        return number
