"""Results as responses on the real database: MAXREC and errors on every reading path, the
transaction ended only when the server closes the response, Content-Length for small ones."""
from __future__ import annotations

import io
import re
from functools import partial

import pytest
from astropy.io.votable import parse_single_table

from archive.columns import Column
from archive.config import get_settings
from vo_services.results.query import QueryFailed, TextCursor
from vo_services.results.responses import ResultStream, result_chunks
from vo_services.tap.execution import FETCH_ROWS, PreparedQuery, TapRequest, stream
from vo_services.encoders import resolve, write_votable


def tap(sql: str, fields: tuple[Column, ...], maxrec: int, row_limit: int | None) -> bytes:
    output, content_type = resolve("votable")
    request = TapRequest(query="(test)", lang="ADQL", output=output, content_type=content_type, maxrec=maxrec)
    result = stream(PreparedQuery(request, sql, fields, row_limit=row_limit))
    try:
        result.start()
        return b"".join(result)
    finally:
        result.close()


def statuses(document: bytes) -> list[str]:
    return re.findall(rb'<INFO name="QUERY_STATUS" value="(\w+)"', document)


# A POINT column sends a result the text (psycopg2) way; without one, a large result goes binary.
PATHS = {
    "binary": ("SELECT n FROM generate_series(1, 100000) AS n", (Column("n", "INTEGER"),)),
    "text": ("SELECT n, spoint(radians(n % 360), 0) AS p FROM generate_series(1, 100000) AS n",
             (Column("n", "INTEGER"), Column("p", "POINT"))),
}


@pytest.mark.parametrize("path", PATHS)
def test_maxrec_overflow_across_batches(archive_db, path):
    sql, fields = PATHS[path]
    maxrec = FETCH_ROWS + 5000
    document = tap(f"{sql} LIMIT {maxrec + 1}", fields, maxrec, maxrec + 1)
    assert statuses(document) == [b"OK", b"OVERFLOW"]
    assert len(parse_single_table(io.BytesIO(document)).array) == maxrec


@pytest.mark.parametrize("path", PATHS)
def test_an_error_after_the_first_batch_ends_the_document(archive_db, path):
    sql, fields = PATHS[path]
    failing = sql.replace("SELECT n", f"SELECT 1 / (n - {FETCH_ROWS + 100}) AS n", 1)
    document = tap(f"{failing} LIMIT 50001", fields, 50000, 50001)
    assert statuses(document) == [b"OK", b"ERROR"]
    assert b"division by zero" in document
    assert len(parse_single_table(io.BytesIO(document)).array) == FETCH_ROWS


def test_a_failing_query_raises_before_anything_is_sent(archive_db):
    result = stream(PreparedQuery(TapRequest("(test)", "ADQL", *resolve("csv"), maxrec=10),
                                  "SELECT 1 / 0 AS x", (Column("x", "INTEGER"),), row_limit=11))
    with pytest.raises(QueryFailed, match="division by zero"):
        result.start()


def _votable(fields):
    return partial(write_votable, fields, serialization="TABLEDATA", maxrec=100)


def test_the_transaction_ends_when_the_response_is_closed(archive_db):
    cursor = TextCursor()
    fields = (Column("n", "INTEGER"),)
    result = ResultStream(result_chunks(cursor, "SELECT n FROM generate_series(1, 30) AS n", _votable(fields),
                                        batch=10, limit=101))
    result.start()
    body = b"".join(result)
    assert body.count(b"<TR>") == 30 and body.endswith(b"</VOTABLE>\n")
    assert cursor.conn is not None, "the whole body is out, the clean-up waits for close()"
    result.close()
    assert cursor.conn is None


def test_a_small_result_goes_out_in_one_write_with_its_length(archive_db):
    fields = (Column("n", "INTEGER"),)
    result = ResultStream(result_chunks(TextCursor(), "SELECT n FROM generate_series(1, 30) AS n",
                                        _votable(fields), batch=None, limit=101))
    result.start()
    response = result.response("text/xml")
    chunks = list(response.streaming_content)
    result.close()
    assert len(chunks) == 1 and int(response["Content-Length"]) == len(chunks[0])


def test_a_dropped_stream_still_ends_its_transaction(archive_db):
    cursor = TextCursor()
    result = ResultStream(result_chunks(cursor, "SELECT n FROM generate_series(1, 30) AS n",
                                        _votable((Column("n", "INTEGER"),)), batch=10, limit=101))
    result.start()
    del result  # as when a client goes away and nothing calls close()
    assert cursor.conn is None


def test_a_client_that_hangs_up_mid_stream_frees_its_query(live_archive, owner_conn):
    """Through the real gunicorn (vo_services.gunicorn_config): a client reads the start of a
    large result and hangs up. The worker's next write fails, the response is closed, and the
    query's transaction ends: no session of the query role is left reading the result."""
    import socket
    import time
    import urllib.parse

    query = ("SELECT a.obs_id, b.obs_id AS b_id, c.obs_id AS c_id "
             "FROM ivoa.obscore AS a, ivoa.obscore AS b, ivoa.obscore AS c")
    parts = urllib.parse.urlsplit(live_archive)
    path = "/tap/sync?" + urllib.parse.urlencode({"LANG": "ADQL", "QUERY": query, "MAXREC": "10000000"})
    # As the owner, a member of pg_read_all_stats (scripts/setup.sh): the query role may not look.
    owner_conn.autocommit = True

    def reading() -> int:
        with owner_conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s "
                           "AND datname = current_database() AND state <> 'idle' "
                           # a cursor's query, or (BINARY2 of these columns) the COPY's
                           "AND (query LIKE '%%lick_result%%' OR query LIKE 'COPY (%%')", (get_settings().query_role,))
            return cursor.fetchone()[0]

    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
        first = sock.recv(1 << 16)
        assert first.startswith(b"HTTP/1.1 200")
        received = len(first)
        while received < 1 << 20:  # well into the rows
            received += len(sock.recv(1 << 16))
        assert reading() == 1  # mid-stream: the server is still reading the result
    deadline = time.monotonic() + 15
    while reading() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert reading() == 0
