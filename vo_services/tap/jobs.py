"""The UWS job manager: creating jobs and moving them between phases, safely.

Every phase change is a compare-and-set UPDATE (``WHERE phase IN (...)``), so that an ABORT or
DELETE can never be overwritten by a worker that finishes at the same moment, and two requests
to RUN the same job queue it once.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from django.db import connection
from django.utils import timezone as djtz

from vo_services import limits
from vo_services.tap.models import ACTIVE_PHASES, Job, Phase

log = logging.getLogger(__name__)

# UWS parameters of the job itself, not of the query.
CONTROL_PARAMETERS = {"PHASE", "RUNID", "EXECUTIONDURATION", "DESTRUCTION", "ACTION"}


class JobStateError(Exception):
    """An action the job's phase does not allow (UWS §2.2: answered with 403)."""


def set_phase(job_id: str, from_phases: Iterable[str], to_phase: str, **fields) -> bool:
    """Compare-and-set: move the job to ``to_phase`` only if it is in one of ``from_phases``."""
    return Job.objects.filter(id=job_id, phase__in=list(from_phases)).update(phase=to_phase, **fields) == 1


def create(owner: str | None, parameters: list[tuple[str, str]]) -> Job:
    """A new PENDING job. TAP 1.1 §2.7: the query is not looked at until the job runs."""
    now = djtz.now()
    job = Job(owner=owner, execution_duration=limits.ASYNC_EXECUTION_S.default,
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
    except ValueError:
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
    except ValueError:
        raise ValueError(f"DESTRUCTION must be an ISO 8601 time, not '{value}'") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    created = job.creation_time or djtz.now()
    job.destruction = min(moment, created + timedelta(seconds=limits.RETENTION_S.hard))
    if save:
        job.save(update_fields=["destruction"])


def run(job: Job) -> None:
    """PENDING (or HELD) to QUEUED, then hand the job to a Celery worker."""
    if job.phase in ACTIVE_PHASES or job.phase == Phase.COMPLETED:
        return  # running it again changes nothing (taplint runs jobs twice)
    if not set_phase(job.id, (Phase.PENDING, Phase.HELD), Phase.QUEUED, heartbeat=djtz.now()):
        raise JobStateError(f"job {job.id} is {job.phase}: only a PENDING job can be run")
    enqueue(job)


def enqueue(job: Job) -> None:
    """Send a QUEUED job to the workers. Sending it twice is harmless: only one run can move it
    from QUEUED to EXECUTING. If the broker is down, requeue_lost_jobs sends it later."""
    from vo_services.tap.tasks import run_job

    duration = job.execution_duration or limits.ASYNC_EXECUTION_S.hard
    try:
        result = run_job.apply_async((job.id,), soft_time_limit=duration, time_limit=duration + 30)
    except Exception as exc:  # noqa: BLE001  (kombu raises many kinds of connection errors)
        log.warning("job %s queued but not sent to the workers yet: %s", job.id, exc)
        return
    Job.objects.filter(id=job.id).update(task_id=result.id)


def abort(job: Job) -> None:
    """UWS §2.2.3.6: stop the job; its query is cancelled in PostgreSQL, not just in Celery."""
    if not set_phase(job.id, (Phase.PENDING, Phase.QUEUED, Phase.EXECUTING, Phase.HELD), Phase.ABORTED,
                     end_time=djtz.now()):
        if job.phase in (Phase.COMPLETED, Phase.ERROR, Phase.ABORTED):
            return  # nothing left to stop
        raise JobStateError(f"job {job.id} is {job.phase} and cannot be aborted")
    stop_execution(job)


def stop_execution(job: Job) -> None:
    from archive.worker import app

    job.refresh_from_db(fields=["task_id", "backend_pid"])
    if job.task_id:
        app.control.revoke(job.task_id)
    if job.backend_pid:
        cancel_backend(job.backend_pid)


def cancel_backend(pid: int) -> None:
    """pg_cancel_backend as the owner role, which may signal the query role's sessions."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_cancel_backend(%s)", [pid])


def delete(job: Job) -> None:
    """UWS §2.2.3.2: the job and its results disappear; a running query is cancelled first."""
    from vo_services.tap.results import remove_result

    if job.phase in ACTIVE_PHASES:
        set_phase(job.id, ACTIVE_PHASES, Phase.ABORTED, end_time=djtz.now())
        stop_execution(job)
    remove_result(job)
    job.delete()


def destroy_expired(now: datetime | None = None) -> int:
    """Delete the jobs whose destruction time has passed (run by Celery beat)."""
    expired = Job.objects.filter(destruction__lte=now or djtz.now())
    count = 0
    for job in expired:
        delete(job)
        count += 1
    return count
