"""The per-user and per-address limits on async jobs in flight hold against parallel submissions.

Counting a user's active jobs and queueing one more must be one step: twenty PHASE=RUN posts
fired at once would otherwise all count "fewer than the limit" and all be queued (issue #20).
The server runs with a Celery queue no worker consumes, so every accepted job stays QUEUED and
the count in the database is exactly what the limit let through.
"""
from __future__ import annotations

import os
import threading
import urllib.parse
import uuid

import pytest

from conftest import gunicorn
from tests.test_fuzz import Client

LIMIT = 3
PARALLEL = 20
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
QUERY = "SELECT TOP 1 obs_id FROM ivoa.obscore"


@pytest.fixture(scope="module")
def unconsumed_queue() -> str:
    return f"lick_race_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def racing(demo_archive, proprietary, tmp_path_factory, unconsumed_queue):
    env = {"LICK_ASYNC_JOBS_PER_USER": str(LIMIT), "LICK_ASYNC_JOBS_PER_ADDRESS": str(LIMIT),
           "LICK_TRUSTED_PROXIES": "127.0.0.1", "LICK_CELERY_QUEUE": unconsumed_queue}
    with gunicorn(tmp_path_factory.mktemp("race") / "gunicorn.log", workers=2, **env) as base:
        yield base
    import redis

    from archive.config import get_settings

    redis.Redis.from_url(get_settings().redis_url).delete(unconsumed_queue)


def _post(base: str, path: str, pairs: list[tuple[str, str]], headers: dict) -> tuple[int, bytes]:
    code, _, body = Client(base).request("POST", path, urllib.parse.urlencode(pairs).encode(), {**FORM, **headers})
    return code, body


def _fire(calls) -> list[tuple[int, bytes]]:
    """Run the calls in as many threads, released together."""
    start = threading.Barrier(len(calls))
    answers: list = [None] * len(calls)

    def one(n: int) -> None:
        start.wait()
        answers[n] = calls[n]()

    threads = [threading.Thread(target=one, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def _active(owner_conn, where: str, value: str) -> int:
    with owner_conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM tap_job WHERE phase IN ('QUEUED', 'EXECUTING') AND {where} = %s", (value,))
        owner_conn.rollback()
        return cur.fetchone()[0]


def _abort_all(owner_conn, where: str, value: str) -> None:
    with owner_conn.cursor() as cur:
        cur.execute(f"UPDATE tap_job SET phase = 'ABORTED' WHERE {where} = %s", (value,))
    owner_conn.commit()


def test_parallel_runs_of_one_users_jobs_respect_the_limit(racing, proprietary, owner_conn):
    alice = proprietary.http_headers("alice")
    pending = []
    for n in range(PARALLEL):
        code, _, _ = reply = Client(racing).request(
            "POST", "/tap/async", urllib.parse.urlencode([("LANG", "ADQL"), ("QUERY", QUERY)]).encode(),
            {**FORM, **alice, "X-Forwarded-For": f"10.20.0.{n + 1}"})
        assert code == 303, reply
        pending.append(urllib.parse.urlsplit(reply[1]["Location"]).path)
    try:
        answers = _fire([lambda p=p, n=n: _post(racing, f"{p}/phase", [("PHASE", "RUN")],
                                                 {**alice, "X-Forwarded-For": f"10.20.0.{n + 1}"})
                         for n, p in enumerate(pending)])
        codes = sorted(code for code, _ in answers)
        assert set(codes) <= {303, 429}, answers
        assert codes.count(303) == LIMIT, codes
        assert all(b"LICK_ASYNC_JOBS_PER_USER" in body for code, body in answers if code == 429)
        assert _active(owner_conn, "owner", "alice") == LIMIT
    finally:
        _abort_all(owner_conn, "owner", "alice")


def test_parallel_submissions_with_phase_run_from_one_address_respect_the_limit(racing, owner_conn):
    address = "10.21.0.1"
    answers = _fire([lambda: _post(racing, "/tap/async", [("LANG", "ADQL"), ("QUERY", QUERY), ("PHASE", "RUN")],
                                   {"X-Forwarded-For": address})] * PARALLEL)
    try:
        codes = sorted(code for code, _ in answers)
        assert set(codes) <= {303, 429}, answers
        assert codes.count(303) == LIMIT, codes
        assert _active(owner_conn, "origin", address) == LIMIT
    finally:
        _abort_all(owner_conn, "origin", address)


def test_the_server_under_test_has_no_worker_on_its_queue(unconsumed_queue):
    """What the two tests above rely on: their queue is their own (no job of theirs completes)."""
    assert unconsumed_queue != os.environ["LICK_CELERY_QUEUE"]
