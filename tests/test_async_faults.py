"""Async jobs survive what goes wrong in production: a killed worker, a broker that lost messages."""
from __future__ import annotations

import os
import signal
import time

import pytest
import redis

from archive.config import get_settings
from vo_services.tap import jobs
from vo_services.tap.models import Job, Phase
from vo_services.tap.tasks import recover_stuck_jobs, requeue_lost_jobs

pytestmark = pytest.mark.django_db(transaction=True)
SLOW = ("SELECT COUNT(*) AS n FROM ivoa.obscore AS a, ivoa.obscore AS b, ivoa.obscore AS c, "
        "ivoa.obscore AS d WHERE a.s_ra + b.s_ra + c.s_ra + d.s_ra > 0")


def _wait_phase(job_id: str, phases, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while (phase := Job.objects.get(id=job_id).phase) not in phases:
        assert time.monotonic() < deadline, phase
        time.sleep(0.2)
    return phase


def _worker_children(worker) -> list[int]:
    return [int(p) for p in open(f"/proc/{worker.process.pid}/task/{worker.process.pid}/children").read().split()]


def test_a_job_whose_worker_is_killed_ends_in_error(demo_archive, celery_worker):
    job = jobs.create(None, [("LANG", "ADQL"), ("QUERY", SLOW)])
    jobs.run(job)
    _wait_phase(job.id, (Phase.EXECUTING,))
    time.sleep(1)
    for pid in _worker_children(celery_worker):  # SIGKILL whatever runs it
        os.kill(pid, signal.SIGKILL)
    time.sleep(float(os.environ["LICK_JOB_STUCK_AFTER"]) + 1)
    assert recover_stuck_jobs() >= 1
    job.refresh_from_db()
    assert job.phase == Phase.ERROR and "run the query again" in job.error_summary
    celery_worker.stop()
    celery_worker.start()


def test_a_queued_job_whose_message_was_lost_still_runs(demo_archive, celery_worker):
    celery_worker.stop()
    try:
        job = jobs.create(None, [("LANG", "ADQL"), ("QUERY", "SELECT TOP 1 obs_id FROM ivoa.obscore")])
        jobs.run(job)
        assert Job.objects.get(id=job.id).phase == Phase.QUEUED
        # What a Redis restart without persistence does: the queued message is gone.
        redis.Redis.from_url(get_settings().redis_url).delete(get_settings().celery_queue)
        Job.objects.filter(id=job.id).update(heartbeat=job.creation_time)  # old enough to count as lost
    finally:
        celery_worker.start()
    assert requeue_lost_jobs(after_s=0) == 1
    assert _wait_phase(job.id, (Phase.COMPLETED, Phase.ERROR)) == Phase.COMPLETED


def test_abort_cancels_the_running_query(demo_archive, celery_worker, owner_conn):
    job = jobs.create(None, [("LANG", "ADQL"), ("QUERY", SLOW)])
    jobs.run(job)
    _wait_phase(job.id, (Phase.EXECUTING,))
    deadline = time.monotonic() + 10
    while Job.objects.get(id=job.id).backend_pid is None and time.monotonic() < deadline:
        time.sleep(0.1)
    pid = Job.objects.get(id=job.id).backend_pid
    assert pid is not None
    # As the owner: PostgreSQL shows a session's state only to its own role or to members of
    # pg_read_all_stats, which scripts/setup.sh makes the owner (the query role may not look at
    # pg_stat_activity at all: scripts/harden.sql). The active statement is the cursor's FETCH.
    owner_conn.autocommit = True
    with owner_conn.cursor() as cursor:
        cursor.execute("SELECT pg_has_role('pg_read_all_stats', 'MEMBER')")
        assert cursor.fetchone()[0], "run scripts/setup.sh: the owner must see other roles' sessions"

    def running() -> int:
        with owner_conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND state = 'active'", [pid])
            return cursor.fetchone()[0]

    assert running() == 1
    jobs.abort(Job.objects.get(id=job.id))
    time.sleep(2)
    job.refresh_from_db()
    assert job.phase == Phase.ABORTED and not job.result_file, "a finishing worker never overwrites ABORTED"
    assert running() == 0, "the query stopped in PostgreSQL, not just in Celery"
