"""Whether a caller may have one more async job running: the limits on jobs in flight per user
and per anonymous address, checked and queued as one step.

UWS 1.1 §2.2.3: a service may refuse to run a job; a refused one stays PENDING (429 on TAP).
Each limit is set by a ``LICK_*`` variable (README); 0 turns it off.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction

from archive.config import configured_int as configured
from vo_services.advisory import lock_for_transaction
from vo_services.tap.models import ACTIVE_PHASES, Job

#: Async jobs QUEUED or EXECUTING at once.
JOBS_PER_USER = configured("LICK_ASYNC_JOBS_PER_USER", 10)
JOBS_PER_ADDRESS = configured("LICK_ASYNC_JOBS_PER_ADDRESS", 5)  # anonymous jobs, per client address


def too_many_jobs(owner: str | None, address: str | None) -> str | None:
    """Why one more job may not run now, naming the limit; None when it may."""
    if owner is not None:
        limit, mine, whose = JOBS_PER_USER, Job.objects.filter(owner=owner), f"user {owner}"
    else:
        limit, mine, whose = JOBS_PER_ADDRESS, Job.objects.filter(owner=None, origin=address), "an anonymous address"
    if limit <= 0 or address is None and owner is None:
        return None
    if mine.filter(phase__in=ACTIVE_PHASES).count() < limit:
        return None
    variable = "LICK_ASYNC_JOBS_PER_USER" if owner is not None else "LICK_ASYNC_JOBS_PER_ADDRESS"
    return (f"LimitExceeded: {whose} may have at most {limit} async jobs QUEUED or EXECUTING "
            f"({variable}); wait for one to finish or abort one")


@contextmanager
def job_admission(owner: str | None, address: str | None) -> Iterator[str | None]:
    """A transaction in which one more job of ``owner`` (or of the anonymous ``address``) may be
    queued: yields why not (:func:`too_many_jobs`), or None, and the caller queues the job inside.

    Parallel submissions of one user (or address) pass through here one at a time, under an
    advisory lock named after them (:mod:`vo_services.advisory`): the next count then sees the
    job this one queued, and no burst of requests gets past the limit by counting at once.
    """
    whose = f"lick.jobs.user:{owner}" if owner is not None else f"lick.jobs.address:{address}"
    with transaction.atomic():
        lock_for_transaction(whose)
        yield too_many_jobs(owner, address)
