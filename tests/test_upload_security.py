"""TAP_UPLOAD as an attacker sends it (issue #13): hostile names, remote URLs, oversized bodies.

Every test runs against the real gunicorn server with the real Celery worker and the proprietary
world of tests/proprietary_world.py, anonymously: the attacker of the issue had no account.
"""
from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
import requests

from tests.test_leaks import leaked
from tests.upload_tables import EXPLOIT, EXPLOIT_QUERY, async_upload, sync_upload, text_field, votable

pytestmark = pytest.mark.django_db


def assert_usage_fault(response: requests.Response) -> None:
    assert response.status_code == 400, (response.status_code, response.text[:500])
    assert response.headers["Content-Type"].startswith("application/x-votable+xml")
    assert 'value="ERROR"' in response.text and "UsageFault" in response.text, response.text[:500]


def test_the_injection_of_issue_13_is_refused_sync(live_archive, world):
    response = sync_upload(live_archive, EXPLOIT, EXPLOIT_QUERY)
    assert leaked(response.content) == [], "the exploit read proprietary rows"
    assert_usage_fault(response)
    # nothing ran: the staff principal did not stay on a pooled connection either
    plain = requests.post(f"{live_archive}/tap/sync", data={
        "LANG": "ADQL", "FORMAT": "csv", "QUERY": "SELECT obs_id FROM ivoa.obscore WHERE target_name LIKE 'LEAK%'"},
        timeout=60)
    assert plain.status_code == 200 and leaked(plain.content) == []


def test_the_injection_of_issue_13_is_refused_async(live_archive, world):
    phase, document = async_upload(live_archive, EXPLOIT, EXPLOIT_QUERY)
    assert leaked(document) == [], "the exploit read proprietary rows"
    assert phase == "ERROR" and b"UsageFault" in document, (phase, document[:500])


# -- hostile names: each refused with a UsageFault before anything reaches the database -------------

LONG = "a" * 10_000
HOSTILE_COLUMNS = {
    "double quote": ['x"y'],
    "double quote alone": ['"'],
    "SQL quoting out of a delimited identifier": ['x" text); DROP TABLE lick.observation; --'],
    "backslash": ["x\\y"],
    "unicode double quotes": ["x\u201cy\u201d"],
    "unicode single quotes": ["\u2018x\u2019"],
    "fullwidth quote": ["x\uff02y"],
    "10,000 characters": [LONG],
    "64 characters, one over PostgreSQL's identifier": ["_" + "a" * 63],
    "duplicates differing in case": ["ra", "RA"],
    "delimited duplicates differing in case": ["_RAJ2000", "_raj2000"],
    "reserved words differing in case": ["Size", "SIZE"],
    "empty": [""],
    "space around": [" ra "],
    "space at the end": ["_ra "],
    "tab inside": ["x\ty"],
    "DEL inside": ["x\x7fy"],
    "non-ASCII letter": ["\u00e9toile"],
    "Cyrillic lookalike": ["\u0430"],  # а, not a
    "bidi override": ["x\u202ey"],
}


@pytest.mark.parametrize("case", HOSTILE_COLUMNS)
def test_a_hostile_column_name_is_a_usage_fault(live_archive, world, case):
    names = HOSTILE_COLUMNS[case]
    table = votable([text_field(n) for n in names], [["v"] * len(names)])
    response = sync_upload(live_archive, table, "SELECT * FROM TAP_UPLOAD.t")
    assert_usage_fault(response)
    assert "could not be loaded" not in response.text, "refused by PostgreSQL, so it reached the database"
    assert LONG not in response.text and len(response.content) < 2_000, "the error echoes the name whole"


def test_column_names_are_case_insensitive_as_written_by_clients(live_archive, world):
    """TOPCAT and astropy upload FIELDs named RA, Dec: ADQL regular identifiers, so any case
    reaches them (ADQL 2.1 §2.1.3), as it reaches the archive's own columns."""
    table = votable([text_field("RA"), text_field("Dec")], [["10.5", "-3"]])
    response = sync_upload(live_archive, table, "SELECT t.ra, t.DEC, T.Ra AS again FROM TAP_UPLOAD.t AS t")
    assert response.status_code == 200, response.text[:500]
    assert response.text.splitlines() == ["ra,dec,again", "10.5,-3,10.5"]


# -- names that are no regular identifier: delimited identifiers, exactly as written (TAP 1.1 §2.7.6)

