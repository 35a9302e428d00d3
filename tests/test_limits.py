"""The limits (issue #20), each enforced: an over-limit request gets the standard error naming it.

One gunicorn with every limit set low through its LICK_* variable; it trusts 127.0.0.1 as a
proxy, so that each test speaks from its own client address (X-Forwarded-For) and the per-address
limits of one test do not count another's requests.
"""
from __future__ import annotations

import re
import urllib.parse

import pytest

from conftest import gunicorn
from tests.test_fuzz import GOOD_VOTABLE, Client

LIMITS = {
    "LICK_TRUSTED_PROXIES": "127.0.0.1",
    "LICK_MAX_QUERY_BYTES": "2000",
    "LICK_UPLOAD_MAX_BYTES": "20000",
    "LICK_UPLOAD_MAX_ROWS": "3",
    "LICK_SYNC_TIMEOUT": "1",
    "LICK_MAXREC_HARD": "5",
    "LICK_BUNDLE_MAX_FILES": "2",
    "LICK_ASYNC_JOBS_PER_ADDRESS": "2",
    "LICK_ASYNC_JOBS_PER_USER": "2",
    "LICK_RATE_LIMIT": "6",
    "LICK_RATE_WINDOW": "86400",  # one window for the whole test run: no reset in the middle
}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_ERROR = re.compile(rb'<INFO[^>]*name="QUERY_STATUS"[^>]*value="ERROR"', re.S)


@pytest.fixture(scope="module")
def limited(demo_archive, celery_worker, tmp_path_factory) -> str:
    with gunicorn(tmp_path_factory.mktemp("limits") / "gunicorn.log", **LIMITS) as base:
        yield base


def post(base: str, path: str, pairs: list[tuple[str, str]], address: str, headers: dict | None = None):
    body = urllib.parse.urlencode(pairs).encode()
    return Client(base).request("POST", path, body, {**FORM, "X-Forwarded-For": address, **(headers or {})})


def assert_refused(response, status: int, *words: str) -> None:
    code, _, body = response
    assert code == status, (code, body[:600])
    assert _ERROR.search(body), body[:600]
    for word in words:
        assert word.encode() in body, (word, body[:600])


def tap(base: str, query: str, address: str, **extra: str):
    return post(base, "/tap/sync", [("LANG", "ADQL"), ("QUERY", query), ("RESPONSEFORMAT", "votable/td"),
                                    *extra.items()], address)


def test_query_text_over_its_limit_is_refused(limited):
    short = "SELECT TOP 1 obs_id FROM ivoa.obscore"
    assert tap(limited, short, "10.1.0.1")[0] == 200
    padded = short + " " + "-- padding\n" * 200  # 2,200+ bytes
    assert_refused(tap(limited, padded, "10.1.0.1"), 400, "2000 bytes")


def _upload(base: str, votable: bytes, address: str):
    boundary = "limitbound"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"QUERY\"\r\n\r\n"
            "SELECT * FROM TAP_UPLOAD.t\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"LANG\"\r\n\r\nADQL\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"UPLOAD\"\r\n\r\nt,param:f\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f.xml\"\r\n"
            "Content-Type: text/xml\r\n\r\n").encode() + votable + f"\r\n--{boundary}--\r\n".encode()
    return Client(base).request("POST", "/tap/sync", body, {
        "Content-Type": f"multipart/form-data; boundary={boundary}", "X-Forwarded-For": address})


def test_upload_rows_over_their_limit_are_refused(limited):
    assert _upload(limited, GOOD_VOTABLE, "10.2.0.1")[0] == 200  # two rows
    row = b"<TR><TD>1</TD><TD>a</TD><TD>1</TD><TD>1 2</TD></TR>"
    four = GOOD_VOTABLE.replace(b"</TABLEDATA>", row * 2 + b"</TABLEDATA>")
    assert_refused(_upload(limited, four, "10.2.0.1"), 400, "more than 3 rows")


def test_upload_bytes_over_their_limit_are_refused(limited):
    big = GOOD_VOTABLE.replace(b"abc", b"x" * 25_000)
    assert_refused(_upload(limited, big, "10.3.0.1"), 400, "larger than 20000 bytes")


def test_sync_query_over_its_time_is_cancelled(limited):
    slow = ("SELECT COUNT(*) AS n FROM ivoa.obscore AS a, ivoa.obscore AS b, ivoa.obscore AS c, "
            "ivoa.obscore AS d WHERE a.s_ra + b.s_ra * c.s_dec > d.s_dec")
    assert_refused(tap(limited, slow, "10.4.0.1"), 400, "longer than the time allowed")


def test_maxrec_above_the_hard_limit_gets_the_hard_limit(limited):
    code, _, body = tap(limited, "SELECT obs_id FROM ivoa.obscore", "10.5.0.1", MAXREC="100")
    assert code == 200
    assert body.count(b"<TR>") == 5
    assert re.search(rb'name="QUERY_STATUS"\s+value="OVERFLOW"', body), body[-800:]
    capabilities = Client(limited).request("GET", "/tap/capabilities")[2]
    assert re.search(rb"<hard[^>]*>5</hard>", capabilities.split(b"outputLimit")[1])


