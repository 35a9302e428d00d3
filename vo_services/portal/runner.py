"""Running the portal's ADQL: the TAP service's path, as the caller, for rows to show on a page.

The query is read as /tap/sync reads one (:class:`~vo_services.tap.execution.TapRequest`), translated
by the same translator (:func:`~vo_services.tap.execution.prepare`) and run on the result engine's
cursor (:class:`~vo_services.results.query.TextCursor`: the query role's READ ONLY transaction with
the caller's signed principals, as :func:`~vo_services.results.engine.run_result` runs it). The
rows come back as Python values rather than an encoded document, because a page renders them.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vo_services.dali import DaliParams
from vo_services.results.query import DatabaseUnavailable, QueryFailed, TextCursor
from vo_services.tap.execution import TapUsageError, TapRequest, prepare

PAGE_TIMEOUT_S = 20.0


class SearchFailed(Exception):
    """The query could not run; the message is safe to show (the translator's or the database's)."""


@dataclass(frozen=True)
class Result:
    adql: str
    columns: tuple[str, ...]
    rows: list[dict]


def run_adql(adql: str, principals: Sequence[str], maxrec: int) -> Result:
    """The rows of ``adql`` that ``principals`` may see, at most ``maxrec``."""
    from vo_services.tap.adql import AdqlError

    params = DaliParams([("REQUEST", "doQuery"), ("LANG", "ADQL"), ("QUERY", adql),
                         ("MAXREC", str(maxrec))])
    try:
        prepared = prepare(TapRequest.from_params(params))
    except (TapUsageError, AdqlError) as exc:
        raise SearchFailed(str(exc)) from None
    cursor = TextCursor(principals, PAGE_TIMEOUT_S)
    try:
        rows = cursor.execute(prepared.sql, batch=None)
    except DatabaseUnavailable:
        raise  # not the search's fault: the site's 503 page (vo_services.views.server_error)
    except QueryFailed as exc:
        raise SearchFailed(str(exc)) from None
    finally:
        cursor.close()
    names = tuple(c.name for c in prepared.fields)
    return Result(adql, names, [dict(zip(names, row)) for row in rows[:maxrec]])
