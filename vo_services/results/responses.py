"""Query results as HTTP responses: encoded while the rows arrive, cleaned up after the last byte.

A result's generator (:func:`result_chunks`) runs the query, encodes the batches and, after its
last chunk, yields :data:`END` before it ends the transaction. :class:`ResultStream` stops the
iteration at :data:`END` and leaves the clean-up (ROLLBACK, the connection back to the pool) to
``close()``, which the WSGI server calls once the response is complete: the client does not wait
for that round trip. ``close()`` also runs when the client goes away mid-stream, and the
generator's own ``finally`` covers a stream that is dropped without being closed.

Small chunks are gathered into writes of at least :data:`GATHER_BYTES`, so a small result goes
out in one write, with a Content-Length instead of chunked transfer encoding.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import chain

from django.http import HttpResponse, StreamingHttpResponse

from vo_services.results.query import DRIVER_ERRORS, DatabaseUnavailable, QueryFailed, ResultCursor, describe
from vo_services.results.statements import PreparedCall

END = object()
GATHER_BYTES = 64 * 1024

Encode = Callable[[Iterator[list]], Iterator[bytes]]


def result_chunks(cursor: ResultCursor, sql: str | bytes | PreparedCall, encode: Encode, *,
                  batch: int | None, limit: int) -> Iterator:
    """Run ``sql`` on ``cursor`` and yield ``encode(batches)``'s chunks, then :data:`END`.

    ``limit`` is the most rows wanted (MAXREC + 1, so that the encoder sees an overflow), 0 for
    a metadata-only answer, which does not run the query. ``batch`` rows come per FETCH from a
    server-side cursor; ``None`` reads the whole result in the first round trip, for results
    known to be small (TOP below a batch). Raises :class:`~vo_services.results.query.QueryFailed` from
    the first ``next()`` if the query fails before any row.
    """
    try:
        first: list = []
        rest: Iterator[list] = iter(())
        if limit:
            wanted = None if batch is None else min(batch, limit)
            first = cursor.execute(sql, wanted)
            if wanted is not None and len(first) == wanted < limit:
                rest = cursor.rest(batch, limit - wanted)
        yield from encode(chain([first], rest))
        yield END
    finally:
        cursor.close()


class ResultStream:
    """A WSGI response body over :func:`result_chunks` (see the module documentation)."""

    def __init__(self, chunks: Iterator):
        self._chunks = chunks
        self._head: bytes | None = None
        self._ended = False

    def start(self) -> None:
        """Run the query and encode the first write: a failure here can still be answered with
        an error document and a 4xx status."""
        self._head = self._gather()

    def _gather(self) -> bytes:
        pending: list[bytes] = []
        size = 0
        while size < GATHER_BYTES:
            chunk = next(self._chunks, END)
            if chunk is END:
                self._ended = True
                break
            pending.append(chunk)
            size += len(chunk)
        return pending[0] if len(pending) == 1 else b"".join(pending)

    def __iter__(self) -> "ResultStream":
        return self

    def __next__(self) -> bytes:
        if self._head is not None:
            head, self._head = self._head, None
            if head:
                return head
        if self._ended:
            raise StopIteration
        chunk = self._gather()
        if not chunk and self._ended:
            raise StopIteration
        return chunk

    def close(self) -> None:
        self._chunks.close()

    def response(self, content_type: str) -> StreamingHttpResponse:
        """The streaming response; with Content-Length when :meth:`start` already gathered it all."""
        response = StreamingHttpResponse(self, content_type=content_type)
        if self._ended and self._head is not None:
            response["Content-Length"] = str(len(self._head))
        return response

    def answer(self, content_type: str, error: Callable[[str, int], HttpResponse]) -> HttpResponse:
        """Run the query (:meth:`start`) and answer with the stream; or, when it fails before the
        first write, with the service's own ``error(message, status)`` document: 503 with
        Retry-After when the database cannot be reached, 400 when it refused the query. Errors
        after the first write end the document instead (DALI 1.1 §4.4.2)."""
        try:
            self.start()
        except DatabaseUnavailable as exc:
            response = error(f"ServiceUnavailable: {exc}", 503)
            response["Retry-After"] = str(exc.retry_after_s)
            return response
        except (QueryFailed, *DRIVER_ERRORS) as exc:  # refused by the database
            return error(f"the search failed: {describe(exc)}", 400)
        return self.response(content_type)