ODD_COLUMNS = ["_RAJ2000", "B-V", "2MASS", "select", "Point", "my col", "a;b", "u'mag", "(B-V)0",
               "x'); DROP TABLE lick.observation; --", "_" + "a" * 62]


def test_odd_column_names_are_delimited_identifiers(live_archive, world):
    """VizieR's _RAJ2000, reserved words and names with punctuation or SQL in them: each one
    column, named in ADQL in double quotes exactly as the FIELD spells it, and nothing else runs."""
    table = votable([text_field(n) for n in ODD_COLUMNS], [[str(i) for i in range(len(ODD_COLUMNS))]])
    quoted = ", ".join('"' + n + '"' for n in reversed(ODD_COLUMNS))
    response = sync_upload(live_archive, table, f"SELECT {quoted} FROM TAP_UPLOAD.t")
    assert response.status_code == 200, response.text[:500]
    header, row = response.text.splitlines()
    assert row.split(",") == [str(i) for i in reversed(range(len(ODD_COLUMNS)))]
    assert header.split(",") == list(reversed(ODD_COLUMNS))  # no name here needs CSV's quotes
    everything = sync_upload(live_archive, table, "SELECT * FROM TAP_UPLOAD.t")
    assert everything.status_code == 200 and everything.text.splitlines()[1].split(",") == row.split(",")[::-1]
    counted = requests.post(f"{live_archive}/tap/sync", data={
        "LANG": "ADQL", "FORMAT": "csv", "QUERY": "SELECT COUNT(*) AS n FROM ivoa.obscore"}, timeout=60)
    assert counted.status_code == 200 and int(counted.text.splitlines()[1]) > 0, "the table is still there"


@pytest.mark.parametrize("query", ['SELECT _RAJ2000 FROM TAP_UPLOAD.t', 'SELECT "_raj2000" FROM TAP_UPLOAD.t',
                                   'SELECT select FROM TAP_UPLOAD.t'])
def test_a_delimited_name_is_found_only_as_written(live_archive, world, query):
    """Unquoted or in another case, a delimited name is not the column (ADQL 2.1 §2.1.3): an error
    document, not a match and not a 500."""
    table = votable([text_field("_RAJ2000"), text_field("select")], [["1", "2"]])
    response = sync_upload(live_archive, table, query)
    assert response.status_code == 400, response.text[:500]
    assert 'value="ERROR"' in response.text


def test_column_names_are_checked_before_any_sql():
    """The rule itself, where HTTP cannot reach (XML carries no NUL nor most control characters)."""
    from vo_services.tap.uploads import UploadError, column_name

    assert column_name("RA", "t") == "ra" and column_name("_RAJ2000", "t") == "_RAJ2000"
    assert column_name("SIZE", "t") == "SIZE"  # a reserved word: delimited, as written
    for name in ("x\x00y", "\x00", "x\ny", "x\x1by", "x\x85y", "a" * 64, "\u00e9" * 32, 'a"b', "a\\b", ""):
        with pytest.raises(UploadError) as refused:
            column_name(name, "t")
        assert len(str(refused.value)) < 400


def test_a_nul_in_a_column_name_is_a_usage_fault(live_archive, world):
    """XML cannot carry a NUL, raw or as &#0;: the document is unreadable, and said so."""
    for raw in (b'x\x00y', b'x&#0;y'):
        table = votable([text_field("PLACEHOLDER")]).replace(b"PLACEHOLDER", raw)
        assert_usage_fault(sync_upload(live_archive, table, "SELECT * FROM TAP_UPLOAD.t"))


HOSTILE_TABLES = {
    "double quote": 't"x',
    "reserved word": "select",
    "10,000 characters": LONG,
    "leading digit": "1t",
    "unicode quote": "t\u201dx",
    "NUL": "t\x00",
    "backslash": "t\\x",
}


@pytest.mark.parametrize("case", HOSTILE_TABLES)
def test_a_hostile_table_name_is_a_usage_fault(live_archive, world, case):
    name = HOSTILE_TABLES[case]
    response = sync_upload(live_archive, votable([text_field("a")], [["v"]]), "SELECT * FROM TAP_UPLOAD.t",
                           upload=f"{name},param:t")
    assert_usage_fault(response)
    assert LONG not in response.text and len(response.content) < 2_000


def test_two_uploads_whose_names_differ_in_case_are_a_usage_fault(live_archive, world):
    response = sync_upload(live_archive, votable([text_field("a")], [["v"]]), "SELECT * FROM TAP_UPLOAD.t",
                           upload="t,param:t;T,param:t")
    assert_usage_fault(response)


