"""The sweeps Celery beat runs over every kind of job: what a dead worker, a lost broker
message or the passing of time leaves behind is put right here."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone as djtz

from vo_services.jobs.executor import STUCK_AFTER_S
from vo_services.jobs.persistence import JobKind, Phase, fail, set_phase

# A QUEUED job no worker took for this long has lost its broker message (a Redis restart): sent
# again. Short in the fault tests, which restart their own Redis.
LOST_AFTER_S = float(os.environ.get("LICK_JOB_LOST_AFTER", "120"))


def fail_stuck(kind: JobKind, message: str, stuck_after_s: float = STUCK_AFTER_S,
               then: Callable[[object], None] | None = None, **fields) -> int:
    """EXECUTING jobs without a heartbeat for ``stuck_after_s`` (their worker died) become ERROR;
    ``then(job)`` runs for each, with the row as it was (a TAP job's query is cancelled)."""
    cutoff = djtz.now() - timedelta(seconds=stuck_after_s)
    count = 0
    for job in list(kind.rows().filter(phase=Phase.EXECUTING, heartbeat__lt=cutoff)):
        if fail(kind, job.id, message, **fields):
            if then:
                then(job)
            count += 1
    return count


def requeue_lost(kind: JobKind, send: Callable[[object], None], after_s: float = LOST_AFTER_S) -> int:
    """QUEUED jobs whose message the broker lost (a Redis restart) are sent again by ``send``.
    The heartbeat of a QUEUED job is the time its message was last sent."""
    cutoff = djtz.now() - timedelta(seconds=after_s)
    lost = list(kind.rows().filter(phase=Phase.QUEUED, heartbeat__lt=cutoff))
    for job in lost:
        kind.rows().filter(id=job.id, phase=Phase.QUEUED).update(heartbeat=djtz.now())
        send(job)
    return len(lost)


def due(kind: JobKind, moment_field: str, now: datetime | None = None,
        phases: Iterable[str] | None = None) -> QuerySet:
    """The jobs (in ``phases``, if given) whose ``moment_field`` time has passed."""
    rows = kind.rows().filter(**{f"{moment_field}__lte": now or djtz.now()})
    return rows.filter(phase__in=list(phases)) if phases is not None else rows


def archive(kind: JobKind, rows: QuerySet) -> int:
    """UWS 1.1 §2.1.3 ARCHIVED: COMPLETED jobs among ``rows`` lose their results but keep their
    record."""
    count = 0
    for job_id in list(rows.values_list("id", flat=True)):
        if set_phase(kind, job_id, (Phase.COMPLETED,), Phase.ARCHIVED):
            kind.remove_files(job_id)
            count += 1
    return count


def destroy(kind: JobKind, rows: QuerySet) -> int:
    """The jobs ``rows`` and their files disappear (UWS 1.1 §2.1.5 destruction)."""
    job_ids = list(rows.values_list("id", flat=True))
    for job_id in job_ids:
        kind.remove_files(job_id)
    kind.rows().filter(id__in=job_ids).delete()
    return len(job_ids)
