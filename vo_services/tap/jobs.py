"""TAP async jobs (UWS 1.1): creating them, their parameters, and the user's phase changes.

Phase changes, sending to the workers and the sweeps are the job core's
(:mod:`vo_services.jobs`); this module says what is particular to a TAP job: its UWS
parameters and limits, and that stopping one cancels its query in PostgreSQL.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from django.db import connection, transaction
from django.utils import timezone as djtz

from archive.config import get_settings
from vo_services import limits
from vo_services.jobs import executor
from vo_services.jobs.persistence import JobKind, set_phase
from vo_services.results.connections import cancel_on_query_servers
from vo_services.tap import results
from vo_services.tap.models import ACTIVE_PHASES, Job, Phase

KIND = JobKind(
    model=Job, task="vo_services.tap.tasks.run_job", remove_files=results.remove_files,
    internal_error="the query failed because of an internal error; it has been logged",
    # UWS 1.1 §2.2.2.5 errorSummary type; the query has ended, its backend is no longer this job's.
    failure_fields=lambda end: {"error_type": "fatal", "backend_pid": None},
)

# UWS parameters of the job itself, not of the query.
CONTROL_PARAMETERS = {"PHASE", "RUNID", "EXECUTIONDURATION", "DESTRUCTION", "ACTION"}


class JobStateError(Exception):
    """An action the job's phase does not allow (UWS §2.2: answered with 403)."""


def create(owner: str | None, parameters: list[tuple[str, str]], origin: str | None = None) -> Job:
    """A new PENDING job. TAP 1.1 §2.7: the query is not looked at until the job runs."""
    now = djtz.now()
    job = Job(owner=owner, origin=origin if owner is None else None, execution_duration=limits.ASYNC_EXECUTION_S.default,
              destruction=now + timedelta(seconds=limits.RETENTION_S.default))
    job.parameters = []
    add_parameters(job, parameters, save=False)
    job.quote = now + timedelta(seconds=job.execution_duration)
    job.save()
    return job


def add_parameters(job: Job, parameters: list[tuple[str, str]], save: bool = True) -> None:
    """UWS §2.2.3.1.1 / TAP §5.1.2: parameters accumulate; only while the job is PENDING."""
    if job.phase != Phase.PENDING:
        raise JobStateError(f"job {job.id} is {job.phase}: parameters can change only while PENDING")
    for name, value in parameters:
        upper = name.upper()
        if upper == "RUNID":
            job.run_id = value[:64]
        elif upper == "EXECUTIONDURATION":
            set_execution_duration(job, value, save=False)
        elif upper == "DESTRUCTION":
            set_destruction(job, value, save=False)
        elif upper not in CONTROL_PARAMETERS:
            job.parameters.append([upper, value])
    if save:
        job.save(update_fields=["parameters", "run_id", "execution_duration", "destruction", "quote"])


def set_execution_duration(job: Job, value: str, save: bool = True) -> None:
    """UWS §2.2.3.4: the service may clamp; 0 means 'as long as the service allows'."""
    try:
        seconds = int(float(value))
    except (ValueError, OverflowError):  # OverflowError: inf, 1e999
        raise ValueError(f"EXECUTIONDURATION must be a number of seconds, not '{value}'") from None
    if seconds < 0:
        raise ValueError("EXECUTIONDURATION must not be negative")
    if job.phase != Phase.PENDING:
        raise JobStateError(f"job {job.id} is {job.phase}: its execution duration can no longer change")
    job.execution_duration = limits.ASYNC_EXECUTION_S.clamp(seconds or None)
    job.quote = djtz.now() + timedelta(seconds=job.execution_duration)
    if save:
        job.save(update_fields=["execution_duration", "quote"])


def set_destruction(job: Job, value: str, save: bool = True) -> None:
    """UWS §2.2.3.3: clamped to the retention period from the job's creation."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # OverflowError: year 1 east of Greenwich is year 0 in UTC
        raise ValueError(f"DESTRUCTION must be an ISO 8601 time, not '{value}'") from None
    created = job.creation_time or djtz.now()
    job.destruction = min(moment, created + timedelta(seconds=limits.RETENTION_S.hard))
    if save:
        job.save(update_fields=["destruction"])


def run(job: Job) -> None:
    """PENDING (or HELD) to QUEUED, then hand the job to a Celery worker.

    Inside a transaction (the job limit's, :func:`vo_services.tap.admission.job_admission`) the
    task is sent once QUEUED is committed: a worker quicker than the commit would find the job
    still PENDING and drop it."""
    if job.phase in ACTIVE_PHASES or job.phase == Phase.COMPLETED:
        return  # running it again changes nothing (taplint runs jobs twice)
    if not set_phase(KIND, job.id, (Phase.PENDING, Phase.HELD), Phase.QUEUED, heartbeat=djtz.now()):
        raise JobStateError(f"job {job.id} is {job.phase}: only a PENDING job can be run")
    transaction.on_commit(lambda: enqueue(job))


def enqueue(job: Job) -> None:
    """Send a QUEUED job to the workers. Sending it twice is harmless: only one run can move it
    from QUEUED to EXECUTING. If the broker is down, requeue_lost_jobs sends it later."""
    duration = job.execution_duration or limits.ASYNC_EXECUTION_S.hard
    task_id = executor.enqueue(KIND, job.id, soft_time_limit=duration, time_limit=duration + 30)
    if task_id is not None:
        Job.objects.filter(id=job.id).update(task_id=task_id)


def abort(job: Job) -> None:
    """UWS §2.2.3.6: stop the job; its query is cancelled in PostgreSQL, not just in Celery."""
    if not set_phase(KIND, job.id, (Phase.PENDING, Phase.QUEUED, Phase.EXECUTING, Phase.HELD), Phase.ABORTED,
                     end_time=djtz.now()):
        if job.phase in (Phase.COMPLETED, Phase.ERROR, Phase.ABORTED):
            return  # nothing left to stop
        raise JobStateError(f"job {job.id} is {job.phase} and cannot be aborted")
    stop_execution(job)


def stop_execution(job: Job) -> None:
    job.refresh_from_db(fields=["task_id", "backend_pid"])
    if job.task_id:
        executor.revoke(job.task_id)
    if job.backend_pid:
        cancel_backend(job.backend_pid)


def cancel_backend(pid: int) -> None:
    """pg_cancel_backend as the owner role, which may signal the query role's sessions; on the
    read replicas too, when queries run there."""
    if get_settings().has_replicas:
        cancel_on_query_servers(pid)
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_cancel_backend(%s)", [pid])


def delete(job: Job) -> None:
    """UWS §2.2.3.2: the job and its results disappear; a running query is cancelled first."""
    if job.phase in ACTIVE_PHASES:
        set_phase(KIND, job.id, ACTIVE_PHASES, Phase.ABORTED, end_time=djtz.now())
        stop_execution(job)
    results.remove_files(job.id)
    job.delete()
