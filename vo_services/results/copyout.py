"""Large results read as binary COPY, in chunks of whole tuples, for BINARY2 without Python rows.

:class:`CopyCursor` is a :class:`~vo_services.results.query.BinaryCursor` in every respect
that matters for access: the same pooled connection, the same READ ONLY transaction with the
caller's signed principals and time limit, sent the same way. Only the query differs: once
the statement is described (its result types, without running it) and the encoder can write
every column from its binary value (``takes``), the translated SQL runs as
``COPY (<sql>) TO STDOUT (FORMAT binary)``, by the extended protocol, which takes exactly one
statement. Otherwise it runs as the binary cursor runs it, in the same transaction.

The binary cursor's driver refuses, when it loads a batch, values Python cannot hold (a
timestamp outside years 1 to 9999, ±infinity among them), and the result fails there: before
its first write (an error document) or at that batch (QUERY_STATUS ERROR after the batches
before it). A chunk read by COPY is checked for the same values as it is read (``refuses``),
so that the same result fails at the same point, with the same error, whichever path ran.

Reading COPY through psycopg's ``Copy.read()`` costs about 1 µs of Python a row (PostgreSQL
sends one CopyData message per tuple); :class:`CopyOut` reads libpq's messages in a tight
loop into one buffer per chunk (about 0.2 µs a row) and hands the chunk on as
:class:`~vo_services.encoders.pgcopy.CopyRows`. It reads at most the rows it is asked for
(MAXREC + 1 in all), so MAXREC still bounds the work and the memory: one chunk at a time, the
rest waiting in PostgreSQL and the socket.

A COPY is one statement, so PostgreSQL's ``statement_timeout`` would cover the whole transfer,
the client's reading included: a client slower than the time limit (a large sync result over a
slow link) would lose its result half-way, where a cursor's limit applies to each FETCH alone.
The time limit is therefore kept here, as *database time*: the time spent waiting for
PostgreSQL's next rows, summed over the COPY (:class:`CopyOut`); once it is spent, the COPY is
cancelled and fails as a statement timeout does. PostgreSQL's own limit for the COPY is only a
backstop, :data:`TRANSFER_ALLOWANCE_S` longer, against a client that stops reading altogether.
"""
from __future__ import annotations

import select
import time
from array import array
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import psycopg
from psycopg.pq import ExecStatus

from vo_services.encoders.pgcopy import CopyRows, header_length
from vo_services.results.query import CURSOR, BinaryCursor

_TRAILER = b"\xff\xff"  # the file trailer: a field count of -1

TRANSFER_ALLOWANCE_S = 3600.0
"""How much longer than its time limit a COPY may take in all, the client's reading included,
before PostgreSQL ends it: an hour, to read a sync result at any reasonable speed."""