def test_more_uploads_than_the_limit_are_a_usage_fault(live_archive, world):
    from vo_services.tap import limits

    uploads = ";".join(f"t{i},param:t" for i in range(limits.MAX_UPLOADS + 1))
    response = sync_upload(live_archive, votable([text_field("a")], [["v"]]), "SELECT * FROM TAP_UPLOAD.t0",
                           upload=uploads)
    assert_usage_fault(response)
    assert f"at most {limits.MAX_UPLOADS} uploads" in response.text


def test_values_with_copy_metacharacters_arrive_unchanged(live_archive, world):
    """COPY's text format: backslash, tab, newline, carriage return and its end marker are data."""
    values = ["a\\b", "tab\there", "line\nbreak", "cr\rhere", "\\.", "\\N", "quote\"s'"]  # (char is ASCII: VOTable 1.4 §2.1)
    table = votable([text_field("v")], [[v] for v in values])
    response = requests.post(f"{live_archive}/tap/sync", data={
        "LANG": "ADQL", "RESPONSEFORMAT": "votable", "UPLOAD": "t,param:t", "QUERY": "SELECT v FROM TAP_UPLOAD.t"},
        files={"t": ("t.xml", table, "application/x-votable+xml")}, timeout=60)
    assert response.status_code == 200, response.text[:500]
    from astropy.io.votable import parse_single_table
    import io

    got = [str(v) for v in parse_single_table(io.BytesIO(response.content)).array["v"]]
    # XML normalises a bare carriage return to a newline on the way in (XML 1.0 §2.11)
    assert got == [v.replace("\r", "\n") for v in values]


# -- uploads at a URL: no server-side request forgery --------------------------------------------------

SECRET_BODY = b"INTERNAL-ONLY-ANSWER"


class LoopbackSite:
    """A small HTTP server on loopback standing for an internal service; it records each request."""

    def __init__(self):
        import http.server
        import threading

        site = self
        self.requests: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                site.requests.append(self.path)
                if self.path == "/table.xml":
                    self._answer(200, votable([text_field("a")], [["fetched"]]))
                elif self.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", f"{site.url}/table.xml")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif self.path == "/huge":
                    self.send_response(200)
                    self.send_header("Content-Length", str(10**9))
                    self.end_headers()
                elif self.path == "/endless":  # no length, and bytes beyond any limit
                    self.send_response(200)
                    self.end_headers()
                    try:
                        for _ in range(400):
                            self.wfile.write(b"x" * 65536)
                    except OSError:
                        pass
                elif self.path == "/trickle":  # a byte now and then: each read is quick, the whole is not
                    self.send_response(200)
                    self.end_headers()
                    try:
                        for _ in range(60):
                            self.wfile.write(b"<")
                            self.wfile.flush()
                            time.sleep(0.5)
                    except OSError:
                        pass
                else:
                    self._answer(404, SECRET_BODY)

            def _answer(self, status: int, body: bytes):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def site():
    served = LoopbackSite()
    yield served
    served.close()


@pytest.fixture(scope="module")
def allowing_archive(demo_archive, tmp_path_factory):
    """The archive as an operator who fetches uploads from loopback configures it."""
    from conftest import gunicorn

    with gunicorn(tmp_path_factory.mktemp("allowing") / "gunicorn.log", workers=1,
                  LICK_UPLOAD_ALLOW_NETWORKS="127.0.0.1/32") as base:
        yield base


def url_upload(base: str, url: str):
    return requests.post(f"{base}/tap/sync", data={"LANG": "ADQL", "RESPONSEFORMAT": "csv", "UPLOAD": f"t,{url}",
                                                   "QUERY": "SELECT a FROM TAP_UPLOAD.t"}, timeout=60)


def assert_refused(response: requests.Response, reason: str) -> None:
    assert_usage_fault(response)
    assert f"could not fetch the upload" in response.text and reason in response.text, response.text[:500]
    assert SECRET_BODY.decode() not in response.text


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "[::ffff:127.0.0.1]", "2130706433",
                                  "127.1.2.3"])
def test_an_upload_url_on_loopback_is_refused_without_a_request(live_archive, world, site, host):
    before = len(site.requests)
    response = url_upload(live_archive, f"http://{host}:{site.port}/table.xml")
    assert_refused(response, "refused address")
    assert len(site.requests) == before, "the service fetched from loopback"


