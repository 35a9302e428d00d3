"""Running jobs: sending one to the workers by task name, and the body of the task that runs it.

Redis is only the broker: a job is QUEUED in PostgreSQL before its message is sent, so a broker
that is down or loses the message loses no work (the manager sends QUEUED jobs again), and a
message delivered twice runs the job once (only one run moves it from QUEUED to EXECUTING).
"""
from __future__ import annotations

import errno
import logging
import os
import threading
from collections.abc import Callable

from django.db import connection
from django.utils import timezone as djtz

from archive.broker import app
from vo_services.jobs.persistence import JobKind, Phase, beat, fail, set_phase

log = logging.getLogger(__name__)

# An EXECUTING job whose heartbeat is older than this lost its worker (SIGKILL, power cut).
STUCK_AFTER_S = float(os.environ.get("LICK_JOB_STUCK_AFTER", "60"))
HEARTBEAT_S = min(10.0, STUCK_AFTER_S / 4)


def enqueue(kind: JobKind, job_id: str, **options) -> str | None:
    """Send a QUEUED job's task by name; its Celery task id, or None when the broker is down
    (the job stays QUEUED and :func:`~vo_services.jobs.manager.requeue_lost` sends it later)."""
    try:
        return app.send_task(kind.task, (job_id,), **options).id
    except Exception as exc:  # noqa: BLE001  (kombu raises many kinds of connection errors)
        log.warning("%s %s queued but not sent to the workers yet: %s", kind.model.__name__, job_id, exc)
        return None


def revoke(task_id: str) -> None:
    """Tell the workers to drop a task not started yet (a started one stops by its phase)."""
    app.control.revoke(task_id)


class Heartbeat(threading.Thread):
    """Touches a running job's heartbeat every HEARTBEAT_S, so that a killed worker is noticed."""

    def __init__(self, kind: JobKind, job_id: str):
        super().__init__(daemon=True, name=f"heartbeat-{job_id}")
        self.kind, self.job_id = kind, job_id
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(HEARTBEAT_S):
                beat(self.kind, self.job_id)
        finally:
            connection.close()  # this thread's own Django connection


#: What a job's user reads when its result did not fit on the disk (the operator reads the log).
STORAGE_FULL = "TransientFault: the archive's storage for results is full; please try again later"


def _storage_full(kind: JobKind, job_id: str, exc: Exception) -> str | None:
    """ENOSPC or EDQUOT while the result was written (tests/test_faults_io.py): the user's job is
    not at fault and may succeed later, and the operator needs one clear line, not a traceback."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        log.error("%s %s failed: no space left for its result (%s)", kind.model.__name__, job_id, exc)
        return STORAGE_FULL
    return None


def execute(kind: JobKind, job_id: str, work: Callable[[object], dict],
            explain: Callable[[object, Exception], str | None], keep_alive: bool = True) -> str:
    """The body of a job's task: QUEUED to EXECUTING, ``work(job)`` (which returns the columns
    its result sets), then COMPLETED; ERROR with ``explain(job, exc)`` as the summary when the work
    raises (an exception ``explain`` does not know, returning None, is logged and summarised as
    the kind's internal error). With ``keep_alive`` a thread beats while the work runs; without, the work
    beats itself (as a bundle does when it records its progress)."""
    now = djtz.now()
    if not set_phase(kind, job_id, (Phase.QUEUED,), Phase.EXECUTING, start_time=now, heartbeat=now):
        return "not queued (aborted, deleted or run already)"
    job = kind.rows().get(id=job_id)
    heartbeat = Heartbeat(kind, job_id) if keep_alive else None
    if heartbeat:
        heartbeat.start()
    try:
        outcome = work(job)
    except Exception as exc:  # noqa: BLE001  (whatever happens, the user gets a clean ERROR)
        message = explain(job, exc) or _storage_full(kind, job_id, exc)
        if message is None:
            log.exception("%s %s failed", kind.model.__name__, job_id)
            message = kind.internal_error
        fail(kind, job_id, message)
        return f"ERROR: {message}"
    finally:
        if heartbeat:
            heartbeat.stopped.set()
    # Compare-and-set: an ABORT, DELETE or sweep that came meanwhile wins over the result.
    if not set_phase(kind, job_id, (Phase.EXECUTING,), Phase.COMPLETED, end_time=djtz.now(), **outcome):
        kind.remove_files(job_id)
        return "finished after it had been stopped: result discarded"
    return "COMPLETED"
