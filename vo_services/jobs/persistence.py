"""Jobs as rows: the UWS phases, compare-and-set phase changes, heartbeats, published results.

Every phase change is one ``UPDATE … WHERE id = %s AND phase IN (…)``: an ABORT, a DELETE or an
expiry can never be overwritten by a worker finishing at the same moment, and two requests to
run the same job queue it once. A result is written beside its final place and renamed into it
only when complete, so a reader never sees half a file.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from django.db import models
from django.utils import timezone as djtz


class Phase(models.TextChoices):
    """UWS 1.1 §2.1.3 execution phases."""

    PENDING = "PENDING"
    QUEUED = "QUEUED"
    EXECUTING = "EXECUTING"
    COMPLETED = "COMPLETED"
    ERROR = "ERROR"
    ABORTED = "ABORTED"
    UNKNOWN = "UNKNOWN"
    HELD = "HELD"
    SUSPENDED = "SUSPENDED"
    ARCHIVED = "ARCHIVED"


ACTIVE_PHASES = (Phase.QUEUED, Phase.EXECUTING)
FINAL_PHASES = (Phase.COMPLETED, Phase.ERROR, Phase.ABORTED, Phase.ARCHIVED)


def _no_fields(end: datetime) -> dict:
    return {}


def _nothing(job_id: str) -> None:
    return None


@dataclass(frozen=True)
class JobKind:
    """One kind of job, as the core sees it.

    ``model`` is a Django model with ``id``, ``phase``, ``start_time``, ``end_time``,
    ``error_summary`` and ``heartbeat`` columns; ``task`` the name of the Celery task that runs one
    job (sent by name, so that whoever queues a job need not import the task's module).
    """

    model: type[models.Model]
    task: str
    remove_files: Callable[[str], None]  # the job's result and any partial file, by job id
    internal_error: str  # the error summary when the work fails in an unforeseen way
    failure_fields: Callable[[datetime], dict] = _no_fields  # more columns to set on ERROR
    after_failure: Callable[[str], None] = _nothing  # clean-up once a job became ERROR

    def rows(self) -> models.QuerySet:
        return self.model.objects.all()


def set_phase(kind: JobKind, job_id: str, from_phases: Iterable[str], to_phase: str, **fields) -> bool:
    """Compare-and-set: move the job to ``to_phase`` only if it is in one of ``from_phases``."""
    return kind.rows().filter(id=job_id, phase__in=list(from_phases)).update(phase=to_phase, **fields) == 1


def beat(kind: JobKind, job_id: str, **progress) -> None:
    """A sign of life of a running job (and its progress, if any): the manager takes a job
    silent for too long for one whose worker died."""
    kind.rows().filter(id=job_id, phase=Phase.EXECUTING).update(heartbeat=djtz.now(), **progress)


def fail(kind: JobKind, job_id: str, message: str, **fields) -> bool:
    """EXECUTING to ERROR with ``message`` as its summary; False (and nothing cleaned up) if it
    had left EXECUTING meanwhile: a build that completed just now keeps its file."""
    end = djtz.now()
    failed = set_phase(kind, job_id, (Phase.EXECUTING,), Phase.ERROR, end_time=end, error_summary=message,
                       **{**kind.failure_fields(end), **fields})
    if failed:
        kind.after_failure(job_id)
    return failed


def temporary_for(final: Path) -> Path:
    """Where a result is written until complete: hidden, beside its final place (one file
    system, so the rename is atomic), and different for each attempt (a redelivered task)."""
    return final.with_name(f".{final.name}.{secrets.token_hex(4)}.partial")


def publish(temporary: Path, final: Path) -> int:
    """Rename a complete result into place; its size in bytes."""
    os.replace(temporary, final)
    return final.stat().st_size


@contextmanager
def result_file(final: Path) -> Iterator[BinaryIO]:
    """A file to write a result into, published at ``final`` when the block ends normally and
    deleted when it raises."""
    temporary = temporary_for(final)
    try:
        with temporary.open("wb") as out:
            yield out
        publish(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)
