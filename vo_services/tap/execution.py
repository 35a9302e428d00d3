"""Running a TAP query, for /sync and for async jobs alike.

One path: DALI parameters to a :class:`TapRequest`, ADQL to SQL (:mod:`vo_services.tap.adql`),
the SQL run by :func:`vo_services.query.query_session` from a server-side cursor, and the rows
streamed through the encoder of the requested format in constant memory.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import psycopg2

from vo_services.dali import DaliParameterError, DaliParams
from vo_services.datalink.descriptor import descriptors_for
from vo_services.query import binary_session, query_session
from vo_services.tap import limits
from vo_services.tap.uploads import (
    UploadError, WithUploads, create_tables, fetch, parse_upload_params, read_votable,
)
from vo_services.votable import Field, OutputFormat, UnknownFormat, resolve

FETCH_ROWS = 20_000
GEOMETRY_TYPES = {"POINT", "CIRCLE", "POLYGON", "REGION"}  # pgsphere has no binary output for them
LANGS = {"ADQL", "ADQL-2.0", "ADQL-2.1"}  # TAP 1.1 §2.7.1; every variant behaves alike


class TapUsageError(ValueError):
    """A request the service refuses before running anything (HTTP 400)."""


class QueryFailed(Exception):
    """The database refused or aborted the query; the message is safe to show the user."""


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
            if len(query.encode()) > limits.MAX_QUERY_BYTES:
                raise TapUsageError(f"QUERY is longer than {limits.MAX_QUERY_BYTES} bytes")
            output, content_type = resolve(params.get("RESPONSEFORMAT") or params.get("FORMAT"))
            maxrec = limits.OUTPUT_ROWS.clamp(params.integer("MAXREC"))
            uploads = tuple(read_votable(name, fetch(uri, params.files))
                            for name, uri in parse_upload_params(params.getlist("UPLOAD")))
        except (DaliParameterError, UnknownFormat, UploadError) as exc:
            raise TapUsageError(str(exc)) from None
        return cls(query=query, lang=lang, output=output, content_type=content_type, maxrec=maxrec,
                   run_id=params.get("RUNID"), uploads=uploads)


@dataclass(frozen=True)
class PreparedQuery:
    request: TapRequest
    sql: str
    fields: tuple[Field, ...]
    infos: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    row_limit: int | None = None  # the SQL's LIMIT


def prepare(request: TapRequest) -> PreparedQuery:
    """Translate the ADQL; raises :class:`~vo_services.tap.adql.AdqlError` with a position."""
    from vo_services.tap.adql import translate
    from vo_services.tap.catalog import catalog

    tables = WithUploads(catalog(), list(request.uploads)) if request.uploads else catalog()
    translated = translate(request.query, tables, maxrec=request.maxrec)
    fields = tuple(Field(name=c.name, datatype=c.datatype, arraysize=c.arraysize, xtype=c.xtype,
                         unit=c.unit, ucd=c.ucd, utype=c.utype, description=c.description)
                   for c in translated.columns)
    return PreparedQuery(request, translated.sql, fields, (("QUERY", request.query),),
                         translated.row_limit)


def _describe(exc: BaseException) -> str:
    """A database error as the user should read it: PostgreSQL's message, never internals."""
    import psycopg

    if isinstance(exc, (psycopg2.errors.QueryCanceled, psycopg.errors.QueryCanceled)):
        return "the query took longer than the time allowed and was cancelled"
    if isinstance(exc, psycopg.Error):
        return exc.diag.message_primary or "the query failed"
    if isinstance(exc, psycopg2.Error):
        message = (exc.pgerror or str(exc)).strip().splitlines()
        return message[0].removeprefix("ERROR:").strip() if message else "the query failed"
    return str(exc) or exc.__class__.__name__


def stream(prepared: PreparedQuery, principals: Sequence[str] = (), timeout_s: float = 60.0,
           on_backend: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """The encoded result. The query runs, and its first rows arrive, before the first chunk is
    yielded, so a failing query raises :class:`QueryFailed` from the first ``next()``, while the
    caller can still answer with an error document and a 4xx status."""
    request = prepared.request
    uploads = list(request.uploads)

    def prepare_uploads(conn) -> None:
        try:
            create_tables(conn, uploads)
        except psycopg2.Error as exc:
            conn.rollback()
            raise QueryFailed(f"an uploaded table could not be loaded: {_describe(exc)}") from None

    small = prepared.row_limit is not None and prepared.row_limit <= FETCH_ROWS
    if not small and not uploads and not any(f.datatype in GEOMETRY_TYPES for f in prepared.fields):
        yield from _stream_binary(prepared, principals, timeout_s, on_backend)
        return
    with query_session(principals, timeout_s, prepare=prepare_uploads if uploads else None) as conn:
        if on_backend is not None:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                on_backend(cur.fetchone()[0])
        # A server-side cursor streams large results in constant memory; a small one (TOP or
        # MAXREC below a batch) comes back in one round trip from a plain cursor.
        cursor = conn.cursor() if small else conn.cursor(name="tap_result")
        try:
            first = [] if request.maxrec == 0 else _first_batch(cursor, prepared.sql)
        except psycopg2.Error as exc:
            raise QueryFailed(_describe(exc)) from None
        yield from _encode(prepared, cursor, first)


def _first_batch(cursor, sql: str) -> list:
    cursor.execute(sql)
    return cursor.fetchmany(FETCH_ROWS)


def _encode(prepared: PreparedQuery, cursor, first: list) -> Iterator[bytes]:
    def batches() -> Iterator[list]:
        if first:
            yield first
            while rows := cursor.fetchmany(FETCH_ROWS):
                yield rows

    request = prepared.request
    yield from request.output(prepared.fields, batches(), maxrec=request.maxrec,
                              infos=prepared.infos, describe_error=_describe,
                              extra_resources=descriptors_for(prepared.fields))


def _stream_binary(prepared: PreparedQuery, principals, timeout_s, on_backend) -> Iterator[bytes]:
    """Large results without geometry: a binary server-side cursor (psycopg 3)."""
    import psycopg

    with binary_session(principals, timeout_s) as conn:
        if on_backend is not None:
            on_backend(conn.info.backend_pid)
        cursor = conn.cursor(name="tap_result", binary=True)
        try:
            first = [] if prepared.request.maxrec == 0 else _first_batch(cursor, prepared.sql)
        except psycopg.Error as exc:
            raise QueryFailed(_describe(exc)) from None
        yield from _encode(prepared, cursor, first)


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
        with temporary.open("wb") as out:
            for chunk in stream(prepared, principals_of(job.owner), job.execution_duration or
                                limits.ASYNC_EXECUTION_S.hard, on_backend=record_backend):
                out.write(chunk)
    except QueryFailed as exc:
        temporary.unlink(missing_ok=True)
        raise JobFailed(str(exc)) from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return {"result_file": final.name, "result_size": publish(temporary, final),
            "result_mime": request.content_type}
