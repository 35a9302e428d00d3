"""Running a TAP query, for /sync and for async jobs alike.

One path: DALI parameters to a :class:`TapRequest`, ADQL to SQL (:mod:`vo_services.tap.adql`),
and the SQL run and streamed through the encoder of the requested format by the result engine
(:mod:`vo_services.results`), with the DataLink service descriptor
(:mod:`vo_services.service_descriptors`) attached when the result has
ObsCore's identifiers.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from functools import lru_cache, partial

import psycopg2

from archive.columns import Column
from vo_services import limits
from vo_services.dali import DaliParameterError, DaliParams
from vo_services.service_descriptors import descriptors_for
from vo_services.encoders import OutputFormat, UnknownFormat, resolve
from vo_services.results.engine import ResultLimits, run_result
from vo_services.results.query import QueryFailed, describe
from vo_services.results.responses import ResultStream
from vo_services.tap.limits import MAX_QUERY_BYTES
from vo_services.tap.uploads import (
    UploadError, WithUploads, create_tables, fetch, parse_upload_params, read_votable,
)

FETCH_ROWS = 20_000
LANGS = {"ADQL", "ADQL-2.0", "ADQL-2.1"}  # TAP 1.1 §2.7.1; every variant behaves alike


class TapUsageError(ValueError):
    """A request the service refuses before running anything (HTTP 400)."""


@dataclass(frozen=True)
class TapRequest:
    query: str
    lang: str
    output: OutputFormat
    content_type: str
    maxrec: int
    run_id: str | None = None
    uploads: tuple = ()  # vo_services.tap.uploads.Upload, read from the request

    @classmethod
    def from_params(cls, params: DaliParams) -> "TapRequest":
        """TAP 1.1 §2.7: LANG, QUERY, RESPONSEFORMAT (or FORMAT), MAXREC, RUNID, UPLOAD.

        Unknown parameters are ignored (§2.7); TAP 1.0's REQUEST=doQuery is accepted.
        """
        try:
            request = params.get("REQUEST")
            if request is not None and request != "doQuery":
                raise TapUsageError(f"REQUEST must be doQuery (or absent), not '{request}'")
            lang = params.get("LANG") or "ADQL"
            if lang.upper() not in LANGS:
                raise TapUsageError(f"LANG '{lang}' is not supported; use ADQL (ADQL-2.0 or ADQL-2.1)")
            query = params.get("QUERY")
            if not query or not query.strip():
                raise TapUsageError("the QUERY parameter is missing or empty")
            if len(query.encode()) > MAX_QUERY_BYTES:
                raise TapUsageError(f"QUERY is longer than {MAX_QUERY_BYTES} bytes")
            output, content_type = resolve(params.get("RESPONSEFORMAT") or params.get("FORMAT"))
            maxrec = limits.OUTPUT_ROWS.clamp(params.integer("MAXREC"))
            uploads = tuple(read_votable(name, fetch(uri, params.files))
                            for name, uri in parse_upload_params(params.getlist("UPLOAD")))
            run_id = params.get("RUNID")
        except UploadError as exc:  # refused before anything reaches the database
            raise TapUsageError(f"UsageFault: {exc}") from None
        except (DaliParameterError, UnknownFormat) as exc:
            raise TapUsageError(str(exc)) from None
        return cls(query=query, lang=lang, output=output, content_type=content_type, maxrec=maxrec,
                   run_id=run_id, uploads=uploads)


@dataclass(frozen=True)
class PreparedQuery:
    request: TapRequest
    sql: str
    fields: tuple[Column, ...]
    infos: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    row_limit: int | None = None  # the SQL's LIMIT


def prepare(request: TapRequest) -> PreparedQuery:
    """Translate the ADQL; raises :class:`~vo_services.tap.adql.AdqlError` with a position."""
    if request.uploads:
        from vo_services.tap.catalog import catalog

        sql, fields, row_limit = _translate(request.query, request.maxrec,
                                            WithUploads(catalog(), list(request.uploads)))
    else:
        sql, fields, row_limit = _translate_published(request.query, request.maxrec)
    return PreparedQuery(request, sql, fields, (("QUERY", request.query),), row_limit)


def _translate(query: str, maxrec: int, tables) -> tuple[str, tuple[Column, ...], int | None]:
    from vo_services.tap.adql import translate

    translated = translate(query, tables, maxrec=maxrec)
    return translated.sql, tuple(map(Column.described, translated.columns)), translated.row_limit


@lru_cache(maxsize=512)
def _translate_published(query: str, maxrec: int) -> tuple[str, tuple[Column, ...], int | None]:
    """Translations over the published tables, kept: clients repeat queries (TOPCAT, scripts,
    polling), and the catalogue is fixed for the life of the process."""
    from vo_services.tap.catalog import catalog

    return _translate(query, maxrec, catalog())


def stream(prepared: PreparedQuery, principals: Sequence[str] = (), timeout_s: float = 60.0,
           on_backend: Callable[[int], None] | None = None) -> ResultStream:
    """The encoded result, from the result engine (:func:`~vo_services.results.engine.run_result`).
    ``start()`` runs the query and its first rows arrive before the first chunk, so a failing
    query raises :class:`QueryFailed` there (or from the first ``next()``), while the caller can
    still answer with an error document and a 4xx status. Close it (the WSGI server does) to end
    the transaction.

    Results known to be small (TOP or MAXREC within one batch) are read whole in one round trip;
    the rest in batches of :data:`FETCH_ROWS`.
    """
    request = prepared.request
    uploads = list(request.uploads)
    # MAXREC's overflow row counts as small too: the default MAXREC's LIMIT 20001 is read in one
    # go, and so may run in parallel workers, which PostgreSQL never uses for a cursor's query.
    small = prepared.row_limit is not None and prepared.row_limit <= FETCH_ROWS + 1
    return run_result(prepared.sql, prepared.fields, request.output, principals,
                      ResultLimits(maxrec=request.maxrec, timeout_s=timeout_s,
                                   batch=None if small else FETCH_ROWS),
                      infos=prepared.infos, extra_resources=descriptors_for(prepared.fields),
                      setup=partial(_load_uploads, uploads=uploads) if uploads else None,
                      on_backend=on_backend)


def _load_uploads(conn, uploads: list) -> None:
    try:
        create_tables(conn, uploads)
    except UploadError as exc:
        conn.rollback()
        raise QueryFailed(f"UsageFault: {exc}") from None
    except psycopg2.Error as exc:
        conn.rollback()
        raise QueryFailed(f"an uploaded table could not be loaded: {describe(exc)}") from None


class JobFailed(Exception):
    """An async job that cannot produce a result; the message becomes its error summary."""


def run_to_file(job) -> dict:
    """Run an async job's query into its result file; returns the job fields to record.

    The result is written to a temporary file and renamed into place only when complete.
    """
    from vo_services.tap.adql import AdqlError
    from vo_services.identity import principals_of
    from vo_services.tap.models import Job
    from vo_services.tap.results import partial_path, publish, stored_uploads

    try:
        params = DaliParams(((name, value) for name, value in job.parameters), stored_uploads(job))
        request = TapRequest.from_params(params)
        prepared = prepare(request)
    except (TapUsageError, AdqlError) as exc:
        raise JobFailed(str(exc)) from None
    temporary, final = partial_path(job, request.output.extension)

    def record_backend(pid: int) -> None:
        Job.objects.filter(id=job.id).update(backend_pid=pid)

    try:
        with temporary.open("wb") as out, closing(stream(
                prepared, principals_of(job.owner), job.execution_duration or limits.ASYNC_EXECUTION_S.hard,
                on_backend=record_backend)) as chunks:
            for chunk in chunks:
                out.write(chunk)
    except QueryFailed as exc:
        temporary.unlink(missing_ok=True)
        raise JobFailed(str(exc)) from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return {"result_file": final.name, "result_size": publish(temporary, final),
            "result_mime": request.content_type}