class CopyOut:
    """One ``COPY ... TO STDOUT (FORMAT binary)`` on a psycopg 3 connection, read in chunks.

    ``time_limit_s`` bounds the time spent waiting for PostgreSQL's rows (module documentation),
    not the time between two reads, which is the client's; past it, ``cancel`` ends the COPY and
    the constructor or :meth:`read` raises QueryCanceled, as a statement timeout would.
    """

    def __init__(self, conn: psycopg.Connection, statement: bytes, time_limit_s: float,
                 cancel: Callable[[], None]):
        self.pgconn = conn.pgconn
        self.finished = False
        self._header = True  # not read yet
        self._time_left = time_limit_s
        self._cancel = cancel
        self.pgconn.send_query_params(statement, None)  # extended protocol: one statement only
        while self.pgconn.is_busy():  # PostgreSQL may run the query before it starts the COPY
            self._await()
        result = self.pgconn.get_result()
        if result is None or result.status != ExecStatus.COPY_OUT:
            self.finished = True
            _rest_of_results(self.pgconn)
            raise _error(result, self.pgconn)

    def read(self, rows: int) -> CopyRows:
        """The next ``rows`` tuples (fewer at the end of the result)."""
        data = bytearray()
        sizes = array("q", [0])
        if self._header and not self.finished:
            self._first_tuple(data, sizes)
        get, add = self.pgconn.get_copy_data, sizes.append
        while len(sizes) <= rows and not self.finished:
            for _ in range(rows + 1 - len(sizes)):  # the hot loop: a few bytecodes a tuple
                size, message = get(1)
                if size <= 0:
                    break
                data += message
                add(size)
            else:
                continue
            if size == 0:  # nothing buffered: wait for the socket
                self._await()
            else:  # -1: the end, or an error (its result follows); -2: the connection failed
                self._end()
        if sizes[-1] == 2 and len(sizes) > 1:  # the trailer: no tuple has no fields
            del data[-2:]
            sizes.pop()
        data.append(0)  # CopyRows' padding byte
        return CopyRows(np.frombuffer(data, np.uint8), np.cumsum(np.frombuffer(sizes, np.int64)))

    def _first_tuple(self, data: bytearray, sizes: array) -> None:
        """The header, which PostgreSQL sends with the first tuple (or the trailer), skipped."""
        while True:
            size, message = self.pgconn.get_copy_data(1)
            if size == 0:
                self._await()
                continue
            break
        if size < 0:
            self._end()
            return
        self._header = False
        message = bytes(message)
        message = message[header_length(message):]
        if message and message != _TRAILER:
            data += message
            sizes.append(len(message))

    def chunks(self, rows: int, limit: int | None) -> Iterator[CopyRows]:
        """Chunks of ``rows`` tuples until the end, at most ``limit`` tuples in all."""
        left = limit
        while not self.finished and (left is None or left > 0):
            chunk = self.read(rows if left is None else min(rows, left))
            if left is not None:
                left -= len(chunk)
            if len(chunk):
                yield chunk

    def stop(self, cancel: Callable[[], None]) -> None:
        """End a COPY not read to its end (the client went away, or MAXREC + 1 rows came before
        PostgreSQL's own end): cancel it and read what is still in flight."""
        if self.finished:
            return
        self.finished = True
        cancel()
        _drain(self.pgconn)

    def _await(self) -> None:
        """Wait for PostgreSQL's next rows, on the COPY's time; cancel it once that is spent."""
        started = time.monotonic()
        ready = _wait(self.pgconn, max(self._time_left, 0.0))
        self._time_left -= time.monotonic() - started
        if not ready:
            self.stop(self._cancel)  # its error, QueryCanceled, is what the reader sees
            raise psycopg.errors.QueryCanceled("canceling statement: its time limit was spent")
        self.pgconn.consume_input()

    def _end(self) -> None:
        self.finished = True
        result = _next_result(self.pgconn)
        _rest_of_results(self.pgconn)
        if result is None or result.status != ExecStatus.COMMAND_OK:
            raise _error(result, self.pgconn)


def _wait(pgconn, timeout_s: float | None = None) -> bool:
    """Until the socket has something to read (the GIL released meanwhile), at most
    ``timeout_s`` seconds if given; False if that passed first."""
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN)
    return bool(poller.poll(None if timeout_s is None else int(timeout_s * 1000) + 1))


def _next_result(pgconn):
    """The next result of the command sent (None after the last), waited for without blocking
    in libpq."""
    while pgconn.is_busy():
        _wait(pgconn)
        pgconn.consume_input()
    return pgconn.get_result()


def _drain(pgconn) -> None:
    """Read and drop what the command still sends, COPY data in flight included, to its end."""
    while (result := _next_result(pgconn)) is not None:
        if result.status == ExecStatus.COPY_OUT:  # libpq says so until the COPY data is read
            while (size := pgconn.get_copy_data(1)[0]) >= 0:
                if size == 0:
                    _wait(pgconn)
                    pgconn.consume_input()


def _rest_of_results(pgconn) -> None:
    while _next_result(pgconn) is not None:
        pass


