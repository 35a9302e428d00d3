"""User-defined functions (ADQL 2.1 §4.3): one declaration gives the TAPRegExt description and the
SQL translation, so what the capabilities advertise is exactly what the translator accepts.

A function is declared with its TAPRegExt ``form`` (``name(arg TYPE, ...) -> TYPE``), which also
gives its arity and result type, and a description; the decorated function receives the SQL of
the arguments and returns the SQL of the call. Predicates — functions returning 1 or 0 — are
declared with :func:`predicate` and return a boolean condition: ``ivo_nocasematch(a, b) = 1`` in
a WHERE clause becomes the bare condition (which an index can serve), anywhere else the 1/0
integer. Only registered functions pass the validator.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .types import DOUBLE, INTEGER, TIMESTAMP, VARCHAR, SqlType

_FORM = re.compile(r"^(?P<name>[a-z][a-z0-9]*_[a-z0-9_]+)\((?P<params>[^)]*)\)\s*->\s*(?P<returns>.+)$")
_RESULT_TYPES = {"INTEGER": INTEGER, "TEXT": VARCHAR, "DOUBLE PRECISION": DOUBLE,
                 "TIMESTAMP": TIMESTAMP}


@dataclass(frozen=True)
class UserFunction:
    name: str
    form: str  # TAPRegExt 1.0 §2.3 <form>
    description: str
    arity: int
    returns: SqlType
    translate: Callable[..., str]
    condition: Callable[..., str] | None = None  # the boolean form of a predicate
    aggregate: bool = False


REGISTRY: dict[str, UserFunction] = {}


def _register(form: str, description: str, translate, condition=None, aggregate=False):
    match = _FORM.match(form)
    if not match:
        raise ValueError(f"not a TAPRegExt UDF form with a prefixed name: {form!r}")
    params = [p for p in match.group("params").split(",") if p.strip()]
    function = UserFunction(
        name=match.group("name"), form=form, description=description, arity=len(params),
        returns=_RESULT_TYPES[match.group("returns").strip()], translate=translate,
        condition=condition, aggregate=aggregate)
    REGISTRY[function.name] = function
    return function


def user_function(form: str, description: str, aggregate: bool = False):
    """Declare a function; the decorated callable maps argument SQL to the call's SQL."""
    def register(translate: Callable[..., str]) -> Callable[..., str]:
        _register(form, description, translate, aggregate=aggregate)
        return translate
    return register


def predicate(form: str, description: str):
    """Declare a 1/0 function by the boolean condition the decorated callable builds."""
    def register(condition: Callable[..., str]) -> Callable[..., str]:
        _register(form, description,
                  lambda *args: f"CAST(({condition(*args)}) AS integer)", condition=condition)
        return condition
    return register


# The IVOA catalogue of ADQL user-defined functions ---------------------------------------------

@predicate("ivo_nocasematch(value TEXT, pattern TEXT) -> INTEGER",
           "1 if value matches pattern, a LIKE pattern (% and _), ignoring case; 0 otherwise.")
def ivo_nocasematch(value: str, pattern: str) -> str:
    return f"{value} ILIKE {pattern}"


@predicate("ivo_hasword(haystack TEXT, needle TEXT) -> INTEGER",
           "1 if the words of needle occur in haystack as whole words, ignoring case and "
           "punctuation (PostgreSQL full-text search, no stemming); 0 otherwise.")
def ivo_hasword(haystack: str, needle: str) -> str:
    return f"to_tsvector('simple', {haystack}) @@ phraseto_tsquery('simple', {needle})"


@user_function("ivo_string_agg(expr TEXT, delim TEXT) -> TEXT",
               "An aggregate function: the values of expr in the group joined by delim.",
               aggregate=True)
def ivo_string_agg(expr: str, delim: str) -> str:
    return f"string_agg(CAST({expr} AS text), {delim})"


# This archive's own ---------------------------------------------------------------------------

@user_function("lick_mjd_to_timestamp(mjd DOUBLE PRECISION) -> TIMESTAMP",
               "The UTC timestamp of a modified Julian date, such as t_min or t_max.")
def lick_mjd_to_timestamp(mjd: str) -> str:
    return f"(TIMESTAMP '1858-11-17 00:00:00' + {mjd} * INTERVAL '1 day')"
