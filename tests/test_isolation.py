"""Expensive queries cannot take every thread (issue #20, vo_services/sync_slots.py).

One gunicorn worker with 4 threads: 3 slots for TAP sync queries. Six heavy queries (each runs
until LICK_SYNC_TIMEOUT cancels it) arrive at once: three run, three are answered at once with
503, Retry-After and an error document naming LICK_SYNC_SLOTS. While the three run, a cone
search is answered (before any of them ends: without the slots, the heavy queries hold all four
threads and the cone search waits for one of them). Afterwards the slots are free again.
"""
from __future__ import annotations

import threading
import time
import urllib.parse

import pytest

from conftest import gunicorn
from tests.test_fuzz import Client
from tests.test_limits import assert_refused

HEAVY = ("SELECT COUNT(*) AS n FROM ivoa.obscore AS a, ivoa.obscore AS b, ivoa.obscore AS c, "
         "ivoa.obscore AS d WHERE a.s_ra + b.s_ra * c.s_dec > d.s_dec")


@pytest.fixture(scope="module")
def one_worker(demo_archive, tmp_path_factory):
    with gunicorn(tmp_path_factory.mktemp("isolation") / "gunicorn.log", workers=1, LICK_SYNC_TIMEOUT="4") as base:
        yield base


def _sync(base: str, query: str):
    body = urllib.parse.urlencode({"LANG": "ADQL", "QUERY": query}).encode()
    return Client(base).request("POST", "/tap/sync", body, {"Content-Type": "application/x-www-form-urlencoded"})


def test_heavy_queries_leave_a_thread_for_the_cone_search(one_worker):
    answers: list[tuple[float, tuple]] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def heavy() -> None:
        start.wait()
        answer = _sync(one_worker, HEAVY)
        with lock:
            answers.append((time.monotonic(), answer))

    threads = [threading.Thread(target=heavy) for _ in range(6)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 3  # the refusals come at once; without slots, none come
    while len(answers) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    status, _, body = Client(one_worker).request("GET", "/scs?RA=150&DEC=20&SR=1")
    cone_done = time.monotonic()
    for thread in threads:
        thread.join(timeout=60)

    assert status == 200 and b"<VOTABLE" in body, body[:300]
    refused = [a for _, a in answers if a[0] == 503]
    ran = [(t, a) for t, a in answers if a[0] != 503]
    assert len(refused) == 3 and len(ran) == 3, [a[0] for _, a in answers]
    for answer in refused:
        assert_refused(answer, 503, "LICK_SYNC_SLOTS", "/tap/async")
        assert int(answer[1]["Retry-After"]) > 0
    for _, answer in ran:
        assert_refused(answer, 400, "longer than the time allowed")
    assert cone_done < min(t for t, _ in ran), "the cone search waited for a heavy query to end"
    # every slot was given back when its response closed
    assert [_sync(one_worker, "SELECT TOP 1 obs_id FROM ivoa.obscore")[0] for _ in range(4)] == [200] * 4