# By literal only: refused before any connection, so no packet leaves for these addresses.
@pytest.mark.parametrize("address", ["10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
                                     "0.0.0.0", "224.0.0.1", "255.255.255.255", "240.0.0.1", "[fe80::1]",
                                     "[fc00::1]", "[ff02::1]", "[::]", "[::ffff:10.0.0.1]", "[::ffff:169.254.169.254]"])
def test_an_upload_url_at_an_internal_address_is_refused(live_archive, world, address):
    assert_refused(url_upload(live_archive, f"http://{address}/table.xml"), "refused address")


def test_an_allowed_network_fetches_the_upload(allowing_archive, world, site):
    response = url_upload(allowing_archive, f"{site.url}/table.xml")
    assert response.status_code == 200 and response.text.split() == ["a", "fetched"], response.text[:500]


def test_a_redirect_is_not_followed(allowing_archive, world, site):
    before = len(site.requests)
    assert_refused(url_upload(allowing_archive, f"{site.url}/redirect"), "HTTP 302")
    assert site.requests[before:] == ["/redirect"]


def test_an_error_answer_is_not_echoed(allowing_archive, world, site):
    assert_refused(url_upload(allowing_archive, f"{site.url}/internal"), "HTTP 404")


def test_an_answer_over_the_size_limit_is_cut(allowing_archive, world, site):
    assert_refused(url_upload(allowing_archive, f"{site.url}/huge"), "larger than")
    assert_refused(url_upload(allowing_archive, f"{site.url}/endless"), "larger than")


def test_a_trickling_answer_meets_the_overall_deadline(allowing_archive, world, site):
    """One byte every half second: no single read waits long, the whole fetch does."""
    assert_refused(url_upload(allowing_archive, f"{site.url}/trickle"), "timed out")


# -- bodies larger than the service takes: refused as they arrive -----------------------------------

def raw_post(base: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    """Send the headers and ``body`` (only the start of what they announce), then read the answer:
    it can come only if the server refused without waiting for the rest."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode() + body)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"</VOTABLE>"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def multipart_start(boundary: str) -> bytes:
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"UPLOAD\"\r\n\r\nt,param:t\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"t\"; filename=\"t.xml\"\r\n"
            "Content-Type: application/x-votable+xml\r\n\r\n").encode() + b"<" * 65536


@pytest.mark.parametrize("path", ["/tap/sync", "/tap/async"])
def test_an_oversized_upload_is_refused_before_its_body_is_read(live_archive, world, path):
    from vo_services.tap import limits

    boundary = "lickboundary"
    answer = raw_post(live_archive, path, {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(2 * 1024**3)}, multipart_start(boundary))  # 2 GB announced, 64 KB sent
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b'value="ERROR"' in answer and str(limits.MAX_REQUEST_BYTES).encode() in answer


def test_an_oversized_chunked_upload_is_cut_off(live_archive, world):
    """Chunked (as STILTS sends): cut off once past the bound, the rest never read."""
    from vo_services.tap import limits

    parts = urlsplit(live_archive)
    block = b"<" * (1024 * 1024)
    chunk = f"{len(block):x}\r\n".encode() + block + b"\r\n"
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as sock:
        sock.sendall(f"POST /tap/async HTTP/1.1\r\nHost: {parts.netloc}\r\nTransfer-Encoding: chunked\r\n"
                     "Content-Type: multipart/form-data; boundary=b\r\n\r\n".encode())
        sent = 0
        try:
            while sent <= limits.MAX_REQUEST_BYTES + 4 * len(block):
                sock.sendall(chunk)
                sent += len(block)
        except OSError:
            pass  # the server answered and closed: what is being tested
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]


def test_the_translator_quotes_upload_names_it_is_given():
    """A second wall behind the name rule: even a name that got past it stays one identifier in
    the SQL that the ADQL translator writes (quoted, inner quotes doubled)."""
    from vo_services.tap.adql import translate
    from vo_services.tap.catalog import catalog
    from vo_services.tap.uploads import Upload, UploadColumn, WithUploads

    hostile = 'x"); DROP TABLE lick.observation; --'
    upload = Upload("t", (UploadColumn(name=hostile, datatype="VARCHAR", pg_type="text"),), [])
    sql = translate('SELECT * FROM TAP_UPLOAD.t', WithUploads(catalog(), [upload]), maxrec=10).sql
    assert '"x""); DROP TABLE lick.observation; --"' in sql and '"tap_upload_t"' in sql, sql
    assert sql.count('"') % 2 == 0
