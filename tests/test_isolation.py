"""Expensive queries cannot take every thread (issue #20, vo_services/sync_slots.py).

One gunicorn worker with 4 threads: 3 slots for TAP sync queries. Three heavy queries (each runs
until LICK_SYNC_TIMEOUT cancels it) run; once they are seen running long (in pg_stat_activity),
three more are answered at once with 503, Retry-After and an error document naming
LICK_SYNC_SLOTS, and a cone search is answered before any heavy one ends (without the slots, the
heavy queries hold all four threads and the cone search waits for one of them). Quick queries
fired at once are never refused, and afterwards the slots are free again.
"""
from __future__ import annotations

import threading
import time
import urllib.parse

import pytest

from archive.config import get_settings
from conftest import gunicorn
from tests.test_fuzz import Client
from tests.test_limits import assert_refused

HEAVY = ("SELECT COUNT(*) AS n FROM ivoa.obscore AS a, ivoa.obscore AS b, ivoa.obscore AS c, "
         "ivoa.obscore AS d WHERE a.s_ra + b.s_ra * c.s_dec > d.s_dec")


@pytest.fixture(scope="module")
def one_worker(demo_archive, tmp_path_factory):
    with gunicorn(tmp_path_factory.mktemp("isolation") / "gunicorn.log", workers=1, LICK_SYNC_TIMEOUT="10") as base:
        yield base


def _sync(base: str, query: str):
    body = urllib.parse.urlencode({"LANG": "ADQL", "QUERY": query}).encode()
    return Client(base).request("POST", "/tap/sync", body, {"Content-Type": "application/x-www-form-urlencoded"})


def _long_running_queries(owner_conn) -> int:
    with owner_conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND usename = %s "
                    "AND state = 'active' AND now() - query_start > interval '2.2 seconds'",
                    (get_settings().query_role,))
        owner_conn.rollback()
        return cur.fetchone()[0]


def _fire(calls: list, answers: list, lock: threading.Lock) -> list[threading.Thread]:
    start = threading.Barrier(len(calls))

    def one(call) -> None:
        start.wait()
        answer = call()
        with lock:
            answers.append((time.monotonic(), answer))

    threads = [threading.Thread(target=one, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    return threads


def test_heavy_queries_leave_a_thread_for_the_cone_search(one_worker, owner_conn):
    lock = threading.Lock()
    ran: list = []
    running = _fire([lambda: _sync(one_worker, HEAVY)] * 3, ran, lock)
    deadline = time.monotonic() + 30
    while _long_running_queries(owner_conn) < 3:  # the server now knows them for long ones
        assert time.monotonic() < deadline and not ran, ran
        time.sleep(0.1)
    refused: list = []
    for thread in _fire([lambda: _sync(one_worker, HEAVY)] * 3, refused, lock):
        thread.join(timeout=60)
    status, _, body = Client(one_worker).request("GET", "/scs?RA=150&DEC=20&SR=1")
    cone_done = time.monotonic()
    for thread in running:
        thread.join(timeout=60)

    assert status == 200 and b"<VOTABLE" in body, body[:300]
    assert len(refused) == 3 and len(ran) == 3
    for _, answer in refused:
        assert_refused(answer, 503, "LICK_SYNC_SLOTS", "/tap/async")
        assert int(answer[1]["Retry-After"]) > 0
    for _, answer in ran:
        assert_refused(answer, 400, "longer than the time allowed")
    assert cone_done < min(t for t, _ in ran), "the cone search waited for a heavy query to end"


def test_quick_queries_at_once_are_never_refused(one_worker):
    answers: list = []
    threads = _fire([lambda: _sync(one_worker, "SELECT TOP 1 obs_id FROM ivoa.obscore")] * 12, answers, threading.Lock())
    for thread in threads:
        thread.join(timeout=60)
    assert [a[0] for _, a in answers] == [200] * 12


def _portal_run(base: str, query: str):
    """The portal's ADQL page running ``query`` here (GET with run=1, as its permalink does)."""
    return Client(base).request("GET", "/query?" + urllib.parse.urlencode({"query": query, "run": "1"}))


def test_portal_queries_share_the_slots_and_leave_a_thread_for_the_cone_search(one_worker, owner_conn):
    """The portal's ADQL and search pages run their queries in the web thread, as TAP sync does:
    they take the same slots (sync_slots.QUERY_PATHS), or three heavy runs on the page would hold
    all but one thread outside the count and a fourth would take the last."""
    lock = threading.Lock()
    ran: list = []
    running = _fire([lambda: _portal_run(one_worker, HEAVY)] * 3, ran, lock)
    deadline = time.monotonic() + 30
    while _long_running_queries(owner_conn) < 3:
        assert time.monotonic() < deadline and not ran, ran
        time.sleep(0.1)
    tap = _sync(one_worker, HEAVY)
    page = Client(one_worker).request("GET", "/search?instrument=Kast+Blue")
    status, _, body = Client(one_worker).request("GET", "/scs?RA=150&DEC=20&SR=1")
    cone_done = time.monotonic()
    for thread in running:
        thread.join(timeout=60)

    assert status == 200 and b"<VOTABLE" in body, body[:300]
    assert_refused(tap, 503, "LICK_SYNC_SLOTS", "/tap/async")
    assert page[0] == 503 and int(page[1]["Retry-After"]) > 0, page[:2]
    assert page[1]["Content-Type"].startswith("text/html") and b"LICK_SYNC_SLOTS" in page[2], page[2][:300]
    # each heavy run ends at the page's time limit, said beside the query
    assert len(ran) == 3 and all(answer[0] == 400 and b"as an async job" in answer[2] for _, answer in ran), \
        [a[0] for _, a in ran]
    assert cone_done < min(t for t, _ in ran), "the cone search waited for a heavy query to end"