def test_bundle_over_its_file_limit_is_refused(limited, demo_archive):
    code, _, body = tap(limited, "SELECT TOP 3 obs_publisher_did FROM ivoa.obscore", "10.6.0.1")
    ids = re.findall(rb"<TD>(ivo://[^<]+)</TD>", body)
    assert len(ids) == 3
    response = post(limited, "/datalink/bundles", [("ID", i.decode()) for i in ids], "10.6.0.1")
    assert_refused(response, 400, "at most 2 files")


def _job(base: str, address: str, headers: dict | None = None) -> str:
    code, reply, _ = post(base, "/tap/async", [("LANG", "ADQL"), ("QUERY", "SELECT TOP 1 obs_id FROM ivoa.obscore")],
                          address, headers)
    assert code == 303
    return urllib.parse.urlsplit(reply["Location"]).path


def _hold_in_queue(conn, paths: list[str]) -> None:
    """Jobs QUEUED without a worker taking them: what a busy service's queue looks like."""
    with conn.cursor() as cur:
        cur.execute("UPDATE tap_job SET phase = 'QUEUED' WHERE id = ANY(%s)", ([p.rsplit("/", 1)[1] for p in paths],))
    conn.commit()


def _release(conn, paths: list[str]) -> None:
    with conn.cursor() as cur:
        cur.execute("UPDATE tap_job SET phase = 'ABORTED' WHERE id = ANY(%s)", ([p.rsplit("/", 1)[1] for p in paths],))
    conn.commit()


def test_anonymous_jobs_in_flight_per_address_are_limited(limited, owner_conn):
    busy = [_job(limited, "10.7.0.1") for _ in range(2)]
    _hold_in_queue(owner_conn, busy)
    try:
        third = _job(limited, "10.7.0.1")
        assert_refused(post(limited, f"{third}/phase", [("PHASE", "RUN")], "10.7.0.1"), 429,
                       "LICK_ASYNC_JOBS_PER_ADDRESS", "at most 2")
        assert Client(limited).request("GET", f"{third}/phase")[2] == b"PENDING"
        code, _, body = post(limited, "/tap/async", [("LANG", "ADQL"), ("PHASE", "RUN"),
                                                     ("QUERY", "SELECT TOP 1 obs_id FROM ivoa.obscore")], "10.7.0.1")
        assert_refused((code, {}, body), 429, "LICK_ASYNC_JOBS_PER_ADDRESS")
        other = _job(limited, "10.7.0.2")  # another address is not held back
        assert post(limited, f"{other}/phase", [("PHASE", "RUN")], "10.7.0.2")[0] == 303
    finally:
        _release(owner_conn, busy)
    assert post(limited, f"{third}/phase", [("PHASE", "RUN")], "10.7.0.1")[0] == 303


def test_jobs_in_flight_per_user_are_limited(limited, proprietary, owner_conn):
    world = proprietary
    alice = world.http_headers("alice")
    busy = [_job(limited, f"10.8.0.{n}", alice) for n in (1, 2)]  # from two addresses: one user
    _hold_in_queue(owner_conn, busy)
    try:
        third = _job(limited, "10.8.0.3", alice)
        assert_refused(post(limited, f"{third}/phase", [("PHASE", "RUN")], "10.8.0.3", alice), 429,
                       "LICK_ASYNC_JOBS_PER_USER", "at most 2")
        bobs = _job(limited, "10.8.0.3", world.http_headers("bob"))
        assert post(limited, f"{bobs}/phase", [("PHASE", "RUN")], "10.8.0.3", world.http_headers("bob"))[0] == 303
    finally:
        _release(owner_conn, busy)


def test_request_rate_per_address_is_limited_with_retry_after(limited):
    cone = "/scs?RA=150&DEC=20&SR=0.1"
    client = Client(limited)
    for _ in range(6):
        assert client.request("GET", cone, headers={"X-Forwarded-For": "10.9.0.1"})[0] == 200
    code, headers, body = client.request("GET", cone, headers={"X-Forwarded-For": "10.9.0.1"})
    assert_refused((code, headers, body), 429, "LICK_RATE_LIMIT")
    assert 0 < int(headers["Retry-After"]) <= 86400
    # the same address on a cheap endpoint, and another address on the same one, still answer
    assert client.request("GET", "/tap/availability", headers={"X-Forwarded-For": "10.9.0.1"})[0] == 200
    assert client.request("GET", cone, headers={"X-Forwarded-For": "10.9.0.2"})[0] == 200


def test_portal_searches_count_against_the_same_rate(limited):
    """The search page runs a query per results page, as /tap/sync does: past the address's
    rate it says so in words (429) instead of running one more; the empty form still answers."""
    search = "/search?instrument=Kast+Red&sort=night"
    client = Client(limited)
    for _ in range(6):
        code, _, body = client.request("GET", search, headers={"X-Forwarded-For": "10.9.1.1"})
        assert code == 200 and b"Too many queries" not in body, body[:300]
    code, _, body = client.request("GET", search, headers={"X-Forwarded-For": "10.9.1.1"})
    assert code == 429 and b"Too many queries from your address" in body, (code, body[:600])
    assert b'id="results"' not in body
    assert client.request("GET", "/search", headers={"X-Forwarded-For": "10.9.1.1"})[0] == 200
