"""Errors of the ADQL translator: each names what is wrong and where, in words a user can act on.

The TAP service reports ``str(error)`` to the user (DALI error document), so messages start with
the position in the query (``line 1, column 37: ...``) and never contain a Python traceback.
"""
from __future__ import annotations


class AdqlError(Exception):
    """A query the service will not run; ``str()`` is the message for the user."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"line {self.line}, column {self.column}: {self.message}"


class AdqlSyntaxError(AdqlError):
    """The text is not ADQL 2.1 (or is too long or too deeply nested to be parsed)."""


class AdqlValidationError(AdqlError):
    """The query is ADQL, but names something unknown or uses a feature wrongly."""
