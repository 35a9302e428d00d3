"""Celery tasks of async TAP: the job executor, and the beat tasks that keep the job list sane.

Thin: the bodies are the job core's (:mod:`vo_services.jobs`); the worker loads this module by
name (:mod:`lick.worker`) and the web sends ``run_job`` by name, so nothing imports it but tests.
"""
from __future__ import annotations

from celery.exceptions import SoftTimeLimitExceeded

from archive.broker import app
from vo_services.jobs import executor, manager
from vo_services.tap import jobs
from vo_services.tap.execution import JobFailed, run_to_file
from vo_services.tap.models import Job


def _work(job: Job) -> dict:
    return {**run_to_file(job), "backend_pid": None}


def _explain(job: Job, exc: Exception) -> str | None:
    if isinstance(exc, JobFailed):
        return str(exc)
    if isinstance(exc, SoftTimeLimitExceeded):
        return f"the query ran longer than the job's execution duration ({job.execution_duration} s)"
    return None


@app.task(name=jobs.KIND.task, acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: str) -> str:
    """Run one job: QUEUED to EXECUTING, the query to a result file, then COMPLETED or ERROR."""
    return executor.execute(jobs.KIND, job_id, _work, _explain)


def _cancel_query(job: Job) -> None:
    if job.backend_pid:
        jobs.cancel_backend(job.backend_pid)


@app.task
def recover_stuck_jobs() -> int:
    """Jobs left EXECUTING by a worker that died (SIGKILL, power loss) become ERROR."""
    return manager.fail_stuck(jobs.KIND, "the worker running this job stopped; please run the query again",
                              then=_cancel_query, error_type="transient")


@app.task
def requeue_lost_jobs(after_s: float = manager.LOST_AFTER_S) -> int:
    """QUEUED jobs whose message the broker lost (a Redis restart) are sent again."""
    return manager.requeue_lost(jobs.KIND, jobs.enqueue, after_s)


@app.task
def destroy_expired_jobs() -> int:
    """UWS §2.1.5: jobs past their destruction time disappear with their results (a running
    one is aborted first)."""
    expired = list(manager.due(jobs.KIND, "destruction"))
    for job in expired:
        jobs.delete(job)
    return len(expired)
