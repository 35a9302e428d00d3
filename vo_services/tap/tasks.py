"""Celery tasks of async TAP: the job executor, and the beat tasks that keep the job list sane."""
from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vo_services.settings")
django.setup()

from celery.exceptions import SoftTimeLimitExceeded  # noqa: E402
from django.utils import timezone as djtz  # noqa: E402

from archive.worker import app  # noqa: E402
from vo_services.tap import jobs  # noqa: E402
from vo_services.tap.models import Job, Phase  # noqa: E402

log = logging.getLogger(__name__)

# An EXECUTING job whose heartbeat is older than this lost its worker (SIGKILL, power cut).
STUCK_AFTER_S = float(os.environ.get("LICK_JOB_STUCK_AFTER", "60"))
HEARTBEAT_S = min(10.0, STUCK_AFTER_S / 4)


class _Heartbeat(threading.Thread):
    """Touches the job's heartbeat while it runs, so a killed worker is noticed (recover_stuck_jobs)."""

    def __init__(self, job_id: str):
        super().__init__(daemon=True, name=f"heartbeat-{job_id}")
        self.job_id = job_id
        self.stopped = threading.Event()

    def run(self) -> None:
        from django.db import connection

        try:
            while not self.stopped.wait(HEARTBEAT_S):
                Job.objects.filter(id=self.job_id, phase=Phase.EXECUTING).update(heartbeat=djtz.now())
        finally:
            connection.close()


@app.task(acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: str) -> str:
    """Run one job: QUEUED to EXECUTING, the query to a result file, then COMPLETED or ERROR."""
    from vo_services.tap.execution import JobFailed, run_to_file

    now = djtz.now()
    if not jobs.set_phase(job_id, (Phase.QUEUED,), Phase.EXECUTING, start_time=now, heartbeat=now):
        return "not queued (aborted or deleted meanwhile)"
    job = Job.objects.get(id=job_id)
    heartbeat = _Heartbeat(job_id)
    heartbeat.start()
    try:
        outcome = run_to_file(job)
    except (JobFailed, SoftTimeLimitExceeded) as exc:
        message = str(exc) if isinstance(exc, JobFailed) else (
            f"the query ran longer than the job's execution duration ({job.execution_duration} s)")
        jobs.set_phase(job_id, (Phase.EXECUTING,), Phase.ERROR, end_time=djtz.now(),
                       error_summary=message, error_type="fatal", backend_pid=None)
        return f"ERROR: {message}"
    finally:
        heartbeat.stopped.set()
    # Compare-and-set: an ABORT or DELETE that came meanwhile wins over the result.
    if not jobs.set_phase(job_id, (Phase.EXECUTING,), Phase.COMPLETED, end_time=djtz.now(),
                          backend_pid=None, **outcome):
        from vo_services.tap.results import remove_result

        remove_result(job)
        return "finished after an abort: result discarded"
    return "COMPLETED"


@app.task
def recover_stuck_jobs() -> int:
    """Jobs left EXECUTING by a worker that died (SIGKILL, power loss) become ERROR."""
    cutoff = djtz.now() - timedelta(seconds=STUCK_AFTER_S)
    stuck = Job.objects.filter(phase=Phase.EXECUTING, heartbeat__lt=cutoff)
    count = 0
    for job in stuck:
        if jobs.set_phase(job.id, (Phase.EXECUTING,), Phase.ERROR, end_time=djtz.now(),
                          error_type="transient",
                          error_summary="the worker running this job stopped; please run the query again"):
            if job.backend_pid:
                jobs.cancel_backend(job.backend_pid)
            count += 1
    return count


@app.task
def requeue_lost_jobs(after_s: float = 120.0) -> int:
    """QUEUED jobs whose message the broker lost (a Redis restart) are sent again."""
    cutoff = djtz.now() - timedelta(seconds=after_s)
    lost = list(Job.objects.filter(phase=Phase.QUEUED, heartbeat__lt=cutoff))
    for job in lost:
        Job.objects.filter(id=job.id, phase=Phase.QUEUED).update(heartbeat=djtz.now())
        jobs.enqueue(job)
    return len(lost)


@app.task
def destroy_expired_jobs() -> int:
    """UWS §2.1.5: jobs past their destruction time disappear with their results."""
    return jobs.destroy_expired()