def _error(result, pgconn) -> psycopg.Error:
    if result is None:
        return psycopg.OperationalError(pgconn.get_error_message())
    return psycopg.errors.error_from_result(result, encoding="utf-8")


class CopyCursor(BinaryCursor):
    """The binary cursor, reading by binary COPY when ``takes(result type OIDs)`` says the
    encoder writes every column from its binary value (module documentation). ``refuses(chunk)``
    names what in a chunk the binary cursor's driver would refuse to load, or is None."""

    def __init__(self, principals: Sequence[str] = (), timeout_s: float = 60.0, *,
                 takes: Callable[[Sequence[int]], bool],
                 refuses: Callable[[CopyRows], str | None] = lambda chunk: None,
                 on_backend: Callable[[int], None] | None = None):
        super().__init__(principals, timeout_s, on_backend=on_backend)
        self._takes = takes
        self._refuses = refuses
        self._copy: CopyOut | None = None

    def execute(self, sql: str | bytes, batch: int | None = None) -> list | CopyRows:
        self._sql = sql.encode() if isinstance(sql, str) else sql
        return super().execute(sql, batch)

    def first_message(self, sql: bytes, batch: int | None) -> list[bytes]:
        return []  # the transaction and its settings first; the query in _first

    def _first(self, statements: list[bytes]) -> list | CopyRows:
        self._run(b"; ".join(statements), rows=False)
        if self.conn.info.encoding == "utf-8" and self._takes(self._result_types()):
            # The time limit is kept by CopyOut; PostgreSQL's is a backstop (module documentation).
            backstop = f"{int((self.timeout_s + TRANSFER_ALLOWANCE_S) * 1000)}ms"
            self._run(b"SELECT set_config('statement_timeout', " + self._literal(backstop) + b", true)",
                      rows=False)
            # The translated SQL exactly as the cursor below would run it, in the same transaction.
            self._copy = CopyOut(self.conn, b"COPY (" + self._sql + b") TO STDOUT (FORMAT binary)",
                                 self.timeout_s, self._cancel)
            return self._loaded(self._copy.read(self._batch))
        self._run(b"DECLARE " + CURSOR + b" NO SCROLL CURSOR FOR " + self._sql, rows=False)
        return self.fetch(self._batch)

    def _result_types(self) -> list[int]:
        """The OIDs of the statement's result columns, from PostgreSQL's description of the
        unnamed statement: parsed and analysed, not planned or run."""
        pgconn = self.conn.pgconn
        for send in (lambda: pgconn.send_prepare(b"", self._sql), lambda: pgconn.send_describe_prepared(b"")):
            send()
            result = _next_result(pgconn)
            _rest_of_results(pgconn)
            if result is None or result.status != ExecStatus.COMMAND_OK:
                raise _error(result, pgconn)
        return [result.ftype(i) for i in range(result.nfields)]

    def _loaded(self, chunk: CopyRows) -> CopyRows:
        """The chunk, once nothing in it is what the binary cursor's driver refuses; else the
        error that driver raises (a DataError, which the user reads as "the query failed")."""
        refusal = self._refuses(chunk)
        if refusal is not None:
            raise psycopg.DataError(refusal)
        return chunk

    def rest(self, batch: int, limit: int | None = None) -> Iterator:
        if self._copy is None:
            return super().rest(batch, limit)
        return self._chunks(self._copy, batch, limit)

    def _chunks(self, copy: CopyOut, batch: int, limit: int | None) -> Iterator[CopyRows]:
        try:
            for chunk in copy.chunks(batch, limit):
                yield self._loaded(chunk)
        except Exception:
            self._failed = True  # as a failed FETCH: the session is reset before the next caller
            raise

    def close(self) -> None:
        if self._copy is not None and not self._copy.finished:
            self._failed = True  # cut short: the session is reset before the next caller
            try:
                self._copy.stop(self._cancel)
            except Exception:  # noqa: BLE001  (a connection that cannot finish the COPY is closed)
                self._discard()
        self._copy = None
        super().close()
