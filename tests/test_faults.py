"""Faults of the servers the archive depends on, on servers of the test's own (issue #20):
PostgreSQL stopped under a running query and started again, Redis killed under job submission
and started again. gunicorn and the Celery worker (with its beat) keep running throughout: the
services must recover by themselves.

A killed worker (a job left EXECUTING) is tests/test_async_faults.py's.
"""
from __future__ import annotations

import threading
import time
import urllib.parse

import pytest
import requests

from conftest import gunicorn
from tests.own_servers import Cluster, Redis, celery, lick_admin, set_up_archive

pytestmark = pytest.mark.slow

DB = "lick_faults"
LOST_AFTER_S = 3
# About 50**5 row combinations: seconds of work in one backend, long enough to stop the server under it.
SLOW = ("SELECT COUNT(*) AS fault_slow_marker FROM ivoa.obscore AS a, ivoa.obscore AS b, ivoa.obscore AS c, "
        "ivoa.obscore AS d, ivoa.obscore AS e WHERE a.s_ra + b.s_ra + c.s_ra + d.s_ra + e.s_ra > 0")


class Services:
    def __init__(self, cluster: Cluster, redis: Redis, base: str):
        self.cluster, self.redis, self.base = cluster, redis, base


def _wait(predicate, what: str, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)
    return result


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    work = tmp_path_factory.mktemp("faults")
    cluster = Cluster.create("faults")
    redis = Redis(work)
    try:
        cluster.start()
        redis.start()
        env = set_up_archive(cluster, DB)
        env.update(LICK_ARCHIVE_ROOT=str(work / "archive"), LICK_RESULTS_DIR=str(work / "results"),
                   LICK_BUNDLE_DIR=str(work / "bundles"), LICK_PREVIEW_DIR=str(work / "previews"),
                   LICK_REDIS_URL=redis.url, LICK_CELERY_QUEUE=f"{env['LICK_CELERY_QUEUE']}_faults",
                   LICK_JOB_LOST_AFTER=str(LOST_AFTER_S))
        out = lick_admin(env, "generate-demo", "--files", "50", "--seed", "5")
        schedule = next(line for line in out.splitlines() if line.startswith("schedule: "))
        lick_admin(env, "import-schedule", schedule.removeprefix("schedule: ").split(",")[0])
        lick_admin(env, "ingest", "--quiet", "--jobs", "1")
        cluster.superuser_sql("UPDATE lick.observation SET obs_release_date = now() - interval '1 day'", db=DB)
        settings = {k: v for k, v in env.items() if k.startswith("LICK_")}
        with celery(env, work / "worker.log", beat=True), \
                gunicorn(work / "gunicorn.log", workers=1, **settings) as base:
            yield Services(cluster, redis, base)
    finally:
        redis.stop()
        cluster.remove()


def _sync(base: str, query: str, timeout: float = 120) -> requests.Response:
    return requests.post(f"{base}/tap/sync", timeout=timeout,
                         data={"LANG": "ADQL", "RESPONSEFORMAT": "csv", "QUERY": query})


def _running(cluster: Cluster) -> bool:
    """Whether a user's query is running (a large result is read by FETCH from its cursor)."""
    try:
        return cluster.superuser_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND usename = 'lick_query'", db=DB) != "0"
    except RuntimeError:
        return False


def test_postgresql_stopped_under_a_sync_query_is_a_503_and_the_service_recovers(services):
    # First query of the server: on a new connection, whose loss is not a retry of a reused one.
    answers: list[requests.Response] = []
    client = threading.Thread(target=lambda: answers.append(_sync(services.base, SLOW)))
    client.start()
    try:
        _wait(lambda: _running(services.cluster), "the slow query to run", 60)
        services.cluster.stop()
    finally:
        client.join(timeout=120)
    assert not client.is_alive(), "the client got no answer"
    (answer,) = answers
    assert answer.status_code == 503, answer.text[:800]
    assert int(answer.headers["Retry-After"]) > 0
    assert b'<INFO name="QUERY_STATUS" value="ERROR">' in answer.content

    down = _sync(services.base, "SELECT COUNT(*) AS while_down FROM ivoa.obscore", timeout=60)
    assert down.status_code == 503 and int(down.headers["Retry-After"]) > 0, down.text[:500]
    cone_down = requests.get(f"{services.base}/scs", params={"RA": 10, "DEC": 20, "SR": 0.1}, timeout=60)
    assert cone_down.status_code == 503, cone_down.text[:500]

    services.cluster.start()  # the same gunicorn, whose pooled connections all died
    back = _sync(services.base, "SELECT COUNT(*) AS after_restart FROM ivoa.obscore")
    assert back.status_code == 200, back.text[:800]
    assert int(back.text.splitlines()[1]) == 50
    cone = requests.get(f"{services.base}/scs", params={"RA": 10, "DEC": 20, "SR": 0.1}, timeout=60)
    assert cone.status_code == 200, cone.text[:500]
    availability = requests.get(f"{services.base}/tap/availability", timeout=60)
    assert b"<available>true</available>" in availability.content, availability.text

    # A restart while the pool is idle: its connections are dead, and are replaced unseen.
    services.cluster.stop()
    services.cluster.start()
    again = _sync(services.base, "SELECT COUNT(*) AS after_second_restart FROM ivoa.obscore")
    assert again.status_code == 200 and int(again.text.splitlines()[1]) == 50, again.text[:800]


def test_an_async_job_submitted_while_redis_is_down_runs_when_it_returns(services):
    services.redis.stop()
    try:
        answer = requests.post(f"{services.base}/tap/async", allow_redirects=False, timeout=60, data={
            "LANG": "ADQL", "PHASE": "RUN", "RESPONSEFORMAT": "csv",
            "QUERY": "SELECT COUNT(*) AS during_redis_outage FROM ivoa.obscore"})
        assert answer.status_code == 303, answer.text[:800]
        job_url = urllib.parse.urljoin(services.base + "/", answer.headers["Location"])
        job_id = job_url.rstrip("/").rsplit("/", 1)[1]
        assert requests.get(f"{job_url}/phase", timeout=30).text.strip() == "QUEUED"
        assert services.cluster.superuser_sql(f"SELECT phase FROM tap_job WHERE id = '{job_id}'", db=DB) == "QUEUED"
        time.sleep(LOST_AFTER_S + 1)  # the message never reached Redis; nothing may have run it
        assert requests.get(f"{job_url}/phase", timeout=30).text.strip() == "QUEUED"
    finally:
        services.redis.start()  # same port, empty: what a restart without persistence leaves
    # The beat (every LOST_AFTER_S / 2 s) sends it again once the worker is connected again.
    phase = _wait(lambda: (p := requests.get(f"{job_url}/phase", timeout=30).text.strip()) in ("COMPLETED", "ERROR")
                  and p, "the job to run after Redis returned", 120)
    assert phase == "COMPLETED"
    result = requests.get(f"{job_url}/results/result", timeout=30)
    assert int(result.text.splitlines()[1]) == 50
