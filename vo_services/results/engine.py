"""The one way a service turns a query into a streamed result: :func:`run_result`.

A service (TAP sync and async, the cone search, and those to come) knows its request, its SQL
and its columns; the engine knows how to run SQL fast as the caller and stream it encoded: the
query role's READ ONLY transaction with the caller's signed principals
(:mod:`~vo_services.results.query`), session, query and first batch in one round trip, prepared
statements for small results (:mod:`~vo_services.results.statements`), later batches fetched
ahead (:mod:`~vo_services.results.fetchahead`), encoded while they arrive
(:mod:`~vo_services.results.responses`). What belongs to a service stays with it: its error
documents, and the resources it adds to the result (DataLink service descriptors).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial

from archive.columns import Column
from vo_services.encoders import pgcopy
from vo_services.results.copyout import CopyCursor
from vo_services.results.query import BinaryCursor, TextCursor, describe
from vo_services.results.responses import ResultStream, result_chunks
from vo_services.results.statements import PreparedCall

# pgsphere has no binary output for these (its types have no send function): their results are
# read as text.
GEOMETRY_TYPES = frozenset({"POINT", "CIRCLE", "POLYGON", "REGION"})


@dataclass(frozen=True)
class ResultLimits:
    """What bounds one result: at most ``maxrec`` rows (0: metadata only, the query does not
    run), ``timeout_s`` seconds in the database, and ``batch`` rows per FETCH from a server-side
    cursor, or None to read the whole result in the first round trip (results known to be small:
    they may then run as prepared statements)."""

    maxrec: int
    timeout_s: float
    batch: int | None


def run_result(sql: str | bytes | PreparedCall, fields: Sequence[Column], encoder: Callable,
               principals: Sequence[str], limits: ResultLimits, *,
               infos: Iterable[tuple[str, str]] = (), extra_resources: Iterable[str] = (),
               setup: Callable | None = None,
               on_backend: Callable[[int], None] | None = None) -> ResultStream:
    """The encoded result of ``sql`` (bound already, or a prepared call) run as ``principals``.

    ``encoder(fields, batches, maxrec=, infos=, extra_resources=, describe_error=)`` writes the
    document (:mod:`vo_services.encoders`); ``infos`` and ``extra_resources`` go into a VOTable
    (other formats ignore them). ``setup(conn)`` runs before the query, outside its transaction
    (TAP_UPLOAD's temporary tables); ``on_backend(pid)`` learns the server process, so that an
    abort can cancel the query.

    ``start()`` on the returned stream runs the query and encodes its first write, so a failing
    query raises :class:`~vo_services.results.query.QueryFailed` there while the caller can
    still answer with its own error document and a 4xx status. Close the stream (the WSGI
    server does) to end the transaction.

    Results read in batches are fetched in binary (psycopg 3, about twice as fast to decode)
    unless they hold pgsphere values or need ``setup``; the rest as text in one round trip.
    When the encoder takes binary COPY tuples (``encoder.copy_rows``: BINARY2) and every column
    is of a type it transcodes, they are read by binary COPY instead
    (:class:`~vo_services.results.copyout.CopyCursor`), in the same transaction.
    """
    binary = (limits.batch is not None and setup is None
              and not any(f.datatype in GEOMETRY_TYPES for f in fields))
    if binary and getattr(encoder, "copy_rows", False) and pgcopy.transcodable(fields):
        cursor = CopyCursor(principals, limits.timeout_s, takes=partial(pgcopy.matches, tuple(fields)),
                            refuses=partial(pgcopy.unloadable, tuple(fields)), on_backend=on_backend)
    else:
        cursor = (BinaryCursor if binary else TextCursor)(principals, limits.timeout_s, setup=setup,
                                                          on_backend=on_backend)
    encode = partial(encoder, fields, maxrec=limits.maxrec, infos=infos, describe_error=describe,
                     extra_resources=extra_resources)
    # One row more than MAXREC, so that the encoder sees an overflow.
    return ResultStream(result_chunks(cursor, sql, encode, batch=limits.batch,
                                      limit=limits.maxrec + 1 if limits.maxrec else 0))
