"""ADQL text to a PostgreSQL statement with its result metadata and row limit."""
from __future__ import annotations

from dataclasses import dataclass

from . import ast
from .catalog import CatalogColumn, TableSource
from .generator import Generator
from .parser import parse
from .validator import Validator


@dataclass(frozen=True)
class TranslatedQuery:
    sql: str
    columns: tuple[CatalogColumn, ...]  # the result's FIELDs, in select-list order
    row_limit: int | None  # the LIMIT of ``sql``; None: unlimited
    limited_by_top: bool  # TOP, not MAXREC, set row_limit: the result cannot overflow


def check(query: str | ast.Query) -> ast.Query:
    """The tree of ``query`` if ADQL 2.1 allows it whatever tables it names; :class:`AdqlError`
    (with line and column) if not.

    The grammar, then the validator without a catalogue: every table is taken to exist, every
    column to be of unknown type, and what is left to check is what ADQL itself rules — literal
    types, function signatures, conditions where conditions belong, aggregate placement.
    :func:`translate` applies the same rules with the columns' types, so it refuses at least
    what this refuses.
    """
    tree = parse(query) if isinstance(query, str) else query
    Validator(None).analyze(tree)
    return tree


def translate(query: str | ast.Query, catalog: TableSource, maxrec: int | None = None
              ) -> TranslatedQuery:
    """Translate ADQL for ``catalog``; raise :class:`AdqlError` for anything not to be run.

    TAP 1.1 §2.7.4: MAXREC applies after TOP. With TOP n and n <= maxrec, the query returns at
    most n rows and never overflows; otherwise it is limited to maxrec + 1 rows, so that the
    caller can tell an overflow (a row beyond maxrec exists) from an exact fit.
    """
    tree = parse(query) if isinstance(query, str) else query
    analysis = Validator(catalog).analyze(tree)
    top = tree.body.top if isinstance(tree.body, ast.Select) else None
    if maxrec is None:
        row_limit, by_top = top, top is not None
    elif top is not None and top <= maxrec:
        row_limit, by_top = top, True
    else:
        row_limit, by_top = maxrec + 1, False
    sql = Generator(analysis).query(tree, row_limit)
    return TranslatedQuery(sql, tuple(analysis.columns), row_limit, by_top)
